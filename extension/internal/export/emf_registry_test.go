package export

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// registryEvents drives the extension's real registry through every kind
// of event the CloudWatch alarms of layer/deploy watch.
func registryEvents() []*wire.Event {
	return []*wire.Event{
		{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "allow", DurationNS: 20_000},
		{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "block", DurationNS: 30_000},
		{Kind: wire.KindInspection, EventSource: "sqs", Action: "block", DurationNS: 40_000, Truncated: true},
		{Kind: wire.KindInspection, EventSource: "sqs", Action: "allow", Reason: wire.ReasonBudget},
		{Kind: wire.KindDetection, RuleID: "sqli", Category: "sqli", Action: "block", Source: "query"},
		{Kind: wire.KindDetection, RuleID: "xss", Category: "xss", Action: "monitor", Source: "body"},
		{Kind: wire.KindSink, Sink: "sql", RuleID: "sink-sql", Category: "sqli", Action: "block", Source: "query"},
		{Kind: wire.KindEgress, Action: "block", Class: "metadata", Category: "egress", RuleID: "egress-metadata"},
		{Kind: wire.KindInspection, EventSource: "sqs", Action: "allow", Dropped: 2},
	}
}

// TestEMFRegistryGolden writes the EMF lines of the real registry to
// testdata/emf-registry.golden. The deployment examples' alarm test
// (layer/deploy) reads that file, so an alarm on a metric or dimension
// the extension does not write fails there.
func TestEMFRegistryGolden(t *testing.T) {
	m := metrics.New("orders", []string{"sqli", "xss", "sink-sql", "egress-metadata"}, nil)
	m.SetPolicy("default", "1", "block")
	for _, e := range registryEvents() {
		m.Handle(e)
	}
	m.Invocation("success")
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	e := NewEMF(&buf, "orders")
	e.Now = func() time.Time { return time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC) }
	if err := e.Export(context.Background(), mfs); err != nil {
		t.Fatal(err)
	}
	checkEMFLimits(t, buf.String())
	path := filepath.Join("testdata", "emf-registry.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("EMF output =\n%s\nwant\n%s", got, want)
	}
}

// checkEMFLimits checks every line against CloudWatch's EMF
// specification: at most 30 dimensions per set and 100 metrics per
// directive, every dimension a non-empty string member of the line, and
// every metric a number member.
func checkEMFLimits(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("line is not JSON: %v\n%s", err, line)
		}
		var aws struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		}
		raw, _ := json.Marshal(doc["_aws"])
		if err := json.Unmarshal(raw, &aws); err != nil {
			t.Fatalf("_aws: %v", err)
		}
		for _, d := range aws.CloudWatchMetrics {
			if d.Namespace != Namespace || len(d.Metrics) == 0 || len(d.Metrics) > 100 {
				t.Errorf("bad directive %+v", d)
			}
			for _, set := range d.Dimensions {
				if len(set) == 0 || len(set) > 30 {
					t.Errorf("dimension set %v: want 1 to 30 dimensions", set)
				}
				for _, dim := range set {
					if v, ok := doc[dim].(string); !ok || v == "" {
						t.Errorf("dimension %s has no string value in %s", dim, line)
					}
				}
			}
			for _, m := range d.Metrics {
				if _, ok := doc[m.Name].(float64); !ok {
					t.Errorf("metric %s has no number value in %s", m.Name, line)
				}
			}
		}
	}
}
