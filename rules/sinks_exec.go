package rules

import (
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/shtok"
)

// minExecInput is the shortest input the exec guard correlates: "|w" and
// ";w" already run a program.
const minExecInput = 2

// CheckCommand reports whether running program with args (argv[1:]) is
// allowed. program is the executable as resolved (an absolute path) or as
// named; sinks.exec.allow entries match it by absolute path or base name.
//
// In order, it finds:
//   - RuleExecDeny: sinks.exec denies programs ("exec: deny") and program
//     is not in its allow list;
//   - RuleCmdiSink: an input chose the program — it is the program's
//     path, a part of it with a slash ("/srv/tools/" + "../../bin/sh"),
//     or the base name of a program that runs code, reaches the network
//     or rewrites files (sh, python3, curl, find, ...), unless
//     sinks.exec.allow names the program;
//   - RuleCmdiSink: an input inside the code an interpreter runs from
//     its command line (awk's program, sed's script, perl/ruby -e,
//     python -c, node -e/-p, php -r, lua -e; through busybox or a
//     launcher too) that is the whole code or holds a byte that can end
//     a literal or start code there (see codeSafe);
//   - RuleCmdiSink: program is a shell (sh, bash, dash, zsh, ksh, ash,
//     mksh, busybox sh; or run by env, timeout, nice, nohup, xargs, ...)
//     with -c, and an input of at least 2 bytes
//     found in the script spans several shell tokens, one of them a
//     control operator (; & | && || newline), a redirection, a command
//     substitution ($(...), `...`), a comment or a command name;
//   - RuleArgiSink: an input that looks like an option ("-x", "--x")
//     is a whole argument of the program before any "--", or a whole
//     word of the shell script.
//
// An input that stays inside one shell word (quoted or not) is data.
func (s *Sinks) CheckCommand(program string, args []string, inputs []Field) SinkResult {
	if s == nil || s.execMode == ModeOff {
		return SinkResult{}
	}
	if s.execDeny && !s.execAllowed(program) {
		return found(s.execMode, RuleExecDeny, "program not allowed", nil, 0, 0)
	}
	if in := programFromInput(program, inputs); in != nil && !s.execAllowed(program) {
		return found(s.execMode, RuleCmdiSink, "input chooses the program", in, 0, len(in.Value))
	}
	if r := s.checkCode(program, args, inputs); r.Matched() {
		return r
	}
	script, scriptArg := shellScript(program, args)
	if scriptArg >= 0 {
		if r := s.checkScript(script, inputs); r.Matched() {
			return r
		}
		return SinkResult{}
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if !looksLikeOption(a) {
			continue
		}
		for i := range inputs {
			if inputs[i].Value == a {
				return found(s.execMode, RuleArgiSink, "input becomes an option", &inputs[i], 0, len(a))
			}
		}
	}
	return SinkResult{}
}

// execAllowed reports whether program is in sinks.exec.allow.
func (s *Sinks) execAllowed(program string) bool {
	if program == "" {
		return false
	}
	clean := path.Clean(program)
	for _, p := range s.execAllowPaths {
		if clean == p {
			return true
		}
	}
	base := path.Base(clean)
	for _, n := range s.execAllowNames {
		if base == n {
			return true
		}
	}
	return false
}

// shellScript returns the script a shell invocation runs with -c and its
// index in args, or -1 when program is not a shell or has no -c.
func shellScript(program string, args []string) (string, int) {
	base := path.Base(program)
	off := 0
	switch {
	case isShell(base):
	case base == "busybox" && len(args) > 0 && isShell(args[0]):
		off = 1
	case isLauncher(base):
		// env, timeout, nice, ... run their first operand that names a
		// shell: look for it among the first few arguments.
		for k := 0; k < len(args) && k < maxLauncherArgs; k++ {
			if isShell(path.Base(args[k])) {
				script, i := shellScript(args[k], args[k+1:])
				if i < 0 {
					return "", -1
				}
				return script, k + 1 + i
			}
		}
		return "", -1
	default:
		return "", -1
	}
	cflag := false
	i := off
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		if a[1] == '-' {
			continue // a long option: --login, --norc
		}
		for j := 1; j < len(a); j++ {
			switch a[j] {
			case 'c':
				cflag = cflag || a[0] == '-'
			case 'o', 'O':
				i++ // -o pipefail: the next argument is the option's name
			}
		}
	}
	if !cflag || i >= len(args) {
		return "", -1
	}
	return args[i], i
}

// maxLauncherArgs bounds how far into a launcher's arguments the shell
// is looked for.
const maxLauncherArgs = 8

// isLauncher reports whether name is a program that runs another one
// given as an argument.
func isLauncher(name string) bool {
	switch name {
	case "env", "timeout", "nice", "nohup", "setsid", "stdbuf", "time", "ionice", "chrt", "taskset", "sudo", "doas", "xargs", "flock":
		return true
	}
	return false
}

func isShell(name string) bool {
	switch name {
	case "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "rbash":
		return true
	}
	return false
}

// looksLikeOption reports whether a is "-x..." or "--x...": a dash
// followed by a letter or a second dash. "-", "-5" and "-.5" are not.
func looksLikeOption(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	c := a[1]
	return c == '-' || ('a' <= c|0x20 && c|0x20 <= 'z')
}

// shTokens pools token slices for shell scripts.
var shTokens = sync.Pool{New: func() any { s := make([]shtok.Token, 0, 64); return &s }}

// checkScript looks for inputs that span shell tokens of script.
func (s *Sinks) checkScript(script string, inputs []Field) SinkResult {
	var (
		buf  *[]shtok.Token
		toks []shtok.Token
	)
	defer func() {
		if buf != nil {
			*buf = toks[:0]
			shTokens.Put(buf)
		}
	}()
	var seen dedupe
	for i := range inputs {
		v := inputs[i].Value
		if len(v) < minExecInput || len(v) > len(script) || !strings.Contains(script, v) || seen.skip(v) {
			continue
		}
		var rule, reason string
		if _, capped := occurrences(script, v, func(at int) bool {
			if buf == nil {
				buf = shTokens.Get().(*[]shtok.Token)
				toks = shtok.Tokenize((*buf)[:0], script)
			}
			rule, reason = shellInjection(script, toks, at, at+len(v))
			return rule != ""
		}); capped {
			rule, reason = RuleCmdiSink, reasonTooMany
		}
		if rule != "" {
			return found(s.execMode, rule, reason, &inputs[i], 0, len(v))
		}
	}
	return SinkResult{}
}

// shellInjection examines the input at script[a:b] and returns the rule
// and reason when it is an injection.
func shellInjection(script string, toks []shtok.Token, a, b int) (rule, reason string) {
	n := 0
	harm := false
	option := false
	// Tokens are ordered and disjoint: start at the first that ends
	// after a.
	first := sort.Search(len(toks), func(i int) bool { return toks[i].End > a })
	for _, t := range toks[first:] {
		if t.Start >= b {
			break
		}
		n++
		switch t.Kind {
		case shtok.Control, shtok.Redirect, shtok.SubstOpen, shtok.SubstClose, shtok.Comment, shtok.Command, shtok.Keyword:
			harm = true
		case shtok.Word:
			// The word starts with the input, or with a quote and then
			// the input: "-x" is an option to the program too.
			if t.Start == a || (t.Start == a-1 && (script[t.Start] == '"' || script[t.Start] == '\'')) {
				option = option || looksLikeOption(script[a:b])
			}
		}
	}
	switch {
	case n > 1 && harm:
		return RuleCmdiSink, "input spans shell tokens"
	case option:
		return RuleArgiSink, "input becomes an option"
	}
	return "", ""
}
