package metrics

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// gatherAndCompare is prometheus/testutil.GatherAndCompare, which this
// module cannot use without a new dependency (kylelemons/godebug): it
// compares the text exposition of the named families of g with want.
func gatherAndCompare(g prometheus.Gatherer, want io.Reader, names ...string) error {
	mfs, err := g.Gather()
	if err != nil {
		return fmt.Errorf("gather: %w", err)
	}
	var got bytes.Buffer
	for _, mf := range mfs {
		if len(names) > 0 && !slices.Contains(names, mf.GetName()) {
			continue
		}
		if _, err := expfmt.MetricFamilyToText(&got, mf); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
	}
	w, err := io.ReadAll(want)
	if err != nil {
		return err
	}
	if g, w := strings.TrimSpace(got.String()), strings.TrimSpace(string(w)); g != w {
		return fmt.Errorf("metrics differ:\n--- got\n%s\n--- want\n%s", g, w)
	}
	return nil
}
