package rules

import (
	"slices"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// TestLabelsOnTheWire holds the names the engine reports (field sources,
// egress classes, the custom category, actions) to the values the
// extension accepts as metric labels.
func TestLabelsOnTheWire(t *testing.T) {
	var sources []string
	for s := SourceUnknown; s < numSources; s++ {
		sources = append(sources, s.String())
	}
	var classes []string
	for c := ClassPublic; c <= ClassOther; c++ {
		classes = append(classes, c.String())
	}
	tests := []struct {
		label wire.Label
		give  []string
	}{
		{wire.LabelFieldSource, sources},
		{wire.LabelClass, classes},
		{wire.LabelAction, []string{ActionAllow.String(), ActionMonitor.String(), ActionBlock.String()}},
	}
	for _, tt := range tests {
		got, want := slices.Sorted(slices.Values(tt.give)), slices.Sorted(slices.Values(tt.label.Values()))
		if !slices.Equal(got, want) {
			t.Errorf("engine names %v, wire label %d has %v", got, tt.label, want)
		}
	}
	if !wire.LabelCategory.Has(customCategory) {
		t.Errorf("wire.LabelCategory lacks %q", customCategory)
	}
}
