package detect

import (
	"slices"
	"testing"

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
