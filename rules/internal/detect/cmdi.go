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
		"tracert", "ver", "vol", "systemctl", "lua", "awk", "gawk", "sed", "xargs",
		// Windows binaries that run or fetch code, and PowerShell aliases.
		"mshta", "rundll32", "regsvr32", "cscript", "wscript", "msiexec", "schtasks", "forfiles",
		"bcdedit", "vssadmin", "icacls", "takeown", "calc", "notepad", "iex", "iwr", "irm", "gci", "saps", "icm":
		return 2
	case "id", "ls", "dir", "cat", "type", "echo", "ping", "sleep", "pwd", "env",
		"set", "more", "less", "head", "tail", "kill", "find", "date", "time",
		"host", "dig", "which", "who", "w", "ps", "tar", "cp", "mv", "touch",
		"mkdir", "copy", "del", "print", "timeout", "exit", "start", "call",
		"export", "source", "eval", "exec", "nl", "od", "tac", "grep",
		"sort", "uniq", "base64", "file", "stat", "whois", "df", "du", "top",
		"free", "last", "lsof", "cut", "rev", "wc", "true", "false", "printf", "for", "gc", "sc":
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
	if m&(cQuote|cBslash|cDollar|cPlus|cCtl) != 0 || strings.IndexByte(l, '^') >= 0 || strings.IndexByte(l, '\t') >= 0 || m&cPct != 0 && strings.Contains(l, "%comspec%") {
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
		if c == '`' && strings.HasPrefix(n[i:], "```") {
			// A markdown code fence, not a command substitution.
			i += 2
			continue
		}
		if e, ok := commandAt(n, j); ok {
			if cmdiInText(n, l, i, j, e) {
				return lowHit(l, min(i, len(l)), min(e, len(l)), "command in prose")
			}
			return hit(l, min(i, len(l)), min(e, len(l)), "command after separator")
		}
	}
	return miss()
}

// shellNormalise appends l to dst the way a shell tokenises words: quotes,
// backslashes and carets dropped, ${ifs} and $ifs as a space, $@ $* and
// $0..$9 dropped, tabs as spaces, ${path:0:1} (and HOME, PWD) as '/',
// %comspec% as cmd.
func shellNormalise(dst []byte, l string) []byte {
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch c {
		case '\'', '"', '\\', '^':
			continue
		case '\t', '\v', '\f', '+':
			dst = append(dst, ' ')
			continue
		case '%':
			if strings.HasPrefix(l[i:], "%comspec%") {
				dst = append(dst, "cmd"...)
				i += 8
				continue
			}
		case '$':
			switch {
			case strings.HasPrefix(l[i:], "${path:0:1}"), strings.HasPrefix(l[i:], "${home:0:1}"), strings.HasPrefix(l[i:], "${pwd:0:1}"):
				// The first character of PATH, HOME or PWD is a slash.
				dst = append(dst, '/')
				i = strings.IndexByte(l[i:], '}') + i
				continue
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
// and grouping characters) and returns where the match ends. Besides the
// known commands it accepts a path spelled with glob characters
// (/???/c?t, /bin/c[a]t), a PowerShell cmdlet (verb-noun with a known
// verb), a PowerShell environment variable ($env:name) and a .NET static
// call ([System.IO.File]::).
func commandAt(n string, i int) (int, bool) {
	i = skip(n, i, " ({!")
	s := i
	glob := false
	for i < len(n) && (isWord(n[i]) || n[i] == '.' || n[i] == '/' || n[i] == '-' || n[i] == ':' || n[i] == '?' || n[i] == '*' || n[i] == '[' || n[i] == ']') {
		switch n[i] {
		case '?', '*', '[':
			glob = true
		}
		i++
	}
	word := n[s:i]
	if glob && strings.HasPrefix(word, "/") && strings.Count(word, "/") >= 2 {
		return i, true
	}
	if psCommand(word) {
		return i, true
	}
	if strings.HasPrefix(n[s:], "$env:") && s+5 < len(n) && isWord(n[s+5]) {
		return s + 5, true
	}
	if s < len(n) && n[s] == '[' {
		if k := strings.Index(ahead(n, s), "]::"); k > 1 && !strings.ContainsAny(n[s+1:s+k], " ;|&") {
			return s + k + 3, true
		}
	}
	if glob {
		word = strings.TrimRight(word, "?*[]")
	}
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
		if shellArgs(n, i) {
			return i, true
		}
		// A launcher word before a command: start calc, call whoami.
		if j := skip(n, i, " "); j > i && j < len(n) {
			k := j
			for k < len(n) && (isWord(n[k]) || n[k] == '.') {
				k++
			}
			if commandKind(strings.TrimSuffix(n[j:k], ".exe")) == 2 {
				return k, true
			}
		}
		return i, false
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
	case strings.IndexByte(";|&`)}<>\n\r-/~$.%*#", c) >= 0:
		return true
	case c >= '0' && c <= '9':
		return true
	case c >= 'a' && c <= 'z' && i+1 < len(n) && n[i+1] == ':':
		return true // a Windows drive
	}
	// A word argument followed, within the command, by a redirection to
	// a file or descriptor: echo x>/tmp/a, cat x 2>&1.
	for k := i; k < min(len(n), i+64); k++ {
		switch n[k] {
		case ';', '|', '&', '\n', '\r':
			return false
		case '>', '<':
			j := skip(n, k+1, " >&")
			return j < len(n) && (n[j] == '/' || n[j] == '~' || n[j] >= '0' && n[j] <= '9' || n[k+1] == '&')
		}
	}
	return false
}

// psVerbs are the approved PowerShell verbs that start cmdlets used in
// injections.
var psVerbs = [...]string{"get-", "set-", "new-", "invoke-", "start-", "stop-", "remove-", "add-", "out-",
	"import-", "export-", "convertto-", "convertfrom-", "write-", "read-", "copy-", "move-", "clear-",
	"register-", "test-", "enable-", "disable-", "expand-", "compress-", "resolve-"}

// psCommand reports a PowerShell cmdlet name: a known verb, a hyphen and
// a noun of letters (Get-ChildItem, Invoke-WebRequest).
func psCommand(w string) bool {
	for _, v := range psVerbs {
		if len(w) > len(v)+2 && strings.HasPrefix(w, v) {
			for i := len(v); i < len(w); i++ {
				if c := w[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
					return false
				}
			}
			return true
		}
	}
	return false
}

// cmdiInText reports a command found after the separator at n[i] (the
// command n[j:e]) that belongs to ordinary writing rather than to an
// injection: in a value that reads as prose, a markdown code span
// (`...`), a separator past the first words, or a command without shell
// arguments ("Go & PowerShell — a guide"); and a pipe inside a markdown
// table. A command substitution $( ) is never text.
func cmdiInText(n, l string, i, j, e int) bool {
	c := n[i]
	if c == '$' {
		return false
	}
	if c == '|' && (strings.Contains(n, "|---") || strings.Contains(n, "| ---") || strings.Contains(n, "|:--")) {
		return true
	}
	if !proseLike(l) {
		return false
	}
	// Padding an injection with prose does not lower it when the
	// command reaches for a system file, the network or a shell.
	seg := ahead(n, j)
	if k := strings.IndexAny(seg, ";|&\n`"); k >= 0 {
		seg = seg[:k]
	}
	seg = seg[:min(len(seg), 96)]
	if hasTarget(strings.ReplaceAll(seg, "\\", "/")) || strings.Contains(seg, "/dev/tcp") || strings.Contains(seg, "://") ||
		strings.Contains(seg, " -c ") || strings.Contains(seg, " -e ") || ipLike(seg) {
		return false
	}
	if c == '`' || wordsIn(n[:i]) >= 3 {
		return true
	}
	k := skip(n, e, " ")
	if k >= len(n) {
		return false
	}
	switch n[k] {
	case '-', '/', '~', '$', '>', '<', '|', ';', '&', '\\', '%', '"', '\'':
		return false
	}
	return !(n[k] >= '0' && n[k] <= '9')
}

// ipLike reports a dotted IPv4-looking number (d.d.d.d) in s.
func ipLike(s string) bool {
	dots, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && digits > 0:
			dots++
			digits = 0
		default:
			if dots == 3 && digits > 0 {
				return true
			}
			dots, digits = 0, 0
		}
	}
	return dots == 3 && digits > 0
}
