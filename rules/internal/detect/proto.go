package detect

import "strings"

// proto detects JavaScript prototype pollution: "__proto__" anywhere (as a
// JSON key, in a query key like a[__proto__][x]=1, or in a value), and
// constructor.prototype in dotted, bracketed or quoted form. A key that is
// exactly "prototype" is flagged too: merge functions that walk
// constructor → prototype pollute through it.
type proto struct{}

// Name implements Detector.
func (proto) Name() string { return "proto" }

// Category implements Detector.
func (proto) Category() string { return "proto" }

// protoTriggers are the classes any hit needs.
const protoTriggers = cUnder | cDot | cBracket | cPct | cAmp | cBslash | cHigh

// Detect implements Detector.
func (proto) Detect(sc *Scratch, in Input) (Finding, bool) {
	if sc.Mask()&protoTriggers == 0 {
		if in.Key && len(in.Value) == 9 {
			if l := sc.Lower(); l == "prototype" {
				return hit(l, 0, len(l), "prototype key")
			}
		}
		return miss()
	}
	l := sc.Lower()
	if i := strings.Index(l, "__proto__"); i >= 0 {
		return hit(l, i, i+9, "__proto__")
	}
	for off := 0; off < len(l); {
		i := strings.Index(l[off:], "constructor")
		if i < 0 {
			break
		}
		i += off
		j := skip(l, i+11, ".[\"' \t")
		if strings.HasPrefix(l[j:], "prototype") {
			return hit(l, i, j+9, "constructor.prototype")
		}
		off = i + 11
	}
	return miss()
}
