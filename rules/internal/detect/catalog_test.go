package detect

import (
	"slices"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules/internal/catalog"
)

// TestCatalog holds the policy parser's list of detector names to the
// detectors implemented here: a detector missing from the catalog could
// not be named in a policy, a name without a detector would pass the
// parser and fail to compile.
func TestCatalog(t *testing.T) {
	if got, want := catalog.Detectors(), Names(); !slices.Equal(got, want) {
		t.Errorf("catalog.Detectors() = %v, want the implemented detectors %v", got, want)
	}
}

// TestCategoriesOnTheWire holds every detector's category to the values
// the extension accepts as metric labels.
func TestCategoriesOnTheWire(t *testing.T) {
	for _, n := range Names() {
		d, _ := Builtin(n)
		if !wire.LabelCategory.Has(d.Category()) {
			t.Errorf("detector %s reports category %q, which wire.LabelCategory lacks", n, d.Category())
		}
	}
}
