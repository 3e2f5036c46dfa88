package otlp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"go.uber.org/goleak"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/otlptest"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]string
		want    Config
		wantVar string
	}{
		{name: "none", give: nil, want: Config{}},
		{name: "endpoint enables both", give: map[string]string{EnvEndpoint: "http://localhost:4318"}, want: Config{Metrics: true, Logs: true}},
		{name: "explicit protocol", give: map[string]string{EnvEndpoint: "http://localhost:4318", EnvProtocol: "http/protobuf"}, want: Config{Metrics: true, Logs: true}},
		{name: "metrics only", give: map[string]string{EnvMetricsEndpoint: "http://localhost:4318/v1/metrics"}, want: Config{Metrics: true}},
		{name: "logs only", give: map[string]string{EnvLogsEndpoint: "https://otel.example/v1/logs"}, want: Config{Logs: true}},
		{name: "logs exporter none", give: map[string]string{EnvEndpoint: "http://localhost:4318", EnvLogsExporter: "none"}, want: Config{Metrics: true}},
		{name: "grpc refused", give: map[string]string{EnvEndpoint: "http://localhost:4317", EnvProtocol: "grpc"}, wantVar: EnvProtocol},
		{name: "per-signal protocol wins", give: map[string]string{EnvEndpoint: "http://localhost:4318", EnvProtocol: "grpc", EnvMetricsProtocol: "http/protobuf", EnvLogsExporter: "none"}, want: Config{Metrics: true}},
		{name: "per-signal json refused", give: map[string]string{EnvEndpoint: "http://localhost:4318", EnvLogsProtocol: "http/json"}, wantVar: EnvLogsProtocol},
		{name: "bad scheme", give: map[string]string{EnvEndpoint: "localhost:4318"}, wantVar: EnvEndpoint},
		{name: "bad signal url", give: map[string]string{EnvMetricsEndpoint: "http://"}, wantVar: EnvMetricsEndpoint},
		{name: "bad exporter", give: map[string]string{EnvEndpoint: "http://localhost:4318", EnvMetricsExporter: "prometheus"}, wantVar: EnvMetricsExporter},
		{name: "protocol without endpoint is ignored", give: map[string]string{EnvProtocol: "grpc"}, want: Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tt.give[k] })
			if tt.wantVar != "" {
				var ee *EnvError
				if !errors.As(err, &ee) || ee.Var != tt.wantVar {
					t.Fatalf("FromEnv() error = %v, want an *EnvError for %s", err, tt.wantVar)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("FromEnv() = %+v, %v, want %+v", got, err, tt.want)
			}
		})
	}
}

// newExporter starts a collector and an exporter configured for it by the
// standard environment variables.
func newExporter(t *testing.T, env map[string]string) (*Exporter, *otlptest.Collector) {
	t.Helper()
	c := otlptest.Start(t)
	t.Setenv(EnvEndpoint, c.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=acme")
	for k, v := range env {
		t.Setenv(k, v)
	}
	all := map[string]string{EnvEndpoint: c.URL}
	for k, v := range env {
		all[k] = v
	}
	cfg, err := FromEnv(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), cfg, "orders", "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
	})
	return e, c
}

var attrMap = otlptest.Attrs

// sums returns the delta sum points of name by decision label.
func sums(t *testing.T, req *colmetrics.ExportMetricsServiceRequest, name string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, rm := range req.GetResourceMetrics() {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() != name {
					continue
				}
				s := m.GetSum()
				if s == nil || !s.GetIsMonotonic() || s.GetAggregationTemporality() != metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_DELTA {
					t.Fatalf("%s is not a monotonic delta sum: %v", name, m)
				}
				for _, dp := range s.GetDataPoints() {
					a := attrMap(dp.GetAttributes())
					if a["function"] != "orders" {
						t.Errorf("%s point without function=orders: %v", name, a)
					}
					if dp.GetStartTimeUnixNano() == 0 || dp.GetStartTimeUnixNano() >= dp.GetTimeUnixNano() {
						t.Errorf("%s point interval [%d, %d]", name, dp.GetStartTimeUnixNano(), dp.GetTimeUnixNano())
					}
					out[a["decision"]] += dp.GetAsDouble()
				}
			}
		}
	}
	return out
}

func TestMetricsAreDeltas(t *testing.T) {
	e, c := newExporter(t, map[string]string{EnvLogsExporter: "none"})
	m := metrics.New("orders", nil, nil)
	inspect := func(action string, n int) {
		for i := 0; i < n; i++ {
			m.Handle(&wire.Event{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: action, DurationNS: 20_000})
		}
	}
	export := func() error {
		t.Helper()
		mfs, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return e.Export(ctx, mfs)
	}
	inspect("allow", 3)
	inspect("block", 1)
	if err := export(); err != nil {
		t.Fatal(err)
	}
	inspect("allow", 2)
	if err := export(); err != nil {
		t.Fatal(err)
	}
	// A refused export keeps its deltas for the next one.
	inspect("block", 4)
	c.SetStatus(http.StatusBadRequest)
	if err := export(); err == nil {
		t.Fatal("Export() to a refusing collector = nil")
	}
	c.SetStatus(0)
	inspect("block", 1)
	if err := export(); err != nil {
		t.Fatal(err)
	}

	reqs := c.Metrics()
	if len(reqs) != 3 {
		t.Fatalf("collector got %d metric exports, want 3", len(reqs))
	}
	if got := c.Headers()[0].Get("X-Tenant"); got != "acme" {
		t.Errorf("OTEL_EXPORTER_OTLP_HEADERS not sent: x-tenant = %q", got)
	}
	want := []map[string]float64{{"allow": 3, "block": 1}, {"allow": 2}, {"block": 5}}
	for i, w := range want {
		if got := sums(t, reqs[i], "lambda_rasp_inspections_total"); !reflect.DeepEqual(got, w) {
			t.Errorf("export %d: inspections deltas = %v, want %v", i, got, w)
		}
	}
	res := attrMap(reqs[0].GetResourceMetrics()[0].GetResource().GetAttributes())
	for k, v := range map[string]string{"service.name": "orders", "faas.name": "orders", "cloud.provider": "aws",
		"cloud.platform": "aws_lambda", "cloud.region": "eu-west-1"} {
		if res[k] != v {
			t.Errorf("resource %s = %q, want %q", k, res[k], v)
		}
	}
	for _, k := range []string{"service.instance.id", "faas.instance"} {
		if _, ok := res[k]; ok {
			t.Errorf("resource has %s: one series set per environment", k)
		}
	}
	// The histogram: 4 + 2 + 5 observations of 20 µs, as deltas.
	var counts []uint64
	for _, req := range reqs {
		for _, m := range req.GetResourceMetrics()[0].GetScopeMetrics()[0].GetMetrics() {
			if h := m.GetHistogram(); h != nil && m.GetName() == "lambda_rasp_inspection_duration_seconds" {
				dp := h.GetDataPoints()[0]
				counts = append(counts, dp.GetCount())
				var total uint64
				for _, b := range dp.GetBucketCounts() {
					total += b
				}
				if total != dp.GetCount() || len(dp.GetBucketCounts()) != len(dp.GetExplicitBounds())+1 {
					t.Errorf("histogram point buckets %v bounds %v count %d", dp.GetBucketCounts(), dp.GetExplicitBounds(), dp.GetCount())
				}
			}
		}
	}
	if !reflect.DeepEqual(counts, []uint64{4, 2, 5}) {
		t.Errorf("histogram delta counts = %v, want [4 2 5]", counts)
	}
}

func TestSecurityEventsAsLogRecords(t *testing.T) {
	e, c := newExporter(t, map[string]string{EnvMetricsExporter: "none"})
	e.SecurityEvent("orders", &wire.Event{Kind: wire.KindDetection, RequestID: "req-1", EventSource: "apigw-v2",
		RuleID: "sqli", Category: "sqli", Action: "block", Source: "query", Path: "query.q",
		Excerpt: "' OR 1=1--", PolicyVersion: "default@3f2a9c1e", Time: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)})
	e.SecurityEvent("orders", &wire.Event{Kind: wire.KindEgress, Action: "block", RuleID: "egress-metadata",
		Category: "ssrf", Dest: "169.254.169.254:80", Class: "metadata"})
	if len(c.Logs()) != 0 {
		t.Error("log records sent before the flush")
	}
	if err := e.Export(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Export(context.Background(), nil); err != nil { // nothing new: nothing sent
		t.Fatal(err)
	}
	logs := c.Logs()
	if len(logs) != 1 {
		t.Fatalf("collector got %d log exports, want 1", len(logs))
	}
	rl := logs[0].GetResourceLogs()[0]
	if got := attrMap(rl.GetResource().GetAttributes())["faas.name"]; got != "orders" {
		t.Errorf("resource faas.name = %q", got)
	}
	recs := rl.GetScopeLogs()[0].GetLogRecords()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	r := recs[0]
	if r.GetEventName() != EventName || r.GetSeverityText() != "WARN" || r.GetTimeUnixNano() != uint64(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC).UnixNano()) {
		t.Errorf("record = %v", r)
	}
	want := map[string]string{
		"faas.name": "orders", "faas.invocation_id": "req-1", "security_rule.name": "sqli",
		"security_rule.category": "sqli", "security_rule.ruleset.name": "default",
		AttrPolicyVersion: "default@3f2a9c1e", AttrAction: "block", AttrEventSource: "apigw-v2",
		AttrInputSource: "query", AttrInputPath: "query.q", AttrExcerpt: "' OR 1=1--",
	}
	if got := attrMap(r.GetAttributes()); !reflect.DeepEqual(got, want) {
		t.Errorf("attributes = %v\nwant %v", got, want)
	}
	if got := attrMap(recs[1].GetAttributes()); got[AttrDestination] != "169.254.169.254:80" || got[AttrDestClass] != "metadata" {
		t.Errorf("egress record attributes = %v", got)
	}
}

func TestLogBufferBoundedAndKeptOnFailure(t *testing.T) {
	e, c := newExporter(t, map[string]string{EnvMetricsExporter: "none"})
	c.SetStatus(http.StatusBadRequest)
	for i := 0; i < MaxBufferedRecords+10; i++ {
		e.SecurityEvent("orders", &wire.Event{Kind: wire.KindDetection, RuleID: "xss", Action: "monitor"})
	}
	if err := e.Export(context.Background(), nil); err == nil {
		t.Fatal("Export() to a refusing collector = nil")
	}
	if got := e.Dropped(); got != 10 {
		t.Errorf("Dropped() = %d, want 10", got)
	}
	c.SetStatus(0)
	if err := e.Export(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Records()); n != MaxBufferedRecords {
		t.Errorf("delivered %d records after the failure, want %d", n, MaxBufferedRecords)
	}
}

// TestExportHonoursDeadline: a collector that never answers costs at
// most the context's deadline.
func TestExportHonoursDeadline(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	t.Setenv(EnvEndpoint, srv.URL)
	e, err := New(context.Background(), Config{Metrics: true, Logs: true}, "orders", "")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown(context.Background())
	e.SecurityEvent("orders", &wire.Event{Kind: wire.KindDetection, RuleID: "xss", Action: "block"})
	reg := prometheus.NewRegistry()
	cnt := prometheus.NewCounter(prometheus.CounterOpts{Name: "lambda_rasp_x_total", Help: "x"})
	reg.MustRegister(cnt)
	cnt.Inc()
	mfs, _ := reg.Gather()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Export(ctx, mfs) }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Export() to a silent collector = nil")
		}
	case <-time.After(10 * time.Second): // not a performance bound: it would hang
		t.Fatal("Export() ignored its deadline")
	}
}
