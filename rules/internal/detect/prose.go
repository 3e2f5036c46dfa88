package detect

import "strings"

// Prose. Attack syntax also occurs in ordinary writing: a shell command
// quoted in a support ticket, a SQL statement in a question, a lone ../
// in documentation. Findings in a value that reads as prose are marked
// [Low] unless the attack grammar itself is unambiguous (a string literal
// broken out of and continued, a comment that ends a statement, a command
// substitution); Low findings are reported and, by default, not blocked.
//
// A value reads as prose when it has at least proseWords words of two or
// more letters (any script), mostly separated by white space, and
// letters, spaces and sentence punctuation make up at least 80 % of it. Payloads are dense in operators and
// delimiters and rarely pass; padding a payload with prose does not lower
// an unambiguous finding.

// proseWords is the least number of words of prose.
const proseWords = 8

// proseLike reports whether s reads as natural-language text.
func proseLike(s string) bool {
	words, plain, spaces := 0, 0, 0
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
		if letter {
			run++
			plain++
			continue
		}
		if run >= 2 {
			words++
		}
		run = 0
		switch c {
		case ' ', '\t', '\n', '\r':
			spaces++
			plain++
		case '.', ',', '!', '?', '\'', '"', '-':
			plain++
		}
	}
	if run >= 2 {
		words++
	}
	// Words are separated by white space in prose, not by dots, slashes
	// and underscores as in URLs, paths and identifiers.
	return words >= proseWords && spaces*3 >= words*2 && plain*10 >= len(s)*8
}

// quoteBreakout reports a quote (or a quote and a closing parenthesis)
// followed by a SQL operator, keyword or comment in the compact view c:
// ' or, ') union, " and, '; drop, '--, '#, '=.
func quoteBreakout(c string) bool {
	for i := 0; i < len(c); i++ {
		if q := c[i]; q != '\'' && q != '"' && q != '`' {
			continue
		}
		if i > 0 && i+1 < len(c) && isLetter(c[i-1]) && isLetter(c[i+1]) {
			continue // an apostrophe inside a word
		}
		j := skip(c, i+1, ") ")
		if j >= len(c) {
			continue
		}
		switch c[j] {
		case '=', '<', '>', '|', '&', ';', '#', '+', '*', '/':
			return true
		case '-':
			if j+1 < len(c) && c[j+1] == '-' {
				return true
			}
		}
		k := j
		for k < len(c) && isWord(c[k]) {
			k++
		}
		switch c[j:k] {
		case "or", "and", "xor", "union", "select", "having", "order", "group", "where",
			"like", "rlike", "regexp", "is", "in", "between", "div", "into", "procedure", "limit":
			return true
		}
	}
	return false
}

// sqlTerminator reports a statement break or trailing comment in the
// compact view c: "; <statement keyword>", "-- " or "--" at the end, a
// '#' comment after a quote or digit, or a "/*" comment.
func sqlTerminator(c string) bool {
	if strings.Contains(c, "/*") {
		return true
	}
	for off := 0; off < len(c); {
		i := strings.Index(c[off:], "--")
		if i < 0 {
			break
		}
		i += off
		off = i + 2
		if off == len(c) || c[off] == ' ' || c[off] == '+' {
			return true
		}
	}
	for i := 0; i < len(c); i++ {
		switch c[i] {
		case '#':
			if i > 0 && (c[i-1] == '\'' || c[i-1] == '"' || c[i-1] == ')' || c[i-1] >= '0' && c[i-1] <= '9' || c[i-1] == ' ' && i > 1 && (c[i-2] == '\'' || c[i-2] == ')')) {
				return true
			}
		case ';':
			j := skip(c, i+1, " ")
			k := j
			for k < len(c) && isWord(c[k]) {
				k++
			}
			switch c[j:k] {
			case "select", "insert", "update", "delete", "drop", "exec", "execute", "declare",
				"shutdown", "waitfor", "create", "alter", "truncate", "grant", "revoke", "copy", "call":
				return true
			}
		}
	}
	return false
}

// sqlDense reports whether at least a fifth of the words of the compact
// view c are SQL words (isSQLWord, plus the clause words of queries):
// written SQL is, English is not.
func sqlDense(c string) bool {
	words, sql := 0, 0
	for i := 0; i < len(c); {
		for i < len(c) && !isWord(c[i]) {
			i++
		}
		j := i
		for j < len(c) && isWord(c[j]) {
			j++
		}
		if j-i >= 2 {
			words++
			switch w := c[i:j]; {
			case isSQLWord(w):
				sql++
			default:
				switch w {
				case "as", "then", "else", "end", "when", "count", "by", "join", "on", "in", "like",
					"values", "table", "table_name", "version", "database", "user", "char", "concat",
					"substring", "ascii", "cast", "top", "all", "distinct", "exists", "dual":
					sql++
				}
			}
		}
		i = j
	}
	return sql*5 >= words
}

// wordsIn counts the words of two or more letters in s.
func wordsIn(s string) int {
	words, run := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			run++
			continue
		}
		if run >= 2 {
			words++
		}
		run = 0
	}
	if run >= 2 {
		words++
	}
	return words
}
