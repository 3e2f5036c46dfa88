package detect

import "strings"

// Input is one field value as a detector sees it.
type Input struct {
	Value  string // raw field value (already decoded by the event adapter: JSON unescaped, form-decoded)
	Key    bool   // Value is a name: JSON key, header/cookie/form field name
	Source string // "query", "path", "headers", "cookies", "body", "pathParams", "record"
}

// Confidence says how sure a finding is that the value is an attack.
type Confidence uint8

// The confidences. The zero value is High, which every finding has unless
// its detector marks it Low.
const (
	// High: the value holds the grammar of an attack in a form that
	// would execute (a literal broken out of and continued with SQL, a
	// command after a shell separator with shell arguments, a template
	// expression that computes or reaches objects).
	High Confidence = iota
	// Low: the value holds attack syntax that also occurs in ordinary
	// text (a shell command quoted in a sentence, a lone ../ in
	// documentation, a template variable in a blog post). By default a
	// low-confidence finding is reported, not blocked.
	Low
)

// String returns "high" or "low".
func (c Confidence) String() string {
	if c == Low {
		return "low"
	}
	return "high"
}

// Finding explains a hit.
type Finding struct {
	// Evidence is the part of a (decoded) view that triggered, for a short
	// excerpt. It must be a substring of a view, not a new allocation.
	Evidence string
	// Reason is a short static description, e.g. "tautology", "fingerprint".
	Reason string
	// Confidence is High unless the detector marked the finding Low.
	Confidence Confidence
}

// Detector is one built-in detector. Implementations are immutable and safe
// for concurrent use; all per-call state lives in the Scratch.
type Detector interface {
	// Name is the detector's policy name, e.g. "sqli".
	Name() string
	// Category is the attack category reported in metrics, e.g. "sqli".
	Category() string
	// Detect reports whether in is an attack. sc has been Reset for in.Value.
	Detect(sc *Scratch, in Input) (Finding, bool)
}

// builtins is the table of built-in detectors, sorted by name. Detectors
// are stateless values, so the table is never written.
var builtins = [...]Detector{
	cmdi{},
	crlf{},
	jndi{},
	nosql{},
	proto{},
	sqli{},
	ssrf{},
	ssti{},
	traversal{},
	xss{},
}

// Builtin returns the built-in detector named name ("sqli", "xss", "cmdi",
// "traversal", "ssrf", "jndi", "nosql", "ssti", "proto", "crlf").
func Builtin(name string) (Detector, bool) {
	for _, d := range builtins {
		if d.Name() == name {
			return d, true
		}
	}
	return nil, false
}

// Names returns the built-in detector names, sorted.
func Names() []string {
	out := make([]string, len(builtins))
	for i, d := range builtins {
		out[i] = d.Name()
	}
	return out
}

// hit returns a finding with evidence s[i:j] clamped to s.
func hit(s string, i, j int, reason string) (Finding, bool) {
	i = max(0, min(i, len(s)))
	j = max(i, min(j, len(s)))
	return Finding{Evidence: s[i:j], Reason: reason}, true
}

// window is how far a detector looks ahead from a candidate position for
// its closing part (a delimiter, a repeated unit, a target name). It
// keeps every detector linear in the length of the value.
const window = 512

// ahead returns s[i:] cut to at most window bytes.
func ahead(s string, i int) string {
	if i > len(s) {
		return ""
	}
	return s[i:min(len(s), i+window)]
}

// lowHit is hit with a low confidence.
func lowHit(s string, i, j int, reason string) (Finding, bool) {
	f, ok := hit(s, i, j, reason)
	f.Confidence = Low
	return f, ok
}

// miss is the result of a detector that found nothing.
func miss() (Finding, bool) { return Finding{}, false }

// isWord reports an ASCII letter, digit or underscore.
func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// isSp reports ASCII whitespace.
func isSp(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

// skip returns the first index >= i in s whose byte is not in set.
func skip(s string, i int, set string) int {
	for i < len(s) && strings.IndexByte(set, s[i]) >= 0 {
		i++
	}
	return i
}
