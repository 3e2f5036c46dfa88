package detect

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// traversal detects path traversal and local file inclusion.
//
// It works on the path view: decoded until stable (%2e%2e%2f, %252e,
// %u002e, %c0%af and other overlong forms, fullwidth dots and slashes,
// \u002e, &#46;), lower case, backslashes and literal 0x2f/0x5c turned
// into slashes, 0x2e into a dot. A hit is
//
//   - a ".." segment next to a separator (../, ..\, /.. at the end), or a
//     path parameter that is only "..";
//   - a dot-dot unit repeated three times with any short separator the
//     decoder does not know (..2f..2f..2f), a dot-dot followed by an odd
//     separator that repeats or comes with encoding debris, or a run of
//     four or more dots before a sensitive file name (slashes stripped);
//   - encoding debris (a broken escape such as %9v or %%32, an invalid
//     UTF-8 byte, a control character, a literal 0x2f) together with a
//     sensitive file name (passwd, boot.ini, system32, ...);
//   - a NUL byte (raw or encoded) in a value that looks like a file name,
//     the classic extension-check bypass (file.php%00.jpg);
//   - a reference to a well-known sensitive file or directory (/etc/passwd,
//     /proc/self/environ, /windows/win.ini, /var/task/, ~/.aws/credentials,
//     ...), or an absolute path into a system directory that ends in a
//     configuration, log or credential file (/usr/local/apache2/conf/httpd.conf,
//     C:/mysql/data/my.ini).
//
// A bare word such as "passwd" or "windows" is not enough, and
// "/home/user/documents" or "C:\Users\Public" are ordinary paths.
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
	"/.aws/", "/.ssh/", "/.bash_history", "/.env",
	"/.git/", "/.htaccess", "/.htpasswd", "/web-inf/", "/meta-inf/",
	"/windows/", "/winnt/", "/system32/", "/win.ini", "/boot.ini",
	"/system.ini", "/inetpub/", "/autoexec.bat", "/bin/sh", "/bin/bash", "/dev/tcp/", "/dev/null",
}

// sensitiveTargets are file names that encoding fuzzers aim at; they count
// when the value also shows an odd encoding (see oddEncoding).
var sensitiveTargets = [...]string{
	"passwd", "shadow", "boot.ini", "win.ini", "system32", "system.ini",
	"environ", "hosts", "issue", "drivers", "index.js", ".htaccess",
	"web.config", "web.xml",
}

// oddEncoding reports whether the decoded path view still shows encoding
// debris that no ordinary value carries: a '%' that starts no valid
// escape, a control character, an invalid UTF-8 byte left over from an
// overlong form, or a literal 0x2e/0x2f/0x5c.
func oddEncoding(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			// "%9v", "%%32", "%qf": a percent sign that starts a broken
			// escape. "50% off" and a final "100%" are prose.
			if i+1 < len(p) && (isWord(p[i+1]) || p[i+1] == '%') && (i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2])) {
				return true
			}
		case c < ' ' && c != '\t':
			return true
		case c >= 0x80:
			if r, size := utf8.DecodeRuneInString(p[i:]); r == utf8.RuneError && size <= 1 {
				return true
			} else {
				i += size - 1
			}
		case c == '0' && i+3 < len(p) && p[i+1] == 'x' && p[i+2] == '2' && (p[i+3] == 'e' || p[i+3] == 'f'),
			c == '0' && i+3 < len(p) && p[i+1] == 'x' && p[i+2] == '5' && p[i+3] == 'c':
			return true
		}
	}
	return false
}

// hasTarget reports whether s names one of the sensitiveTargets.
func hasTarget(s string) bool {
	for _, t := range sensitiveTargets {
		if strings.Contains(s, t) {
			return true
		}
	}
	return false
}

// repeatedUnit reports the length of a unit "..X" (X one to four bytes,
// no dot and no space) that starts at p[i] and repeats at least three
// times in a row, as traversal fuzzers emit with a separator encoding the
// decoder does not know (..2f..2f..2f, ..%5c..%5c..%5c); 0 otherwise.
func repeatedUnit(p string, i int) int {
	for n := 3; n <= 6; n++ {
		if i+3*n > len(p) {
			break
		}
		u := p[i : i+n]
		if strings.IndexByte(u[2:], '.') >= 0 || strings.IndexByte(u[2:], ' ') >= 0 {
			continue
		}
		if p[i+n:i+2*n] == u && p[i+2*n:i+3*n] == u {
			return n
		}
	}
	return 0
}

// oddSeparator reports whether the byte at p[j], right after "..", is
// something other than prose would put there: not a letter, digit,
// space or common punctuation.
func oddSeparator(p string, j int) bool {
	c := p[j]
	if isWord(c) || c == ' ' || strings.IndexByte(".,!?'\")]}-:;*", c) >= 0 {
		return false
	}
	if c >= 0x80 {
		r, _ := utf8.DecodeRuneInString(p[j:])
		return r == utf8.RuneError || unicode.Is(unicode.Co, r) || unicode.IsSymbol(r)
	}
	return true
}

// sepAt returns the rune at p[j] and its width (0 at the end).
func sepAt(p string, j int) (rune, int) {
	if j >= len(p) {
		return 0, 0
	}
	return utf8.DecodeRuneInString(p[j:])
}

// systemRoots are top-level directories of system files.
var systemRoots = [...]string{
	"etc/", "proc/", "sys/", "var/", "usr/", "opt/", "root/", "boot/", "srv/",
	"private/etc/", "windows/", "winnt/", "inetpub/", "program files", "xampp/",
	"apache", "system32/",
}

// systemExts are file endings of configuration, log, key and database
// files.
var systemExts = [...]string{
	".conf", ".cnf", ".ini", ".inf", ".log", "_log", ".pdb", ".properties",
	".xml", ".yml", ".yaml", ".key", ".pem", ".sql", ".db", ".sqlite", ".bak",
	".php", ".htaccess", ".htpasswd", "passwd", "shadow", "hosts", "issue",
	"environ", "cmdline", "history", ".sam", ".dat", ".cfg", ".config",
}

// systemFile reports whether the whole path view p is an absolute path
// (/..., or a drive x:/...) into a system directory that ends in a
// configuration, log or credential file, and returns where it starts.
func systemFile(p string) (int, bool) {
	i := 0
	switch {
	case strings.HasPrefix(p, "/"):
		i = 1
	case len(p) > 3 && p[0] >= 'a' && p[0] <= 'z' && p[1] == ':' && p[2] == '/':
		i = 3
	case strings.HasPrefix(p, "file:///"):
		i = 8
	default:
		return 0, false
	}
	if strings.ContainsAny(p, " ?&=") && !strings.Contains(p, "program files") {
		return 0, false
	}
	root := false
	for _, r := range systemRoots {
		if strings.HasPrefix(p[i:], r) {
			root = true
			break
		}
	}
	if !root && i != 3 {
		return 0, false
	}
	for _, e := range systemExts {
		if strings.HasSuffix(p, e) {
			return 0, true
		}
	}
	return 0, false
}

// indexFold returns the index of the lower-case ASCII string sub in s,
// ignoring ASCII case, or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		k := 0
		for k < len(sub) {
			c := s[i+k]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[k] {
				break
			}
			k++
		}
		if k == len(sub) {
			return i
		}
	}
	return -1
}

// isHex reports a hexadecimal digit.
func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// Detect implements Detector.
func (traversal) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	if m&(cDot|cSlash|cBslash|cPct|cHigh|cCtl) == 0 && !strings.Contains(sc.Raw(), "0x") {
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
			// A relative path explained in a sentence ("include
			// ../config.h") is Low unless it climbs to a system file.
			if proseLike(p) && !hasTarget(ahead(p, j)) {
				return lowHit(p, i, j+1, "dot-dot segment in prose")
			}
			return hit(p, i, j+1, "dot-dot segment")
		}
		if j-i >= 4 && hasTarget(ahead(p, j)) {
			// A long dot run left when a filter stripped the slashes
			// (........etcpasswd).
			return hit(p, i, j, "dot run before a sensitive file")
		}
		if u := repeatedUnit(p, i); u > 0 {
			return hit(p, i, i+3*u, "repeated dot-dot unit")
		}
		if j == i+2 && j < len(p) && oddSeparator(p, j) {
			if _, w := sepAt(p, j); w > 0 && strings.Contains(ahead(p, j+w), p[i:j+w]) {
				return hit(p, i, j+w, "repeated dot-dot with odd separator")
			}
			if oddEncoding(p) {
				return hit(p, i, j+1, "dot-dot with odd encoding")
			}
		}
		off = j
	}
	if sc.SawNull() && (m&(cDot|cSlash|cBslash) != 0 || hasTarget(p)) {
		return hit(p, 0, len(p), "null byte in file name")
	}
	if m&(cPct|cHigh|cCtl) != 0 || strings.Contains(p, "0x") {
		for _, t := range sensitiveTargets {
			if i := strings.Index(p, t); i >= 0 && oddEncoding(p) {
				return hit(p, i, i+len(t), "odd encoding around sensitive file")
			}
			// Decoding can merge debris with the name; the raw value
			// still shows it.
			if i := indexFold(in.Value, t); i >= 0 && oddEncoding(p) {
				return hit(in.Value, i, i+len(t), "odd encoding around sensitive file")
			}
		}
	}
	if i, ok := systemFile(p); ok {
		return hit(p, i, len(p), "absolute path to a system file")
	}
	for off := 0; off < len(p); {
		k := strings.IndexByte(p[off:], '/')
		if k < 0 {
			break
		}
		i := off + k
		off = i + 1
		if i+1 >= len(p) {
			break
		}
		for _, s := range sensitiveBySecond[p[i+1]] {
			if strings.HasPrefix(p[i:], s) && sensitiveAt(p, i, s) {
				if proseLike(p) {
					return lowHit(p, i, i+len(s), "sensitive path in prose")
				}
				return hit(p, i, i+len(s), "sensitive path")
			}
		}
	}
	return miss()
}

// sensitiveBySecond indexes sensitivePaths by their second byte (the one
// after the leading '/'), so a value is checked at each of its slashes
// against a handful of candidates. It is computed once and never written
// afterwards.
var sensitiveBySecond = func() (t [256][]string) {
	for _, s := range sensitivePaths {
		t[s[1]] = append(t[s[1]], s)
	}
	return t
}()

// sensitiveAt reports whether the sensitive path s found at p[i:] stands
// as a path: at the start of the value or of a file URL, after a
// separator-like character, or (for a drive) before a name.
func sensitiveAt(p string, i int, s string) bool {
	if s == "/var/log/" || s == "/var/www/" || s == "/var/lib/" || s == "/root/" || s == "/dev/null" {
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
		"/.ssh/", "/.aws/":
		return !strings.Contains(p, "://")
	}
	return true
}
