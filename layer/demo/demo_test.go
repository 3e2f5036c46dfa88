package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// TestTrafficShapes checks that every demo event is recognised as the
// source it claims to be by the wrapper's own adapter, and that the
// engine with the default policy decides each phase-1 event as the demo
// expects (benign allowed, attacks blocked).
func TestTrafficShapes(t *testing.T) {
	eng, err := rules.DefaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range inputTraffic() {
		raw, err := s.payload(i)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := adapter.Parse(raw, adapter.PolicyLimits(eng.Limits()))
		if err != nil {
			t.Fatalf("%s %q: Parse() = %v", s.Source, s.Label, err)
		}
		if ev.Source != s.Source {
			t.Errorf("%q: source = %q, want %q", s.Label, ev.Source, s.Source)
		}
		d := eng.Inspect(context.Background(), &ev.Request)
		if got, want := d.Blocked(), s.Attack; got != want {
			t.Errorf("%s %q: blocked = %v, want %v (matches %v)", s.Source, s.Label, got, want, d.Matches)
		}
	}
	for i, s := range sinkTraffic("127.0.0.1:9001", "http://127.0.0.1:8080") {
		raw, err := s.payload(i)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := adapter.Parse(raw, adapter.Limits{})
		if err != nil || ev.Source != s.Source {
			t.Errorf("%q: Parse() = %v, %v", s.Label, ev, err)
		}
	}
}

func TestDemoPolicy(t *testing.T) {
	base, err := os.ReadFile(filepath.Join("..", "..", "rules", "policy", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	partner := netip.MustParseAddrPort("127.0.0.1:43210")
	tests := []struct {
		give    bool
		wantTxt []string
	}{
		{false, []string{"name: demo\n", "default: deny", "cidr: 127.0.0.1/32", "ports: [43210]"}},
		{true, []string{"name: demo-rollout\n", "mode: monitor"}},
	}
	for _, tt := range tests {
		got, err := demoPolicy(base, partner, tt.give)
		if err != nil {
			t.Fatalf("demoPolicy(rollout=%v) = %v", tt.give, err)
		}
		for _, w := range tt.wantTxt {
			if !strings.Contains(string(got), w) {
				t.Errorf("demoPolicy(rollout=%v) lacks %q:\n%s", tt.give, w, got)
			}
		}
		pol, err := policy.Parse("demo.yaml", got)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pol.Inputs {
			if monitored := r.Mode != nil && *r.Mode == rules.ModeMonitor; monitored != tt.give {
				t.Errorf("rollout=%v: rule %s monitored = %v", tt.give, r.ID, monitored)
			}
		}
	}
	if _, err := demoPolicy([]byte("- a list"), partner, false); err == nil {
		t.Error("demoPolicy(list) = nil error, want one")
	}
}

func TestParseExposition(t *testing.T) {
	text := `# HELP lambda_rasp_inspections_total Inspected events.
# TYPE lambda_rasp_inspections_total counter
lambda_rasp_inspections_total{decision="block",function="f",source="sqs"} 2
lambda_rasp_inspections_total{decision="allow",function="f",source="apigw-v2"} 5
lambda_rasp_inspection_duration_seconds_bucket{function="f",source="sqs",le="1e-06"} 0
lambda_rasp_inspection_duration_seconds_bucket{function="f",source="sqs",le="1e-05"} 4
lambda_rasp_inspection_duration_seconds_bucket{function="f",source="sqs",le="+Inf"} 4
weird{a="x\"y\\z"} 1.5e3
`
	got, err := parseExposition(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("parsed %d samples, want 6", len(got))
	}
	if v := sum(got, "lambda_rasp_inspections_total", map[string]string{"decision": "block"}); v != 2 {
		t.Errorf("sum(block) = %g, want 2", v)
	}
	if g := group(got, "lambda_rasp_inspections_total", "source"); g["apigw-v2"] != 5 {
		t.Errorf("group = %v", g)
	}
	if got[5].Labels["a"] != `x"y\z` || got[5].Value != 1500 {
		t.Errorf("escaped sample = %+v", got[5])
	}
	if q := quantile(got, "lambda_rasp_inspection_duration_seconds", 0.5); math.Abs(q-5.5e-6) > 1e-9 {
		t.Errorf("p50 = %g, want 5.5e-06", q)
	}
	if q := quantile(nil, "x", 0.5); !math.IsNaN(q) {
		t.Errorf("quantile(no data) = %g, want NaN", q)
	}
	for _, bad := range []string{"novalue", `x{a="1} 2`, "x notanumber", `x{a} 1`} {
		if _, err := parseExposition(bad); err == nil {
			t.Errorf("parseExposition(%q) = nil error", bad)
		}
	}
}

func FuzzParseExposition(f *testing.F) {
	f.Add("a 1\nb{x=\"y\"} 2\n")
	f.Add(`x{a="\\",b="\n"} +Inf`)
	f.Fuzz(func(t *testing.T, text string) {
		samples, err := parseExposition(text)
		if err == nil {
			_ = quantile(samples, "a", 0.99)
		}
	})
}

func TestClassify(t *testing.T) {
	httpShot := shot{Source: srcAPIGWv2}
	sqsShot := shot{Source: srcSQS, Records: []string{"a", "b"}}
	tests := []struct {
		name string
		s    shot
		give lambdasim.Result
		want string
	}{
		{"served", httpShot, lambdasim.Result{Body: []byte(`{"statusCode":200,"body":"[]"}`)}, outcomeAllowed},
		{"input block", httpShot, lambdasim.Result{Body: []byte(`{"statusCode":403,"body":"{\"message\":\"Forbidden\",\"requestId\":\"x\"}"}`)}, outcomeBlocked},
		{"sink block", httpShot, lambdasim.Result{Body: []byte(`{"statusCode":403,"body":"{\"error\":\"blocked by runtime protection\"}"}`)}, outcomeSinkBlocked},
		{"handler error", httpShot, lambdasim.Result{Body: []byte(`{"statusCode":500,"body":"{}"}`)}, outcomeFailed},
		{"function error", sqsShot, lambdasim.Result{FunctionError: "Unhandled", Body: []byte(`{}`)}, outcomeFailed},
		{"partial batch", sqsShot, lambdasim.Result{Body: []byte(`{"batchItemFailures":[{"itemIdentifier":"m2"}]}`)}, outcomePartial},
		{"whole batch", sqsShot, lambdasim.Result{Body: []byte(`{"batchItemFailures":[]}`)}, outcomeAllowed},
		{"not JSON", httpShot, lambdasim.Result{Body: []byte(`oops`)}, outcomeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.give
			if got := classify(tt.s, &res).kind; got != tt.want {
				t.Errorf("classify() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLogSink(t *testing.T) {
	var l logSink
	l.Write([]byte(`[lambda-rasp] {"level":"warn","msg":"security event","request_id":"r1","rule":"sqli","action":"block","path":"query.q"}` + "\n[lambda-rasp] not json\n[runtime] {\"rule\":\"x\"}\n[lambda-rasp] {\"rule\":\"xss\",\"request_id\":\"r2\""))
	l.Write([]byte(",\"action\":\"monitor\"}\n"))
	if evs := l.waitFor("r1", false); len(evs) != 1 || evs[0].Rule != "sqli" || evs[0].Path != "query.q" {
		t.Errorf("r1 events = %+v", evs)
	}
	if evs := l.waitFor("r2", false); len(evs) != 1 || !hasAction(evs, "monitor") {
		t.Errorf("r2 events = %+v", evs)
	}
	if got := describe(l.all()); got != "sqli (query.q), xss" {
		t.Errorf("describe() = %q", got)
	}
}

// TestDemo runs the whole demo as "make demo" does (with fewer latency
// samples): layer and function builds, both phases in the simulator, and
// the checks that every benign request is served, every attack stopped
// and the extension's counts agree with the callers.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the layer and the example function")
	}
	var out bytes.Buffer
	err := Run(context.Background(), Options{Out: &out, Quick: true})
	t.Log("\n" + out.String())
	if errors.Is(err, ErrUnexpected) {
		t.Fatalf("Run() found wrong outcomes: %v", err)
	}
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	for _, want := range []string{"phase 1", "phase 2", "BLOCKED AT INPUT", "lambda_rasp_detections_total", "Demo finished"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
