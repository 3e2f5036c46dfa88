package metrics_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/export"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// observability is layer/observability, relative to this package.
var observability = filepath.Join("..", "..", "..", "layer", "observability")

// exporterLabels are added to every series by the exporters (remote
// write's extra labels, the Pushgateway grouping key, the OTLP data point
// and resource attributes as a Prometheus exporter writes them).
var exporterLabels = []string{"function", "job", "instance"}

var (
	metricSel = regexp.MustCompile(`(lambda_rasp_[a-z_]+)(\{[^}]*\})?`)
	matcher   = regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	byClause  = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	literal   = regexp.MustCompile(`^[A-Za-z0-9_ .-]+(\|[A-Za-z0-9_ .-]+)*$`)
)

// query is one PromQL expression and where it comes from.
type query struct{ where, expr string }

func observabilityQueries(t *testing.T) []query {
	t.Helper()
	var out []query
	data, err := os.ReadFile(filepath.Join(observability, "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert, Record, Expr string
			}
		}
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatal(err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			out = append(out, query{"alert " + r.Alert + r.Record, r.Expr})
		}
	}
	data, err = os.ReadFile(filepath.Join(observability, "grafana", "lambda-rasp.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			out = append(out, query{"panel " + p.Title, tg.Expr})
		}
	}
	if len(out) < 10 {
		t.Fatalf("found %d queries, want the alert rules and dashboard panels", len(out))
	}
	return out
}

// exported maps each exported series name to its labels and their values.
type exported map[string]map[string]map[string]bool

func (e exported) add(name string, labels map[string]string) {
	if e[name] == nil {
		e[name] = map[string]map[string]bool{}
	}
	for _, l := range exporterLabels {
		if e[name][l] == nil {
			e[name][l] = map[string]bool{}
		}
	}
	for k, v := range labels {
		if e[name][k] == nil {
			e[name][k] = map[string]bool{}
		}
		e[name][k][v] = true
	}
}

// registrySeries drives the real registry with every label value the
// queries use, in every field of every kind of event, and returns what it
// exports: a value outside a label's bounded set comes out as "other", so
// a query on a value the extension never writes finds nothing here.
func registrySeries(t *testing.T, candidates []string) exported {
	t.Helper()
	m := metrics.New("orders", candidates, nil)
	m.SetPolicy("default", "1", "block")
	exps, err := export.New(export.Config{RemoteWriteURL: "http://127.0.0.1:1", PushgatewayURL: "http://127.0.0.1:1", EMF: true},
		"orders", "i", io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exps {
		m.InitExporter(e.Name())
		m.ExportError(e.Name())
	}
	for _, v := range candidates {
		m.Handle(&wire.Event{Kind: wire.KindInspection, EventSource: v, Action: v, Reason: v, DurationNS: 1000, Dropped: 1})
		m.Handle(&wire.Event{Kind: wire.KindDetection, RuleID: v, Category: v, Action: v, Source: v})
		m.Handle(&wire.Event{Kind: wire.KindSink, Sink: v, RuleID: v, Category: v, Action: v, Source: v})
		m.Handle(&wire.Event{Kind: wire.KindEgress, Class: v, RuleID: v, Category: v, Action: v})
		m.Invocation(v)
		m.Reject(v)
	}
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := exported{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range mt.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			name := mf.GetName()
			if mf.GetType() != dto.MetricType_HISTOGRAM {
				out.add(name, labels)
				continue
			}
			out.add(name+"_sum", labels)
			out.add(name+"_count", labels)
			labels["le"] = "" // every bucket's bound
			out.add(name+"_bucket", labels)
		}
	}
	return out
}

// TestObservabilityMatchesRegistry checks every metric name, every label
// and every literal label value the Prometheus alert rules and the Grafana
// dashboard use against what the extension's registry exports.
func TestObservabilityMatchesRegistry(t *testing.T) {
	queries := observabilityQueries(t)
	var candidates []string
	seen := map[string]bool{}
	for _, q := range queries {
		for _, mm := range matcher.FindAllStringSubmatch(q.expr, -1) {
			if (mm[2] == "=" || mm[2] == "=~") && literal.MatchString(mm[3]) {
				for _, v := range strings.Split(mm[3], "|") {
					if !seen[v] {
						seen[v] = true
						candidates = append(candidates, v)
					}
				}
			}
		}
	}
	sort.Strings(candidates)
	reg := registrySeries(t, candidates)

	for _, q := range queries {
		sels := metricSel.FindAllStringSubmatch(q.expr, -1)
		if len(sels) == 0 {
			t.Errorf("%s: no lambda_rasp metric in %q", q.where, q.expr)
			continue
		}
		used := map[string]bool{} // labels of the metrics the query reads
		for _, sel := range sels {
			name := sel[1]
			labels, ok := reg[name]
			if !ok {
				t.Errorf("%s: uses %s, which the extension does not export", q.where, name)
				continue
			}
			for l := range labels {
				used[l] = true
			}
			for _, mm := range matcher.FindAllStringSubmatch(sel[2], -1) {
				label, op, value := mm[1], mm[2], mm[3]
				values, ok := labels[label]
				if !ok {
					t.Errorf("%s: %s has no label %s", q.where, name, label)
					continue
				}
				if (op != "=" && op != "=~") || !literal.MatchString(value) || label == "function" {
					continue
				}
				for _, v := range strings.Split(value, "|") {
					if !values[v] {
						t.Errorf("%s: %s{%s} never takes the value %q", q.where, name, label, v)
					}
				}
			}
		}
		for _, by := range byClause.FindAllStringSubmatch(q.expr, -1) {
			for _, l := range strings.Split(by[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !used[l] {
					t.Errorf("%s: groups by %s, which no metric it reads has", q.where, l)
				}
			}
		}
	}
}
