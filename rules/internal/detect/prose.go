package detect

import "strings"

// Prose. Attack syntax also occurs in ordinary writing: a shell command
// quoted in a support ticket, a SQL statement in a question, a lone ../
// in documentation. Findings in a value that reads as prose are marked
// [Low] unless the attack grammar itself is unambiguous (a string literal
// broken out of and continued, a comment that ends a statement, a command
// substitution); Low findings are reported and, by default, not blocked.
//
// A value reads as prose when, split at white space, at least proseWords
// tokens and two thirds of all tokens are words (two or more characters,
// at least 70 % letters of any script, once sentence punctuation and
// dashes are trimmed; lone punctuation, numbers and one-letter words
// do not count), and shell operators (; | & $ < > = `) make up at most 6 % of
// it. Payloads are dense in operators and
// delimiters and rarely pass; padding a payload with prose does not lower
// an unambiguous finding.

// proseWords is the least number of words of prose.
const proseWords = 6

// proseLike reports whether s reads as natural-language text.
func proseLike(s string) bool {
	tokens, wordy, ops := 0, 0, 0
	for i := 0; i < len(s); {
		for i < len(s) && isSp(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isSp(s[j]) {
			switch s[j] {
			case ';', '|', '&', '$', '<', '>', '=', '`':
				ops++
			}
			j++
		}
		if j == i {
			break
		}
		t := strings.Trim(s[i:j], ".,;:!?()[]\"'*_-")
		i = j
		t = strings.Trim(t, "\u2014\u2013\u201c\u201d\u2018\u2019\u00ab\u00bb")
		letters, digits := 0, 0
		for k := 0; k < len(t); k++ {
			switch c := t[k]; {
			case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
				letters++
			case c >= '0' && c <= '9':
				digits++
			}
		}
		if len(t) == 0 || len(t) == 1 && letters == 1 || digits == len(t) {
			continue // punctuation, a dash, "a", "I", a number: neutral
		}
		tokens++
		if len(t) >= 2 && letters*10 >= len(t)*7 {
			wordy++
		}
	}
	// Prose: enough words, most tokens words, few shell operators.
	return wordy >= proseWords && wordy*3 >= tokens*2 && ops*100 <= len(s)*6
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
// view c are SQL words that English rarely uses (select, union, from,
// where, null, ...): written SQL is, English is not.
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
			switch c[i:j] {
			case "select", "union", "from", "where", "having", "case", "then", "else", "when", "count",
				"join", "values", "table_name", "version", "database", "concat", "char", "ascii", "cast",
				"null", "sleep", "benchmark", "waitfor", "exec", "declare", "insert", "update", "delete",
				"drop", "group", "order", "limit", "dual", "substring", "information_schema", "xor", "rlike":
				sql++
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
