// Package glob compiles the policy's path and route globs (see the
// policy package's Exclusion for the syntax) into matchers that do not
// allocate.
package glob

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxLen bounds a glob's length.
const MaxLen = 512

// Glob is a compiled path or route glob. The common shapes (exact,
// prefix "a.b.**", everything "**") are matched without a regexp.
type Glob struct {
	kind int
	lit  string
	re   *regexp.Regexp
}

const (
	globExact = iota
	globPrefix
	globAny
	globRegexp
)

// Compile compiles pattern, where sep is the segment separator that
// "*" and "?" do not cross ('.' for field paths, '/' for routes).
func Compile(pattern string, sep byte) (Glob, error) {
	switch {
	case pattern == "":
		return Glob{}, errors.New("empty glob")
	case len(pattern) > MaxLen:
		return Glob{}, fmt.Errorf("glob is %d bytes long, at most %d allowed", len(pattern), MaxLen)
	case pattern == "**":
		return Glob{kind: globAny}, nil
	}
	var (
		re      strings.Builder
		lit     strings.Builder
		wild    = false
		trailSS = false // pattern ends in "**" with no other wildcard
	)
	notSep := "[^" + regexp.QuoteMeta(string(sep)) + "]"
	re.WriteString(`^`)
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '\\':
			if i+1 == len(pattern) {
				return Glob{}, errors.New("glob ends in a lone backslash")
			}
			i++
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			if !wild {
				lit.WriteByte(pattern[i])
			}
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				if i+2 < len(pattern) && pattern[i+2] == '*' {
					return Glob{}, errors.New("glob has more than two consecutive stars")
				}
				i++
				re.WriteString(`.*`)
				if !wild && i == len(pattern)-1 {
					trailSS = true
				}
			} else {
				re.WriteString(notSep + `*`)
			}
			wild = true
		case '?':
			re.WriteString(notSep)
			wild = true
		default:
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			if !wild {
				lit.WriteByte(c)
			}
		}
	}
	re.WriteString(`$`)
	switch {
	case !wild:
		return Glob{kind: globExact, lit: lit.String()}, nil
	case trailSS:
		return Glob{kind: globPrefix, lit: lit.String()}, nil
	}
	r, err := regexp.Compile(re.String())
	if err != nil {
		return Glob{}, fmt.Errorf("glob: %w", err)
	}
	return Glob{kind: globRegexp, re: r}, nil
}

// Match reports whether s matches g. It does not allocate.
func (g *Glob) Match(s string) bool {
	switch g.kind {
	case globExact:
		return s == g.lit
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	case globAny:
		return true
	default:
		return g.re.MatchString(s)
	}
}

// List is a list of globs; it matches when any glob does.
type List []Glob

// Match reports whether s matches any glob of gs.
func (gs List) Match(s string) bool {
	for i := range gs {
		if gs[i].Match(s) {
			return true
		}
	}
	return false
}
