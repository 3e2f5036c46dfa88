package rules

import (
	"strings"
	"unicode/utf8"
)

const (
	// maxExcerpt is the longest excerpt, in bytes, after escaping.
	maxExcerpt = 48
	// excerptContext is how much of the value is shown on each side of
	// the evidence.
	excerptContext = 12
	// minDigitRun is the shortest run of digits that is masked.
	minDigitRun = 6
)

// excerpt returns a short, redacted excerpt of value around
// value[start:end]: at most maxExcerpt bytes, control and invalid bytes
// escaped, runs of minDigitRun or more digits masked with '*'.
func excerpt(value string, start, end int) string {
	if start < 0 || start > len(value) {
		start = 0
	}
	if end < start || end > len(value) {
		end = start
	}
	from := max(0, start-excerptContext)
	if end-start <= maxExcerpt && end > from+maxExcerpt {
		// Keep the whole evidence when it fits.
		from = end - maxExcerpt
	}
	for from > 0 && from < len(value) && !utf8.RuneStart(value[from]) {
		from++
	}
	to := max(from, min(len(value), from+maxExcerpt, end+excerptContext))
	window := value[from:to]

	var b strings.Builder
	b.Grow(maxExcerpt)
	emit := func(s string) bool {
		if b.Len()+len(s) > maxExcerpt {
			return false
		}
		b.WriteString(s)
		return true
	}
	for i := 0; i < len(window); {
		c := window[i]
		if isDigit(c) {
			j := i
			for j < len(window) && isDigit(window[j]) {
				j++
			}
			run := window[i:j]
			// Measure the whole run in value, so that a run cut by the
			// window's edges is masked too.
			a, z := from+i, from+j
			for a > 0 && isDigit(value[a-1]) {
				a--
			}
			for z < len(value) && isDigit(value[z]) {
				z++
			}
			if z-a >= minDigitRun {
				run = strings.Repeat("*", j-i)
			}
			if !emit(run) {
				break
			}
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(window[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size <= 1:
			piece = `\x` + hex2(c)
		case r == '\n':
			piece = `\n`
		case r == '\r':
			piece = `\r`
		case r == '\t':
			piece = `\t`
		case r < 0x20 || r == 0x7f:
			piece = `\x` + hex2(c)
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029:
			piece = `\u` + hex2(byte(r>>8)) + hex2(byte(r))
		default:
			piece = window[i : i+size]
		}
		if !emit(piece) {
			break
		}
		i += size
	}
	return b.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
