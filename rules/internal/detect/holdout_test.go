package detect

import (
	"path/filepath"
	"strings"
	"testing"
)

// maxHoldoutBenign bounds the high-confidence findings on the hand-written
// hold-out of tricky benign text (testdata/holdout/tricky_benign.txt),
// which detectors are not tuned on.
const maxHoldoutBenign = 0.06

func TestHoldoutTrickyBenign(t *testing.T) {
	var lines []string
	for _, l := range readLines(t, filepath.Join("testdata", "holdout", "tricky_benign.txt")) {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	sc := NewScratch()
	var n, h int
	for _, p := range vendoredPositions {
		for _, l := range lines {
			n++
			if highAny(sc, p.prepare(l), p.source) {
				h++
				t.Logf("blocked (%s): %.100q", p.name, l)
			}
		}
	}
	t.Logf("hold-out tricky benign: %d values x %d positions, blocked %s", len(lines), len(vendoredPositions), pct(h, n))
	if float64(h) > maxHoldoutBenign*float64(n) {
		t.Errorf("blocked %s, more than %.0f%%", pct(h, n), maxHoldoutBenign*100)
	}
}
