package rules

import (
	"slices"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/detect"
)

// detectorSet maps detector names to detectors.
type detectorSet map[string]detect.Detector

// builtinDetectors returns the built-in detectors by policy name.
func builtinDetectors() detectorSet {
	names := detect.Names()
	set := make(detectorSet, len(names))
	for _, n := range names {
		if d, ok := detect.Builtin(n); ok {
			set[n] = d
		}
	}
	return set
}

// names returns the detector names, sorted.
func (s detectorSet) names() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
