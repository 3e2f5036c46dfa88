package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// maxGlobLen bounds a glob's length.
const maxGlobLen = 512

// glob is a compiled path or route glob. The common shapes (exact,
// prefix "a.b.**", everything "**") are matched without a regexp.
type glob struct {
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

// compileGlob compiles pattern, where sep is the segment separator that
// "*" and "?" do not cross ('.' for field paths, '/' for routes).
func compileGlob(pattern string, sep byte) (glob, error) {
	switch {
	case pattern == "":
		return glob{}, errors.New("empty glob")
	case len(pattern) > maxGlobLen:
		return glob{}, fmt.Errorf("glob is %d bytes long, at most %d allowed", len(pattern), maxGlobLen)
	case pattern == "**":
		return glob{kind: globAny}, nil
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
				return glob{}, errors.New("glob ends in a lone backslash")
			}
			i++
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			if !wild {
				lit.WriteByte(pattern[i])
			}
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				if i+2 < len(pattern) && pattern[i+2] == '*' {
					return glob{}, errors.New("glob has more than two consecutive stars")
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
		return glob{kind: globExact, lit: lit.String()}, nil
	case trailSS:
		return glob{kind: globPrefix, lit: lit.String()}, nil
	}
	r, err := regexp.Compile(re.String())
	if err != nil {
		return glob{}, fmt.Errorf("glob: %w", err)
	}
	return glob{kind: globRegexp, re: r}, nil
}

// match reports whether s matches g. It does not allocate.
func (g *glob) match(s string) bool {
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

// globs is a list of globs; it matches when any glob does.
type globs []glob

func (gs globs) match(s string) bool {
	for i := range gs {
		if gs[i].match(s) {
			return true
		}
	}
	return false
}
