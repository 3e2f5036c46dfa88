package decode

import (
	"strings"
	"unicode/utf8"
)

// MaxPasses is the number of decoding rounds [Full] applies at most.
const MaxPasses = 3

// unhex returns the value of the hex digit c and whether c is one.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hexN parses exactly n hex digits at s[i:] and reports success.
func hexN(s string, i, n int) (rune, bool) {
	if i+n > len(s) {
		return 0, false
	}
	var r rune
	for k := range n {
		v, ok := unhex(s[i+k])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// appendRune appends r as UTF-8, using U+FFFD for invalid code points.
func appendRune(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf && r >= 0 {
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, r)
}

// nextIndex returns the first index >= from of byte c in s for which ok
// holds, or -1. It skips to candidates with strings.IndexByte.
func nextIndex(s string, from int, c byte, ok func(int) bool) int {
	for from < len(s) {
		k := strings.IndexByte(s[from:], c)
		if k < 0 {
			return -1
		}
		if i := from + k; ok(i) {
			return i
		}
		from += k + 1
	}
	return -1
}

// start copies s[:i] into dst[:0] to begin a changed output.
func start(dst []byte, s string, i int) []byte {
	return append(dst[:0], s[:i]...)
}

// URL percent-decodes s once: %XX and the non-standard %uXXXX (as UTF-8).
// Malformed escapes are kept as they are; '+' is left alone (form decoding
// is the event adapter's job).
func URL(dst []byte, s string) ([]byte, bool) {
	i := nextIndex(s, 0, '%', func(i int) bool { return pctAt(s, i) > 0 })
	if i < 0 {
		return dst, false
	}
	out := start(dst, s, i)
	for i < len(s) {
		c := s[i]
		if c != '%' {
			out = append(out, c)
			i++
			continue
		}
		switch n := pctAt(s, i); n {
		case 3:
			hi, _ := unhex(s[i+1])
			lo, _ := unhex(s[i+2])
			out = append(out, hi<<4|lo)
			i += 3
		case 6:
			r, _ := hexN(s, i+2, 4)
			out = appendRune(out, r)
			i += 6
		default:
			out = append(out, c)
			i++
		}
	}
	return out, true
}

// pctAt returns the length of the percent escape at s[i] (3 for %XX, 6 for
// %uXXXX) or 0 when there is none.
func pctAt(s string, i int) int {
	if i+2 < len(s) {
		if _, ok := unhex(s[i+1]); ok {
			if _, ok := unhex(s[i+2]); ok {
				return 3
			}
		}
	}
	if i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
		if _, ok := hexN(s, i+2, 4); ok {
			return 6
		}
	}
	return 0
}

// JS decodes JavaScript/JSON-style escapes: \uXXXX, \u{X...}, \xXX and
// the control escapes \n, \r and \t. Other backslashes are kept.
func JS(dst []byte, s string) ([]byte, bool) {
	i := nextIndex(s, 0, '\\', func(i int) bool { _, n := jsAt(s, i); return n > 0 })
	if i < 0 {
		return dst, false
	}
	out := start(dst, s, i)
	for i < len(s) {
		if s[i] == '\\' {
			if r, n := jsAt(s, i); n > 0 {
				out = appendRune(out, r)
				i += n
				continue
			}
		}
		out = append(out, s[i])
		i++
	}
	return out, true
}

// jsAt decodes the escape at s[i] ('\\') and returns its rune and length.
func jsAt(s string, i int) (rune, int) {
	if i+1 >= len(s) {
		return 0, 0
	}
	switch s[i+1] {
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'x', 'X':
		if r, ok := hexN(s, i+2, 2); ok {
			return r, 4
		}
	case 'u', 'U':
		if r, ok := hexN(s, i+2, 4); ok {
			return r, 6
		}
		if i+2 < len(s) && s[i+2] == '{' {
			var r rune
			for k := i + 3; k < len(s) && k < i+10; k++ {
				if s[k] == '}' {
					if k == i+3 || r > utf8.MaxRune {
						return 0, 0
					}
					return r, k + 1 - i
				}
				v, ok := unhex(s[k])
				if !ok {
					return 0, 0
				}
				r = r<<4 | rune(v)
			}
		}
	}
	return 0, 0
}

// Null removes NUL bytes.
func Null(dst []byte, s string) ([]byte, bool) {
	i := strings.IndexByte(s, 0)
	if i < 0 {
		return dst, false
	}
	out := start(dst, s, i)
	for ; i < len(s); i++ {
		if s[i] != 0 {
			out = append(out, s[i])
		}
	}
	return out, true
}

// Lower folds ASCII letters to lower case; other bytes are kept.
func Lower(dst []byte, s string) ([]byte, bool) {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			break
		}
	}
	if i == len(s) {
		return dst, false
	}
	out := start(dst, s, i)
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return out, true
}

// isSpace reports ASCII whitespace and the other control characters that
// browsers, shells and SQL parsers skip between tokens.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// Space normalises whitespace: every run of whitespace and SQL block
// comments (/* ... */, also unterminated) becomes one space. A comment
// between two word characters thus separates them, as SQL parsers do.
func Space(dst []byte, s string) ([]byte, bool) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '/' && i+1 < len(s) && s[i+1] == '*' {
			break
		}
		if isSpace(c) && (c != ' ' || (i+1 < len(s) && isSpace(s[i+1]))) {
			break
		}
	}
	if i == len(s) {
		return dst, false
	}
	out := start(dst, s, i)
	pendingSpace := false
	if n := len(out); n > 0 && out[n-1] == ' ' {
		// The copied prefix ends in a space that starts the run.
		out, pendingSpace = out[:n-1], true
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := -1
			for k := i + 2; k+1 < len(s); k++ {
				if s[k] == '*' && s[k+1] == '/' {
					end = k + 2
					break
				}
			}
			if end < 0 {
				end = len(s)
			}
			pendingSpace = true
			i = end
		case isSpace(c):
			pendingSpace = true
			i++
		default:
			if pendingSpace {
				out = append(out, ' ')
				pendingSpace = false
			}
			out = append(out, c)
			i++
		}
	}
	if pendingSpace {
		out = append(out, ' ')
	}
	return out, true
}
