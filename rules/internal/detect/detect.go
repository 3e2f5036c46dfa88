// Package detect holds the built-in attack detectors (sqli, xss, cmdi,
// traversal, ssrf, jndi, nosql, ssti, proto, crlf) used by rules.Engine.
//
// A detector looks at one field value at a time. Decoded views of the value
// (URL-decoded until stable, HTML entities, \uXXXX, case-folded, ...) are
// computed lazily and at most once per field in a [Scratch], so several
// detectors share the decoding work.
package detect

// Input is one field value as a detector sees it.
type Input struct {
	Value  string // raw field value (already decoded by the event adapter: JSON unescaped, form-decoded)
	Key    bool   // Value is a name: JSON key, header/cookie/form field name
	Source string // "query", "path", "headers", "cookies", "body", "pathParams", "record"
}

// Finding explains a hit.
type Finding struct {
	// Evidence is the part of a (decoded) view that triggered, for a short
	// excerpt. It must be a substring of a view, not a new allocation.
	Evidence string
	// Reason is a short static description, e.g. "tautology", "fingerprint".
	Reason string
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
