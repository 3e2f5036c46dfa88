package match

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Limits bound what a single matcher may contain, so a hostile policy
// cannot make compilation or matching expensive.
const (
	// MaxRegexLen is the longest accepted regular expression, in bytes.
	MaxRegexLen = 4096
	// MaxLiterals is the largest number of phrases, values or prefixes.
	MaxLiterals = 10000
	// MaxLiteralLen is the longest accepted phrase, value or prefix.
	MaxLiteralLen = 1024
)

// ErrEmpty is returned by [New] when a spec names no pattern at all.
var ErrEmpty = errors.New("match: no pattern")

// Spec describes one user matcher. Exactly one of Regex, Phrases, Equals
// and Prefix is set.
type Spec struct {
	// Regex is an RE2 regular expression searched anywhere in the value.
	Regex string
	// Phrases are literals searched anywhere in the value, all at once.
	Phrases []string
	// Equals are values the whole field must equal.
	Equals []string
	// Prefix are values the field must start with.
	Prefix []string
	// CaseInsensitive folds ASCII (phrases, equals, prefix) or Unicode
	// (regex) case.
	CaseInsensitive bool
}

// Matcher reports whether a value matches and where.
type Matcher interface {
	// Match reports whether s matches; start and end delimit the
	// evidence in s.
	Match(s string) (start, end int, ok bool)
}

// New compiles spec. Errors name the offending part.
func New(spec Spec) (Matcher, error) {
	n := 0
	if spec.Regex != "" {
		n++
	}
	if spec.Phrases != nil {
		n++
	}
	if spec.Equals != nil {
		n++
	}
	if spec.Prefix != nil {
		n++
	}
	switch {
	case n == 0:
		return nil, ErrEmpty
	case n > 1:
		return nil, errors.New("match: set exactly one of regex, phrases, equals, prefix")
	}
	switch {
	case spec.Regex != "":
		return newRegex(spec.Regex, spec.CaseInsensitive)
	case spec.Phrases != nil:
		if err := checkLiterals(spec.Phrases); err != nil {
			return nil, fmt.Errorf("phrases: %w", err)
		}
		return newPhrases(spec.Phrases, spec.CaseInsensitive), nil
	case spec.Equals != nil:
		if err := checkLiterals(spec.Equals); err != nil {
			return nil, fmt.Errorf("equals: %w", err)
		}
		return newEquals(spec.Equals, spec.CaseInsensitive), nil
	default:
		if err := checkLiterals(spec.Prefix); err != nil {
			return nil, fmt.Errorf("prefix: %w", err)
		}
		return newPrefix(spec.Prefix, spec.CaseInsensitive), nil
	}
}

func checkLiterals(lits []string) error {
	if len(lits) == 0 {
		return errors.New("empty list")
	}
	if len(lits) > MaxLiterals {
		return fmt.Errorf("%d entries, at most %d allowed", len(lits), MaxLiterals)
	}
	for i, l := range lits {
		if l == "" {
			return fmt.Errorf("entry %d is empty", i+1)
		}
		if len(l) > MaxLiteralLen {
			return fmt.Errorf("entry %d is %d bytes long, at most %d allowed", i+1, len(l), MaxLiteralLen)
		}
	}
	return nil
}

// regexMatcher searches an RE2 expression.
type regexMatcher struct {
	re *regexp.Regexp
}

var _ Matcher = (*regexMatcher)(nil)

func newRegex(expr string, fold bool) (*regexMatcher, error) {
	if len(expr) > MaxRegexLen {
		return nil, fmt.Errorf("regex is %d bytes long, at most %d allowed", len(expr), MaxRegexLen)
	}
	if fold {
		expr = "(?i:" + expr + ")"
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("regex: %w", err)
	}
	return &regexMatcher{re: re}, nil
}

// Match implements [Matcher]. MatchString does not allocate; the index
// is only computed on a hit.
func (m *regexMatcher) Match(s string) (int, int, bool) {
	if !m.re.MatchString(s) {
		return 0, 0, false
	}
	loc := m.re.FindStringIndex(s)
	if loc == nil {
		return 0, 0, false
	}
	return loc[0], loc[1], true
}

// equalsMatcher compares the whole value with a set of literals.
type equalsMatcher struct {
	set  map[string]struct{}
	fold bool
	max  int
}

var _ Matcher = (*equalsMatcher)(nil)

func newEquals(lits []string, fold bool) *equalsMatcher {
	m := &equalsMatcher{set: make(map[string]struct{}, len(lits)), fold: fold}
	for _, l := range lits {
		if fold {
			l = asciiLower(l)
		}
		m.set[l] = struct{}{}
		m.max = max(m.max, len(l))
	}
	return m
}

// Match implements [Matcher].
func (m *equalsMatcher) Match(s string) (int, int, bool) {
	if len(s) > m.max {
		return 0, 0, false
	}
	if !m.fold {
		_, ok := m.set[s]
		return 0, len(s), ok
	}
	var buf [MaxLiteralLen]byte
	b := buf[:len(s)]
	for i := 0; i < len(s); i++ {
		b[i] = lowerByte(s[i])
	}
	_, ok := m.set[string(b)] // map lookup with string(b) does not allocate
	return 0, len(s), ok
}

// prefixMatcher tests the start of the value against literals.
type prefixMatcher struct {
	lits []string
	fold bool
}

var _ Matcher = (*prefixMatcher)(nil)

func newPrefix(lits []string, fold bool) *prefixMatcher {
	m := &prefixMatcher{lits: make([]string, len(lits)), fold: fold}
	for i, l := range lits {
		if fold {
			l = asciiLower(l)
		}
		m.lits[i] = l
	}
	return m
}

// Match implements [Matcher].
func (m *prefixMatcher) Match(s string) (int, int, bool) {
	for _, l := range m.lits {
		if len(s) < len(l) {
			continue
		}
		if m.fold {
			if equalFoldASCII(s[:len(l)], l) {
				return 0, len(l), true
			}
		} else if strings.HasPrefix(s, l) {
			return 0, len(l), true
		}
	}
	return 0, 0, false
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func asciiLower(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] = lowerByte(b[i])
	}
	return string(b)
}

// equalFoldASCII reports whether s equals the lower-case literal l under
// ASCII case folding.
func equalFoldASCII(s, l string) bool {
	for i := 0; i < len(l); i++ {
		if lowerByte(s[i]) != l[i] {
			return false
		}
	}
	return true
}
