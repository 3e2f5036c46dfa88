package detect

import (
	"sort"
	"testing"
)

// highAny reports whether any built-in detector flags v with high
// confidence (what blocks under the default policy).
func highAny(sc *Scratch, v, source string) bool {
	sc.Reset(v)
	for _, d := range builtins {
		if f, ok := d.Detect(sc, Input{Value: v, Source: source}); ok && f.Confidence == High {
			return true
		}
	}
	return false
}

// Thresholds of TestGeneratedFamilies: the tuning part binds tighter than
// the hold-out part, which detectors were not tuned on.
const (
	minGeneratedTune    = 0.85
	minGeneratedHoldout = 0.80
)

// TestGeneratedFamilies measures high-confidence detection of the
// generated attack families (gen_test.go), in a query position, on the
// tuning and the hold-out parts separately.
func TestGeneratedFamilies(t *testing.T) {
	sc := NewScratch()
	fams := genFamilies()
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var tn, th, hn, hh int
		var missed []string
		for _, v := range fams[n] {
			ok := highAny(sc, v, "query")
			switch {
			case holdout(v):
				hn++
				if ok {
					hh++
				}
			default:
				tn++
				if ok {
					th++
				} else if len(missed) < 5 {
					missed = append(missed, v)
				}
			}
		}
		t.Logf("%-16s tune %s  hold-out %s", n, pct(th, tn), pct(hh, hn))
		for _, m := range missed {
			t.Logf("    missed (tune): %.100q", m)
		}
		if float64(th) < minGeneratedTune*float64(tn) {
			t.Errorf("%s: tune detection %s < %.0f%%", n, pct(th, tn), minGeneratedTune*100)
		}
		if float64(hh) < minGeneratedHoldout*float64(hn) {
			t.Errorf("%s: hold-out detection %s < %.0f%%", n, pct(hh, hn), minGeneratedHoldout*100)
		}
	}
}
