package detect

import "strings"

// traversal detects path traversal and local file inclusion.
//
// It works on the path view: decoded until stable (%2e%2e%2f, %252e,
// %u002e, %c0%af and other overlong forms, fullwidth dots and slashes,
// \u002e, &#46;), lower case, backslashes turned into slashes. A hit is
//
//   - a ".." segment next to a separator (../, ..\, /.. at the end), or a
//     value that is only ".." (a path parameter);
//   - a NUL byte (raw or encoded) in a value that looks like a file name,
//     the classic extension-check bypass (file.php%00.jpg);
//   - an absolute or drive-relative reference to a well-known sensitive
//     file or directory: /etc/passwd, /proc/self/environ, c:/windows/,
//     win.ini, boot.ini, /var/task/, ~/.aws/credentials, .ssh/id_rsa, ...
//
// A bare word such as "passwd" or "windows" is not enough; the sensitive
// name must be reached through a separator.
type traversal struct{}

// Name implements Detector.
func (traversal) Name() string { return "traversal" }

// Category implements Detector.
func (traversal) Category() string { return "traversal" }

// sensitivePaths are file-system locations whose mention as a path is an
// attempt to read them. Each starts with a separator or a drive.
var sensitivePaths = [...]string{
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts", "/etc/issue",
	"/etc/master.passwd", "/etc/sudoers", "/etc/crontab", "/etc/hostname",
	"/etc/security/", "/etc/ssh/", "/etc/mysql/", "/etc/httpd/", "/etc/apache2/",
	"/etc/nginx/", "/etc/profile", "/etc/motd", "/etc/resolv.conf", "/etc/fstab",
	"/proc/self/", "/proc/version", "/proc/cmdline", "/proc/1/", "/proc/net/",
	"/proc/sched_debug", "/proc/mounts", "/var/task/", "/var/runtime/",
	"/opt/extensions/", "/var/log/", "/var/www/", "/var/lib/", "/root/",
	"/home/", "/usr/local/", "/.aws/", "/.ssh/", "/.bash_history", "/.env",
	"/.git/", "/.htaccess", "/.htpasswd", "/web-inf/", "/meta-inf/",
	"/windows/", "/winnt/", "/system32/", "/win.ini", "/boot.ini",
	"/system.ini", "/inetpub/", "/autoexec.bat", "c:/", "/usr/bin/",
	"/bin/sh", "/bin/bash", "/dev/tcp/", "/dev/null", "/tmp/",
}

// Detect implements Detector.
func (traversal) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	if m&(cDot|cSlash|cBslash) == 0 {
		return miss()
	}
	p := sc.Path()
	if p == ".." || p == "." && in.Source == "pathParams" {
		return hit(p, 0, len(p), "dot-dot segment")
	}
	for off := 0; off < len(p); {
		i := strings.Index(p[off:], "..")
		if i < 0 {
			break
		}
		i += off
		j := i + 2
		for j < len(p) && p[j] == '.' {
			j++
		}
		if j < len(p) && p[j] == '/' || j == len(p) && i > 0 && p[i-1] == '/' {
			return hit(p, i, j+1, "dot-dot segment")
		}
		off = j
	}
	if sc.SawNull() && m&cDot != 0 {
		return hit(p, 0, len(p), "null byte in file name")
	}
	if m&(cSlash|cBslash) != 0 {
		for _, s := range sensitivePaths {
			if i := strings.Index(p, s); i >= 0 && sensitiveAt(p, i, s) {
				return hit(p, i, i+len(s), "sensitive path")
			}
		}
	}
	return miss()
}

// sensitiveAt reports whether the sensitive path s found at p[i:] stands
// as a path: at the start of the value or of a file URL, after a
// separator-like character, or (for a drive) before a name.
func sensitiveAt(p string, i int, s string) bool {
	if s == "c:/" {
		// A drive letter must start a word and be followed by a name.
		return (i == 0 || !isWord(p[i-1])) && i+3 < len(p) && isWord(p[i+3])
	}
	if s == "/tmp/" || s == "/home/" || s == "/usr/local/" || s == "/var/log/" || s == "/var/www/" ||
		s == "/var/lib/" || s == "/root/" || s == "/dev/null" || s == "/usr/bin/" {
		// Common directories: only as the whole value's start, where the
		// value is itself a path.
		return i == 0 && !strings.Contains(p, "://")
	}
	end := i + len(s)
	if s[len(s)-1] != '/' && end < len(p) && isWord(p[end]) {
		return false // /etc/passwords.txt, /etc/hostnames
	}
	if i == 0 {
		return true
	}
	// Inside a URL path on some host, /etc/passwd is still an attempt; a
	// web path like /docs/windows/ is not.
	switch s {
	case "/windows/", "/winnt/", "/system32/", "/.git/", "/.env", "/web-inf/", "/meta-inf/",
		"/.ssh/", "/.aws/", "/home/":
		return !strings.Contains(p, "://")
	}
	return true
}
