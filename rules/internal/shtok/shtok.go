package shtok

// Kind is the lexical class of a token.
type Kind uint8

// The token kinds.
const (
	Word       Kind = iota // an argument, or a piece of one around a substitution
	Command                // the word in command position: the program that runs
	Assignment             // NAME=value before a command
	Keyword                // a reserved word in command position: if, then, do, {, !, ...
	Control                // ; & && | || |& ;; newline ( )
	Redirect               // [n]> [n]< >> << <<< <> >& <& >| &> &>>
	SubstOpen              // $( ` <( >( $((
	SubstClose             // the ) or ` that closes a substitution
	Comment                // # text up to the end of the line
)

var kindNames = [...]string{
	Word: "word", Command: "command", Assignment: "assignment", Keyword: "keyword", Control: "control",
	Redirect: "redirect", SubstOpen: "subst-open", SubstClose: "subst-close", Comment: "comment",
}

// String returns a short name for k.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Token is one token: its kind and byte range [Start, End) in the input.
type Token struct {
	Kind       Kind
	Start, End int
}

// Text returns the token's text in the input s it came from.
func (t Token) Text(s string) string { return s[t.Start:t.End] }

// MaxDepth bounds the nesting of substitutions.
const MaxDepth = 32

// Tokenize appends the tokens of the shell command string s to dst.
func Tokenize(dst []Token, s string) []Token {
	l := lexer{s: s, toks: dst}
	l.list(0)
	// Unclosed substitutions run to the end; an unmatched closer at the
	// top level is read as a control operator, so list returns only at
	// the end of the input.
	for l.i < len(l.s) {
		l.emit(Control, l.i, l.i+1)
		l.i++
		l.list(0)
	}
	return l.toks
}

type lexer struct {
	s     string
	i     int
	toks  []Token
	depth int
}

func (l *lexer) emit(k Kind, start, end int) {
	if end > start {
		l.toks = append(l.toks, Token{Kind: k, Start: start, End: end})
	}
}

// list reads commands until the terminator closes the current context
// (term is ')' for $( <( >( and subshells, '`' for backticks, 0 for the
// top level) and consumes the terminator.
func (l *lexer) list(term byte) {
	s := l.s
	cmdPos := true  // the next word is a command name
	target := false // the next word is a redirection target
	for l.i < len(s) {
		c := s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.i++
			continue
		case c == '\\' && l.i+1 < len(s) && s[l.i+1] == '\n':
			l.i += 2 // line continuation
			continue
		case term != 0 && c == term:
			l.emit(SubstClose, l.i, l.i+1)
			l.i++
			return
		case c == ')':
			if term == 0 {
				// An unmatched ')' at the top level: let Tokenize report it.
				return
			}
			// An unmatched ')' inside backticks.
			l.emit(Control, l.i, l.i+1)
			l.i++
			cmdPos, target = true, false
			continue
		case c == '#':
			end := l.i
			for end < len(s) && s[end] != '\n' {
				end++
			}
			l.emit(Comment, l.i, end)
			l.i = end
			continue
		case c == '\n':
			l.emit(Control, l.i, l.i+1)
			l.i++
			cmdPos, target = true, false
			continue
		case c == ';' || c == '&' || c == '|':
			n := 1
			if l.i+1 < len(s) {
				switch s[l.i : l.i+2] {
				case ";;", "&&", "||", "|&", ";&":
					n = 2
				case "&>":
					n = 2
					if l.i+2 < len(s) && s[l.i+2] == '>' {
						n = 3
					}
					l.emit(Redirect, l.i, l.i+n)
					l.i += n
					target = true
					continue
				}
			}
			l.emit(Control, l.i, l.i+n)
			l.i += n
			cmdPos, target = true, false
			continue
		case (c == '<' || c == '>') && l.i+1 < len(s) && s[l.i+1] == '(' && l.depth < MaxDepth:
			l.subst(l.i, 2, ')')
			cmdPos = false
			continue
		case c == '<' || c == '>' || (isDigit(c) && redirectAfterDigits(s, l.i)):
			start := l.i
			for l.i < len(s) && isDigit(s[l.i]) {
				l.i++
			}
			l.i += redirectLen(s[l.i:])
			l.emit(Redirect, start, l.i)
			target = true
			continue
		case c == '(':
			l.emit(Control, l.i, l.i+1)
			l.i++
			if l.depth < MaxDepth {
				l.depth++
				l.list(')')
				l.depth--
			}
			cmdPos, target = false, false
			continue
		}
		// A word.
		kind := Word
		switch {
		case target:
			target = false
		case cmdPos:
			kind = Command
			w := l.peekWord()
			switch {
			case isReserved(w):
				kind = Keyword
			case isAssignment(w):
				kind = Assignment
			default:
				cmdPos = false
			}
		}
		l.word(kind, term)
	}
}

// subst reads a substitution whose opener is n bytes at start and whose
// closer is term.
func (l *lexer) subst(start, n int, term byte) {
	l.emit(SubstOpen, start, start+n)
	l.i = start + n
	l.depth++
	l.list(term)
	l.depth--
}

// word reads one word (which may be split into several tokens by
// substitutions). The first piece gets kind k, the others Word.
func (l *lexer) word(k Kind, term byte) {
	s := l.s
	start := l.i
	flush := func(end int) {
		if end > start {
			l.emit(k, start, end)
			if k != Keyword && k != Assignment {
				k = Word
			}
		}
	}
	dq := false // inside "..."
	for l.i < len(s) {
		c := s[l.i]
		if !dq {
			if isBlank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' || c == '(' || c == ')' {
				break
			}
			if term == '`' && c == '`' {
				break
			}
		}
		switch {
		case c == '\\':
			l.i += 2
		case c == '\'' && !dq:
			l.i++
			for l.i < len(s) && s[l.i] != '\'' {
				l.i++
			}
			l.i++
		case c == '"':
			dq = !dq
			l.i++
		case dq && c == '`' && term == '`':
			// A backtick closes the enclosing `...` even inside quotes
			// (the nested form needs \`, which the escape rule skips).
			flush(l.i)
			return
		case c == '$' && l.i+1 < len(s) && s[l.i+1] == '(' && l.depth < MaxDepth:
			flush(l.i)
			l.subst(l.i, 2, ')')
			start = l.i
		case c == '`' && l.depth < MaxDepth:
			flush(l.i)
			l.subst(l.i, 1, '`')
			start = l.i
		case c == '$' && l.i+1 < len(s) && s[l.i+1] == '{':
			l.i = braceEnd(s, l.i+2)
		default:
			l.i++
		}
	}
	l.i = min(l.i, len(s))
	flush(l.i)
}

// peekWord returns the unquoted text of the word at l.i, up to the first
// blank, operator or quote.
func (l *lexer) peekWord() string {
	s := l.s
	j := l.i
	for j < len(s) {
		c := s[j]
		if isBlank(c) || c == '\n' || c == ';' || c == '&' || c == '|' || c == '<' || c == '>' ||
			c == '(' || c == ')' || c == '"' || c == '\'' || c == '`' || c == '\\' || c == '$' {
			break
		}
		j++
	}
	return s[l.i:j]
}

// braceEnd returns the index after the '}' closing a ${ at i-2.
func braceEnd(s string, i int) int {
	depth := 1
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(s)
}

// redirectAfterDigits reports whether the digits at i are a file
// descriptor number directly followed by a redirection operator.
func redirectAfterDigits(s string, i int) bool {
	if i > 0 && !isBlank(s[i-1]) && s[i-1] != '\n' && s[i-1] != ';' && s[i-1] != '&' && s[i-1] != '|' && s[i-1] != '(' {
		return false // digits inside a word
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	return j < len(s) && (s[j] == '<' || s[j] == '>')
}

// redirectLen returns the length of the redirection operator at s[0]
// ('<' or '>').
func redirectLen(s string) int {
	if len(s) == 0 {
		return 0
	}
	for _, op := range [...]string{"<<<", "<<-", "&>>", ">>", "<<", "<>", ">&", "<&", ">|", "&>", ">", "<"} {
		if len(s) >= len(op) && s[:len(op)] == op {
			return len(op)
		}
	}
	return 1
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isReserved(w string) bool {
	switch w {
	case "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case", "esac",
		"select", "function", "time", "coproc", "{", "}", "!", "[[", "]]":
		return true
	}
	return false
}

// isAssignment reports whether w starts with NAME=.
func isAssignment(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c == '=' || (c == '+' && i+1 < len(w) && w[i+1] == '='):
			return i > 0
		case c == '_' || ('a' <= c|0x20 && c|0x20 <= 'z') || (i > 0 && isDigit(c)):
		default:
			return false
		}
	}
	return false
}
