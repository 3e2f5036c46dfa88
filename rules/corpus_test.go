package rules_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestDefaultPolicyCorpusEvents checks that the default policy allows the
// real-shaped benign events of the shared corpus.
func TestDefaultPolicyCorpusEvents(t *testing.T) {
	e := defaultEngine(t)
	files, err := filepath.Glob(filepath.Join(corpusDir(t), "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Skip("no corpus events")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d := e.Inspect(context.Background(), eventRequest(t, raw))
			if d.Action.String() != "allow" || len(d.Matches) != 0 || d.Err != nil {
				t.Errorf("Inspect(%s) = %v %+v (err %v), want allow without matches", filepath.Base(file), d.Action, d.Matches, d.Err)
			}
		})
	}
}
