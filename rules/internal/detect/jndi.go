package detect

import (
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/decode"
)

// jndi detects Log4Shell-style JNDI lookups (CVE-2021-44228):
// ${jndi:ldap://...} and its obfuscated forms, which nest other lookups
// to spell the word: ${${lower:j}ndi:...}, ${${::-j}${::-n}di:...},
// ${${env:NaN:-j}ndi...}, ${j${upper:n}di:...}.
//
// The detector resolves lookups the way Log4j does, innermost first, on
// the lower-case view: ${lower:x} and ${upper:x} become x, a lookup with a
// default (${anything:-x}) becomes x, ${date:'x'} becomes x and any other
// lookup (${env:USER}, ${sys:...}) becomes empty. It reports a hit when a
// lookup resolves to a jndi: lookup, also when the final brace is missing.
// Work is bounded: each resolution step removes at least three bytes.
type jndi struct{}

// Name implements Detector.
func (jndi) Name() string { return "jndi" }

// Category implements Detector.
func (jndi) Category() string { return "jndi" }

// Detect implements Detector.
func (jndi) Detect(sc *Scratch, in Input) (Finding, bool) {
	if sc.Mask()&(cDollar|cBrace) != cDollar|cBrace {
		return miss()
	}
	l := sc.Lower()
	first := strings.Index(l, "${")
	if first < 0 {
		return miss()
	}
	if i := strings.Index(l, "${jndi:"); i >= 0 {
		return hit(l, i, i+24, "jndi lookup")
	}
	if sc.Mask()&cHigh != 0 {
		// Log4j's ${upper:} and ${lower:} use Java's case mapping, which
		// turns some non-ASCII letters into ASCII ones: dotless ı and
		// long ſ upper-case to I and S, the Kelvin sign lower-cases to k.
		b := foldJavaCase(sc.buf(), l[first:])
		sc.keep(b)
		if !hasLetters(decode.String(b), "jndi") {
			return miss()
		}
		b2 := append([]byte(nil), b...)
		found := resolveLookups(&b2)
		if found || strings.Contains(string(b2), "${jndi:") {
			return hit(l, first, first+32, "obfuscated jndi lookup")
		}
		return miss()
	}
	if !hasLetters(l[first:], "jndi") {
		// Every spelling of the lookup keeps its letters somewhere.
		return miss()
	}
	b := append(sc.buf(), l[first:]...)
	found := resolveLookups(&b)
	sc.keep(b)
	if found || strings.Contains(decode.String(b), "${jndi:") {
		return hit(l, first, first+32, "obfuscated jndi lookup")
	}
	return miss()
}

// maxLookups bounds the lookups resolveLookups resolves per value.
const maxLookups = 256

// resolveLookups resolves the innermost ${...} lookups of b in place until
// none is left, and reports whether one of them was a jndi: lookup. After
// maxLookups resolutions it stops and reports a hit: nesting that deep
// only serves to hide a lookup.
func resolveLookups(b *[]byte) bool {
	s := *b
	for n := 0; ; n++ {
		if n == maxLookups {
			*b = s
			return true
		}
		end := -1
		for k := range s {
			if s[k] == '}' {
				end = k
				break
			}
		}
		if end < 0 {
			break
		}
		start := -1
		for k := end - 1; k > 0; k-- {
			if s[k] == '{' && s[k-1] == '$' {
				start = k - 1
				break
			}
		}
		if start < 0 {
			// A stray '}' with no lookup before it: drop it and go on.
			s = append(s[:end], s[end+1:]...)
			continue
		}
		c := s[start+2 : end]
		if strings.HasPrefix(decode.String(c), "jndi:") {
			*b = s
			return true
		}
		r := resolveOne(c)
		n := copy(s[start:], r)
		s = append(s[:start+n], s[end+1:]...)
	}
	*b = s
	return false
}

// hasLetters reports whether s contains each byte of letters.
func hasLetters(s, letters string) bool {
	for i := range len(letters) {
		if strings.IndexByte(s, letters[i]) < 0 {
			return false
		}
	}
	return true
}

// resolveOne returns what the lookup body c resolves to; the result is a
// suffix of c.
func resolveOne(c []byte) []byte {
	for k := 0; k+1 < len(c); k++ {
		if c[k] == ':' && c[k+1] == '-' {
			return c[k+2:]
		}
	}
	s := decode.String(c)
	switch {
	case strings.HasPrefix(s, "lower:"), strings.HasPrefix(s, "upper:"):
		return c[6:]
	case strings.HasPrefix(s, "date:"):
		r := c[5:]
		if len(r) >= 2 && r[0] == '\'' && r[len(r)-1] == '\'' {
			r = r[1 : len(r)-1]
		}
		return r
	}
	return c[:0]
}

// foldJavaCase appends s to dst with the non-ASCII letters whose Java
// case mapping is ASCII replaced by that letter: ı (U+0131) and ſ
// (U+017F), which upper-case to I and S, and the Kelvin sign (U+212A),
// which lower-cases to k.
func foldJavaCase(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch {
		case strings.HasPrefix(s[i:], "\u0131"):
			dst = append(dst, 'i')
			i++
		case strings.HasPrefix(s[i:], "\u017f"):
			dst = append(dst, 's')
			i++
		case strings.HasPrefix(s[i:], "\u212a"):
			dst = append(dst, 'k')
			i += 2
		default:
			dst = append(dst, s[i])
		}
	}
	return dst
}
