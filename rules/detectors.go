package rules

import (
	"slices"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/detect"
)

// detectorSet maps detector names to detectors.
type detectorSet map[string]detect.Detector

// names returns the detector names, sorted.
func (s detectorSet) names() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
