package detect

import (
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/decode"
)

// cmdi detects OS command injection: a shell separator or substitution
// (; | || & && newline `...` $(...) <(...)) followed by a command word; a
// command at the very start of the value given with a binary directory
// (/usr/bin/id) or directly followed by a separator (id;); calls of the
// usual command- and code-execution functions (system(, exec(, passthru(,
// shell_exec(, popen(, proc_open(, eval(, phpinfo(); the Shellshock
// function prefix "() {" at the start; server-side include <!--#exec.
//
// Before looking for command words the lower-case view is normalised the
// way a shell would read it: quotes, backslashes and caret escapes inside
// words are dropped (w'h'o\am^i is whoami), ${IFS} and $IFS become a space,
// positional parameters ($@, $9) vanish, '+' and tabs are spaces, and
// leading paths are ignored (/usr/bin/id is id, C:\Windows\System32\cmd.exe
// is cmd).
//
// Command words come in two groups. Strong ones (whoami, uname, wget,
// curl, nc, bash, powershell, ...) are rarely English and hit on their own
// after a separator. Weak ones (id, ls, cat, type, echo, ping, sleep, ...)
// are also English words, so they hit only when what follows looks like
// shell arguments: an option (-la), a path (/etc, C:\, ~), a variable, a
// number, another separator or the end of the value.
type cmdi struct{}

// Name implements Detector.
func (cmdi) Name() string { return "cmdi" }

// Category implements Detector.
func (cmdi) Category() string { return "cmdi" }

// cmdiTriggers are the classes of separators and substitutions.
const cmdiTriggers = cSemi | cPipe | cAmp | cTick | cCRLF | cDollar | cParen

// commandKind classifies a command word: 2 for strong commands, which
// are rarely English and hit after a separator on their own; 1 for weak
// ones, which are also English words and need shell-like arguments; 0
// for anything else.
func commandKind(w string) int {
	switch w {
	case "whoami", "uname", "ifconfig", "ipconfig", "netstat", "nslookup", "wget",
		"curl", "nc", "ncat", "netcat", "bash", "sh", "zsh", "ksh", "csh", "tcsh",
		"powershell", "pwsh", "cmd", "systeminfo", "sysinfo", "telnet", "python",
		"python2", "python3", "perl", "php", "ruby", "chmod", "chown", "crontab",
		"useradd", "tasklist", "taskkill", "certutil", "bitsadmin", "wmic",
		"mkfifo", "socat", "tftp", "sudo", "busybox", "netsh", "hostname",
		"getent", "net", "reg", "nohup", "xterm", "rm", "uptime", "lsb_release",
		"printenv", "passwd", "shutdown", "reboot", "killall", "pkill", "nmap",
		"scp", "ssh", "tcpdump", "iptables", "arp", "route", "traceroute",
		"tracert", "ver", "vol", "systemctl", "lua", "awk", "gawk", "sed", "xargs":
		return 2
	case "id", "ls", "dir", "cat", "type", "echo", "ping", "sleep", "pwd", "env",
		"set", "more", "less", "head", "tail", "kill", "find", "date", "time",
		"host", "dig", "which", "who", "w", "ps", "tar", "cp", "mv", "touch",
		"mkdir", "copy", "del", "print", "timeout", "exit", "start", "call",
		"export", "source", "eval", "exec", "nl", "od", "tac", "grep",
		"sort", "uniq", "base64", "file", "stat", "whois", "df", "du", "top",
		"free", "last", "lsof", "cut", "rev", "wc", "true", "false":
		return 1
	}
	return 0
}

// execCall finds a call of a command-execution function of the common
// server languages (system(, exec(, passthru(, shell_exec(, popen(,
// proc_open(, os.system(, Runtime.getRuntime().exec(, execSync(, ...) or
// a reference to child_process / subprocess, and returns its bounds or -1.
func execCall(l string) (int, int) {
	for off := 0; off < len(l); {
		k := strings.IndexByte(l[off:], '(')
		if k < 0 {
			break
		}
		p := off + k
		off = p + 1
		i := p
		for i > 0 && isWord(l[i-1]) {
			i--
		}
		switch l[i:p] {
		case "system", "exec", "passthru", "shell_exec", "popen", "proc_open", "pcntl_exec",
			"execsync", "spawnsync", "phpinfo", "phpversion", "eval", "assert", "create_function":
			return i, p + 1
		}
	}
	for _, s := range [...]string{"child_process", "subprocess."} {
		if i := strings.Index(l, s); i >= 0 {
			return i, i + len(s)
		}
	}
	return -1, -1
}

// shellMarkers are command-injection syntax that needs no command word:
// server-side include exec. The Shellshock function prefix "() {" counts
// at the start of the value (see Detect).
var shellMarkers = [...]string{"<!--#exec", "<!--#include"}

// Detect implements Detector.
func (cmdi) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	if m&cmdiTriggers == 0 {
		return miss()
	}
	l := sc.Lower()
	if m&cParen != 0 {
		if i, j := execCall(l); i >= 0 {
			return hit(l, i, j, "exec call")
		}
	}
	if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, "() {") || strings.HasPrefix(t, "(){") {
		return hit(t, 0, 4, "shellshock function definition")
	}
	if m&cAngle != 0 {
		for _, s := range shellMarkers {
			if i := strings.Index(l, s); i >= 0 {
				return hit(l, i, i+len(s), "shell syntax")
			}
		}
	}
	n := l
	if m&(cQuote|cBslash|cDollar|cPlus|cCtl) != 0 || strings.IndexByte(l, '^') >= 0 || strings.IndexByte(l, '\t') >= 0 {
		b := shellNormalise(sc.buf(), l)
		sc.keep(b)
		n = decode.String(b)
	}
	if e, ok := leadingCommand(n); ok {
		return hit(l, 0, min(e, len(l)), "command at start")
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		var j int
		switch {
		case c == ';' || c == '|' || c == '&' || c == '\n' || c == '\r' || c == '`':
			j = i + 1
			if j < len(n) && (n[j] == c) {
				j++
			}
		case c == '$' && i+1 < len(n) && n[i+1] == '(':
			j = i + 2
		case (c == '<' || c == '>') && i+1 < len(n) && n[i+1] == '(':
			j = i + 2
		default:
			continue
		}
		if e, ok := commandAt(n, j); ok {
			// A command quoted in a sentence ("run ls -la | less to
			// see") is shell, but not an injection: in prose, only a
			// command substitution or a separator within the first
			// words counts.
			if c != '`' && (c != '$' || n[i+1] != '(') && wordsIn(n[:i]) >= 3 && proseLike(l) {
				return lowHit(l, min(i, len(l)), min(e, len(l)), "command in prose")
			}
			return hit(l, min(i, len(l)), min(e, len(l)), "command after separator")
		}
	}
	return miss()
}

// shellNormalise appends l to dst the way a shell tokenises words: quotes,
// backslashes and carets dropped, ${ifs} and $ifs as a space, $@ $* and
// $0..$9 dropped, tabs as spaces.
func shellNormalise(dst []byte, l string) []byte {
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch c {
		case '\'', '"', '\\', '^':
			continue
		case '\t', '\v', '\f', '+':
			dst = append(dst, ' ')
			continue
		case '$':
			switch {
			case strings.HasPrefix(l[i:], "${ifs}"):
				dst = append(dst, ' ')
				i += 5
				continue
			case strings.HasPrefix(l[i:], "$ifs"):
				dst = append(dst, ' ')
				i += 3
				continue
			case i+1 < len(l) && (l[i+1] == '@' || l[i+1] == '*' || l[i+1] >= '0' && l[i+1] <= '9'):
				i++
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// commandAt reports whether a command word starts at n[i:] (after spaces
// and grouping characters) and returns where the match ends.
func commandAt(n string, i int) (int, bool) {
	i = skip(n, i, " ({!")
	s := i
	for i < len(n) && (isWord(n[i]) || n[i] == '.' || n[i] == '/' || n[i] == '-' || n[i] == ':') {
		i++
	}
	word := n[s:i]
	if k := strings.LastIndexAny(word, "/:"); k >= 0 {
		word = word[k+1:]
	}
	word = strings.TrimSuffix(word, ".exe")
	if word == "" {
		return 0, false
	}
	switch commandKind(word) {
	case 2:
		return i, true
	case 1:
		return i, shellArgs(n, i)
	}
	return 0, false
}

// leadingCommand reports a command at the very start of the normalised
// value that is either spelled with a binary directory (/usr/bin/id,
// /bin/ls -al) or directly followed by a separator (id;, ls|), and returns
// where it ends.
func leadingCommand(n string) (int, bool) {
	n0 := skip(n, 0, " \r\n")
	p := n[n0:]
	for _, dir := range [...]string{"/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/", "usr/bin/"} {
		if strings.HasPrefix(p, dir) {
			e, ok := commandAt(n, n0)
			if ok {
				return e, true
			}
			// The directory alone names a binary: /bin/<word> with
			// shell arguments after it.
			return e, false
		}
	}
	e, ok := commandAt(n, n0)
	if !ok || e >= len(n) {
		return 0, false
	}
	switch n[e] {
	case ';', '|', '\n', '&', '`':
		return e, true
	}
	return 0, false
}

// shellArgs reports whether n[i:] looks like the arguments of a command:
// the end of the value, a separator or redirection, or an argument that
// is an option, a path, a variable or a number.
func shellArgs(n string, i int) bool {
	if i < len(n) && isWord(n[i]) {
		return false
	}
	i = skip(n, i, " ,")
	if i >= len(n) {
		return true
	}
	switch c := n[i]; {
	case strings.IndexByte(";|&`)}<>\n\r-/~$.%*", c) >= 0:
		return true
	case c >= '0' && c <= '9':
		return true
	case c >= 'a' && c <= 'z' && i+1 < len(n) && n[i+1] == ':':
		return true // a Windows drive
	}
	return false
}
