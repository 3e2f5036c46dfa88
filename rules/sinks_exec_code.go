package rules

import (
	"path"
	"strings"
)

// minProgramInput is the shortest input that can name a program.
const minProgramInput = 2

// programFromInput returns the input that names program (its path, or
// its base name when that runs code, reaches the network or is a path
// the input spelled with a slash), or nil. A request that happens to
// hold the word "date" does not make running date an injection; a
// request that picks "sh", "python3" or "/tmp/x" does. Segments of the
// request path are left out: a route such as /tools/git names the
// program the application runs for it; a path parameter ({tool}) is
// still an input.
func programFromInput(program string, inputs []Field) *Field {
	base := path.Base(program)
	for i := range inputs {
		v := inputs[i].Value
		if len(v) < minProgramInput || inputs[i].Source == SourcePath {
			continue
		}
		switch {
		case strings.Contains(v, "/") && strings.Contains(program, v):
			return &inputs[i]
		case (v == program || v == base) && powerful(base):
			return &inputs[i]
		}
	}
	return nil
}

// powerful reports whether a program of that base name runs code it is
// given, reaches the network or rewrites files: the programs an input
// must not choose.
func powerful(base string) bool {
	if isShell(base) || isLauncher(base) || interpreter(base) != "" {
		return true
	}
	switch base {
	case "busybox", "toybox", "curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp", "telnet",
		"ftp", "tftp", "rsync", "openssl", "find", "tar", "zip", "unzip", "git", "make", "gdb", "vi", "vim",
		"ed", "less", "more", "man", "rm", "dd", "cp", "mv", "chmod", "chown", "ln", "tee", "install",
		"crontab", "at", "docker", "kubectl", "aws":
		return true
	}
	return false
}

// interpreter returns the language family of a program that runs code
// given on its command line ("awk", "sed", "perl", ...), or "".
func interpreter(base string) string {
	switch base {
	case "awk", "gawk", "mawk", "nawk":
		return "awk"
	case "sed", "gsed":
		return "sed"
	case "perl", "perl5":
		return "perl"
	case "ruby", "irb":
		return "ruby"
	case "node", "nodejs", "deno", "bun":
		return "node"
	case "php", "php-cli":
		return "php"
	case "lua", "luajit":
		return "lua"
	}
	if strings.HasPrefix(base, "python") || strings.HasPrefix(base, "pypy") {
		return "python"
	}
	if strings.HasPrefix(base, "php") || strings.HasPrefix(base, "perl5") || strings.HasPrefix(base, "ruby") || strings.HasPrefix(base, "lua5") {
		return interpreter(strings.TrimRight(strings.TrimRight(base, "0123456789."), "-"))
	}
	return ""
}

// codeArgs appends to dst the indices in args of the arguments that
// program (an interpreter: awk, sed, perl, python, ruby, node, php, lua,
// directly or through busybox or a launcher) runs as code, and of
// arguments with code attached to their flag ("-ecode"), as [start, end)
// byte offsets of the code within the argument encoded by codeSpan.
func codeArgs(dst []codeSpan, program string, args []string) []codeSpan {
	base := path.Base(program)
	switch {
	case base == "busybox" || base == "toybox":
		if len(args) > 0 {
			return shiftSpans(dst, codeArgs(nil, args[0], args[1:]), 1)
		}
		return dst
	case isLauncher(base):
		for k := 0; k < len(args) && k < maxLauncherArgs; k++ {
			b := path.Base(args[k])
			if interpreter(b) != "" || b == "busybox" {
				return shiftSpans(dst, codeArgs(nil, args[k], args[k+1:]), k+1)
			}
		}
		return dst
	}
	switch interpreter(base) {
	case "awk":
		return awkCode(dst, args)
	case "sed":
		return sedCode(dst, args)
	case "perl", "ruby":
		return flagCode(dst, args, "eE", "")
	case "python":
		return flagCode(dst, args, "c", "WXm")
	case "node":
		return flagCode(dst, args, "ep", "r")
	case "php":
		return flagCode(dst, args, "rBRE", "cdzf")
	case "lua":
		return flagCode(dst, args, "e", "l")
	}
	return dst
}

// codeSpan is code inside one argument: args[Arg][Start:End].
type codeSpan struct{ Arg, Start, End int }

func shiftSpans(dst, spans []codeSpan, by int) []codeSpan {
	for _, s := range spans {
		s.Arg += by
		dst = append(dst, s)
	}
	return dst
}

// flagCode finds code given to short flags in code (attached, "-ecode",
// or as the next argument, also at the end of a cluster: "-ne code"),
// and to their long forms --eval and --print; flags in withArg take an
// argument that is not code. The first operand ends the options.
func flagCode(dst []codeSpan, args []string, code, withArg string) []codeSpan {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return dst
		case strings.HasPrefix(a, "--eval=") || strings.HasPrefix(a, "--print="):
			dst = append(dst, codeSpan{i, strings.IndexByte(a, '=') + 1, len(a)})
			continue
		case a == "--eval" || a == "--print":
			if i+1 < len(args) {
				dst = append(dst, codeSpan{i + 1, 0, len(args[i+1])})
				i++
			}
			continue
		case strings.HasPrefix(a, "--"):
			continue
		case len(a) < 2 || a[0] != '-':
			return dst // the script or first operand: the rest are its arguments
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			if strings.IndexByte(code, c) >= 0 {
				if j+1 < len(a) {
					dst = append(dst, codeSpan{i, j + 1, len(a)})
				} else if i+1 < len(args) {
					dst = append(dst, codeSpan{i + 1, 0, len(args[i+1])})
					i++
				}
				break
			}
			if strings.IndexByte(withArg, c) >= 0 {
				if j+1 == len(a) {
					i++
				}
				break
			}
		}
	}
	return dst
}

// awkCode finds awk's program: the first operand, unless -f names a
// program file. -F, -v and -f take an argument.
func awkCode(dst []codeSpan, args []string) []codeSpan {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return append(dst, codeSpan{i + 1, 0, len(args[i+1])})
			}
			return dst
		case a == "-f" || a == "--file" || strings.HasPrefix(a, "-f") && len(a) > 2:
			return dst
		case a == "-F" || a == "-v" || a == "--assign" || a == "--field-separator":
			i++
		case strings.HasPrefix(a, "--source=") || strings.HasPrefix(a, "-e") && len(a) > 2:
			dst = append(dst, codeSpan{i, strings.IndexAny(a, "=e") + 1, len(a)})
		case a == "--source" || a == "-e":
			if i+1 < len(args) {
				dst = append(dst, codeSpan{i + 1, 0, len(args[i+1])})
				i++
			}
		case len(a) > 1 && a[0] == '-':
		default:
			return append(dst, codeSpan{i, 0, len(a)})
		}
	}
	return dst
}

// sedCode finds sed's scripts: every -e/--expression argument, else the
// first operand unless -f names a script file.
func sedCode(dst []codeSpan, args []string) []codeSpan {
	explicit := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if !explicit && i+1 < len(args) {
				return append(dst, codeSpan{i + 1, 0, len(args[i+1])})
			}
			return dst
		case a == "-e" || a == "--expression":
			explicit = true
			if i+1 < len(args) {
				dst = append(dst, codeSpan{i + 1, 0, len(args[i+1])})
				i++
			}
		case strings.HasPrefix(a, "--expression="):
			explicit = true
			dst = append(dst, codeSpan{i, len("--expression="), len(a)})
		case strings.HasPrefix(a, "-e") && len(a) > 2:
			explicit = true
			dst = append(dst, codeSpan{i, 2, len(a)})
		case a == "-f" || a == "--file" || strings.HasPrefix(a, "--file=") || strings.HasPrefix(a, "-f") && len(a) > 2:
			explicit = true
			if a == "-f" || a == "--file" {
				i++
			}
		case a == "-l" || a == "--line-length":
			i++
		case len(a) > 1 && a[0] == '-':
		default:
			if !explicit {
				return append(dst, codeSpan{i, 0, len(a)})
			}
		}
	}
	return dst
}

// codeSafe reports whether v, found inside interpreter code, can only be
// data there: letters, digits, blanks and . , _ - + = : @ and non-ASCII
// bytes. Quotes, brackets, braces, parentheses, $, `, ;, |, &, <, >, \,
// /, #, !, *, ?, %, ^, ~ and control bytes can end a literal, start a
// command, a regex or a substitution in one of the languages.
func codeSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c|0x20 && c|0x20 <= 'z', '0' <= c && c <= '9', c >= 0x80:
		case c == ' ' || c == '.' || c == ',' || c == '_' || c == '-' || c == '+' || c == '=' || c == ':' || c == '@':
		default:
			return false
		}
	}
	return true
}

// checkCode looks for inputs inside interpreter code: an input that is
// a whole code argument, or that holds a byte codeSafe refuses.
func (s *Sinks) checkCode(program string, args []string, inputs []Field) SinkResult {
	var buf [4]codeSpan
	spans := codeArgs(buf[:0], program, args)
	for _, sp := range spans {
		code := args[sp.Arg][sp.Start:sp.End]
		for i := range inputs {
			v := inputs[i].Value
			if len(v) < minExecInput || len(v) > len(code) {
				continue
			}
			if v == code {
				return found(s.execMode, RuleCmdiSink, "input is interpreter code", &inputs[i], 0, len(v))
			}
			if !codeSafe(v) && strings.Contains(code, v) {
				return found(s.execMode, RuleCmdiSink, "input in interpreter code", &inputs[i], 0, len(v))
			}
		}
	}
	return SinkResult{}
}
