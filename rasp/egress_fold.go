package rasp

import (
	"strings"
	"unicode/utf8"
)

// indexFold is strings.Index ignoring case, without allocating. It runs
// on every input of the invocation for every outbound request, so it
// skips to candidates of sub's first byte (either case) with IndexByte:
// for an ASCII sub, a window of s that folds to it starts with that byte
// (a non-ASCII rune folding to an ASCII one is longer, so the window
// could not have sub's byte length).
func indexFold(s, sub string) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	c := sub[0]
	if c >= utf8.RuneSelf {
		for i := 0; i+n <= len(s); i++ {
			if strings.EqualFold(s[i:i+n], sub) {
				return i
			}
		}
		return -1
	}
	lower, upper := c|0x20, c&^0x20
	if !('a' <= lower && lower <= 'z') {
		lower, upper = c, c
	}
	for i := 0; i+n <= len(s); {
		j := firstOf(s[i:len(s)-n+1], lower, upper)
		if j < 0 {
			return -1
		}
		i += j
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
		i++
	}
	return -1
}

// firstOf is the index of the first a or b in s, or -1.
func firstOf(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	if i >= 0 {
		s = s[:i] // b only matters before the first a
	}
	if j := strings.IndexByte(s, b); j >= 0 {
		return j
	}
	return i
}
