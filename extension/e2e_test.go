package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/promtest"
)

// The binaries TestMain builds: the extension as the layer ships it and a
// function wrapped with rasp.Start.
var (
	extDir    string // holds lambda-rasp, like /opt/extensions
	fnBin     string // testdata/fn
	sleeperFn string // a bootstrap that only sleeps
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "extension-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	extDir = filepath.Join(dir, "extensions")
	fnBin = filepath.Join(dir, "fn", "bootstrap")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, b := range []struct{ pkg, out string }{{".", filepath.Join(extDir, "lambda-rasp")}, {"./testdata/fn", fnBin}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = lambdasim.BuildGo(ctx, "", b.pkg, b.out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sleeperFn = filepath.Join(dir, "sleeper", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(sleeperFn), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(sleeperFn, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// lines is a concurrency-safe writer that keeps output lines.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// with returns the lines of the extension (prefix "[lambda-rasp] ")
// containing s, prefix removed.
func (l *lines) with(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(l.b.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "[lambda-rasp] "); ok && strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string { return promtest.FreeAddr(t) }

// socketPath returns a short per-test socket path.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rasp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s", "events.sock")
}

type simEnv struct {
	sim    *lambdasim.Sim
	stdout *lines
	stderr *lines
}

func newSim(t *testing.T, bootstrap string, cfg lambdasim.Config) *simEnv {
	t.Helper()
	env := &simEnv{stdout: &lines{}, stderr: &lines{}}
	cfg.Bootstrap = bootstrap
	cfg.ExtensionsDir = extDir
	if cfg.FunctionName == "" {
		cfg.FunctionName = "orders"
	}
	cfg.Stdout, cfg.Stderr = env.stdout, env.stderr
	sim, err := lambdasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	env.sim = sim
	t.Cleanup(func() {
		_ = sim.Close()
		if t.Failed() {
			t.Logf("stdout:\n%s\nstderr:\n%s", env.stdout, env.stderr)
			for _, e := range sim.Events() {
				t.Log(e)
			}
		}
	})
	return env
}

// invoke invokes and waits until the invoke phase ended, that is until
// the extension called next after its flush point.
func (e *simEnv) invoke(t *testing.T, payload string) *lambdasim.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.sim.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventInvokeEnd && ev.RequestID == res.RequestID
	})
	return res
}

func (e *simEnv) waitEvent(t *testing.T, match func(lambdasim.Event) bool) lambdasim.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range e.sim.Events() {
			if match(ev) {
				return ev
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("timed out waiting for a lifecycle event")
	return lambdasim.Event{}
}

func (e *simEnv) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.sim.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		t.Fatal(err)
	}
}

// scrape reads the extension's /metrics.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return decodeFamilies(t, resp.Body, expfmt.ResponseFormat(resp.Header))
}

func decodeFamilies(t *testing.T, r io.Reader, f expfmt.Format) map[string]*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(r, f)
	out := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		out[mf.GetName()] = &mf
	}
}

// value returns the value of the series of name whose labels include
// want (a counter, gauge, or a histogram's count); -1 if absent.
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	mf, ok := mfs[name]
	if !ok {
		return -1
	}
	total, found := 0.0, false
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.GetCounter().GetValue()
		case m.Gauge != nil:
			total += m.GetGauge().GetValue()
		case m.Histogram != nil:
			total += float64(m.GetHistogram().GetSampleCount())
		}
	}
	if !found {
		return -1
	}
	return total
}

func apigw(query string) string {
	return `{"version":"2.0","routeKey":"GET /items","rawPath":"/items","rawQueryString":"q=` + query +
		`","headers":{"host":"api.example.com","user-agent":"curl/8"},"queryStringParameters":{"q":"` + query +
		`"},"requestContext":{"http":{"method":"GET","path":"/items","sourceIp":"203.0.113.9"},"requestId":"rc-1","routeKey":"GET /items","stage":"$default"},"isBase64Encoded":false}`
}

// expectedMatches is how many detections the default policy reports for
// payload, computed with the same adapter and engine as the wrapper.
func expectedMatches(t *testing.T, payload string) int {
	t.Helper()
	eng, err := rules.LoadEnv(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ev, err := adapter.Parse([]byte(payload), adapter.PolicyLimits(eng.Limits()))
	if err != nil {
		t.Fatal(err)
	}
	d := eng.Inspect(context.Background(), &ev.Request)
	if d.Action != rules.ActionBlock {
		t.Fatalf("payload is not blocked by the default policy: %v", d.Action)
	}
	return len(d.Matches)
}

// pushRecorder is a Pushgateway that keeps the last pushed families.
type pushRecorder struct {
	mu     sync.Mutex
	pushes int
	path   string
	last   map[string]*dto.MetricFamily
	t      *testing.T
}

func (p *pushRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mfs := decodeFamilies(p.t, r.Body, expfmt.ResponseFormat(r.Header))
	p.mu.Lock()
	p.pushes++
	p.path = r.URL.Path
	p.last = mfs
	p.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func TestEndToEnd(t *testing.T) { testEndToEnd(t, false) }

// TestEndToEndFrozen runs the same traffic with the sandbox frozen
// (SIGSTOP) whenever the service would freeze it: everything the
// extension counts and flushes must happen before it calls next.
func TestEndToEndFrozen(t *testing.T) { testEndToEnd(t, true) }

func testEndToEnd(t *testing.T, freeze bool) {
	metricsAddr := freeAddr(t)
	push := &pushRecorder{t: t}
	pg := httptest.NewServer(push)
	defer pg.Close()
	env := map[string]string{
		"LAMBDA_RASP_SOCKET":          socketPath(t),
		"LAMBDA_RASP_PUSHGATEWAY_URL": pg.URL,
		"LAMBDA_RASP_FLUSH_INTERVAL":  "1h", // only SHUTDOWN exports
	}
	if !freeze { // a frozen extension cannot answer a scrape
		env["LAMBDA_RASP_METRICS_ADDR"] = metricsAddr
	}
	e := newSim(t, fnBin, lambdasim.Config{Freeze: freeze, Env: env})
	if err := e.sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionStart && ev.Name == "lambda-rasp"
	})
	reg := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionRegister && ev.Name == "lambda-rasp"
	})
	t.Logf("extension start to registered (simulator clock): %v", reg.Time.Sub(start.Time))
	for _, l := range e.stderr.with(`"msg":"registered"`) {
		t.Logf("extension log: %s", l)
	}
	if !strings.Contains(reg.Detail, "INVOKE") || !strings.Contains(reg.Detail, "SHUTDOWN") {
		t.Errorf("registered for %q, want INVOKE and SHUTDOWN", reg.Detail)
	}

	attack := apigw("x%27%20UNION%20SELECT%20name%2C%20sql%20FROM%20sqlite_master--")
	perAttack := expectedMatches(t, attack)
	const benign, attacks = 3, 2
	for i := 0; i < benign; i++ {
		if res := e.invoke(t, apigw("shoes")); res.StatusCode != 200 || strings.Contains(string(res.Body), "Forbidden") {
			t.Fatalf("benign invoke: %d %s", res.StatusCode, res.Body)
		}
	}
	for i := 0; i < attacks; i++ {
		if res := e.invoke(t, attack); !strings.Contains(string(res.Body), "403") {
			t.Fatalf("attack invoke was not blocked: %d %s", res.StatusCode, res.Body)
		}
	}
	emits := `{"emit":["sql","egress-deny","egress-allow","dropped","long-excerpt","malformed","version","oversized"]}`
	sinkRes := e.invoke(t, emits)
	if sinkRes.StatusCode != 200 || sinkRes.FunctionError != "" {
		t.Fatalf("emit invoke: %d %s", sinkRes.StatusCode, sinkRes.Body)
	}

	var mfs map[string]*dto.MetricFamily
	if !freeze { // a frozen extension cannot answer a scrape
		mfs = scrape(t, metricsAddr)
	}
	// Every series carries this function's name, whatever datagrams claim.
	for name, mf := range mfs { // empty when frozen
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "function" && lp.GetValue() != "orders" {
					t.Errorf("%s has function=%q", name, lp.GetValue())
				}
			}
		}
	}

	// One security log line per detection and per sink or egress event
	// that is not a plain allow.
	sec := e.stdout.with(`"logger":"security"`)
	wantLines := attacks*perAttack + 3
	if len(sec) != wantLines {
		t.Errorf("%d security log lines, want %d:\n%s", len(sec), wantLines, strings.Join(sec, "\n"))
	}
	allowed := map[string]bool{"level": true, "ts": true, "logger": true, "msg": true, "function": true, "request_id": true,
		"event_source": true, "rule": true, "category": true, "action": true, "source": true, "path": true, "excerpt": true,
		"sink": true, "dest": true, "class": true, "reason": true, "policy_version": true}
	var sqliLines int
	for _, l := range sec {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("security line is not JSON: %q", l)
		}
		for k := range m {
			if !allowed[k] {
				t.Errorf("unexpected key %q in %s", k, l)
			}
		}
		if m["msg"] != "security event" || m["function"] != "orders" || m["request_id"] == "" {
			t.Errorf("security line %s", l)
		}
		if ex, _ := m["excerpt"].(string); len(ex) > 200 {
			t.Errorf("excerpt of %d bytes", len(ex))
		}
		if m["rule"] == "sqli" && m["event_source"] == "apigw-v2" && m["action"] == "block" && m["source"] == "query" {
			sqliLines++
		}
		if strings.Contains(l, "sqlite_master") && !strings.Contains(l, `"excerpt"`) {
			t.Errorf("payload outside the excerpt: %s", l)
		}
	}
	if sqliLines != attacks*perAttack {
		t.Errorf("%d sqli lines, want %d", sqliLines, attacks*perAttack)
	}
	if raw := e.stdout.with(`"v":1`); len(raw) != 0 {
		t.Errorf("raw datagrams logged: %q", raw)
	}

	// Peak RSS of the extension process after the traffic (Linux only).
	if pid, ok := strings.CutPrefix(start.Detail, "pid "); ok {
		if b, err := os.ReadFile("/proc/" + pid + "/status"); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(l, "VmHWM:") || strings.HasPrefix(l, "VmRSS:") {
					t.Logf("extension %s", strings.Join(strings.Fields(l), " "))
				}
			}
		}
	}

	// SHUTDOWN always exports, within the deadline.
	e.shutdown(t)
	sd := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionEvent && ev.Name == "lambda-rasp" && strings.HasPrefix(ev.Detail, "SHUTDOWN")
	})
	exit := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp"
	})
	t.Logf("SHUTDOWN to extension exit (simulator clock, includes the final Pushgateway export): %v (%s)", exit.Time.Sub(sd.Time), exit.Detail)
	for _, l := range e.stderr.with(`"msg":"shut down"`) {
		t.Logf("extension log: %s", l)
	}
	if !strings.Contains(exit.Detail, "exit status 0") && !strings.Contains(exit.Detail, "status 0") {
		t.Errorf("extension exit: %s", exit.Detail)
	}
	push.mu.Lock()
	defer push.mu.Unlock()
	if push.pushes != 1 {
		t.Fatalf("%d pushes, want exactly 1 (at SHUTDOWN)", push.pushes)
	}
	// One group per function: the execution environment is no grouping
	// label unless LAMBDA_RASP_INSTANCE_LABEL=on.
	if push.path != "/metrics/job/lambda-rasp/function/orders" {
		t.Errorf("push path %q, want the job and function grouping key only", push.path)
	}
	if got := value(push.last, "lambda_rasp_inspections_total", map[string]string{"decision": "block"}); got != attacks {
		t.Errorf("pushed inspections{decision=block} = %v, want %d", got, attacks)
	}
	if got := value(push.last, "lambda_rasp_invocations_total", map[string]string{"status": "success"}); got != benign+attacks+1 {
		t.Errorf("pushed invocations{status=success} = %v, want %d", got, benign+attacks+1)
	}

	// The counts, from /metrics before SHUTDOWN, or from the SHUTDOWN push
	// when the sandbox was frozen.
	if freeze {
		mfs = push.last
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"lambda_rasp_inspections_total", map[string]string{"source": "apigw-v2", "decision": "allow"}, benign},
		{"lambda_rasp_inspections_total", map[string]string{"source": "apigw-v2", "decision": "block"}, attacks},
		{"lambda_rasp_inspections_total", map[string]string{"source": "json", "decision": "allow"}, 1},
		{"lambda_rasp_inspection_duration_seconds", map[string]string{"source": "apigw-v2"}, benign + attacks},
		{"lambda_rasp_detections_total", map[string]string{"rule": "sqli", "category": "sqli", "action": "block", "source": "query"}, float64(attacks * perAttack)},
		{"lambda_rasp_detections_total", map[string]string{"rule": "sqli-sink", "action": "block", "source": "body"}, 1},
		{"lambda_rasp_detections_total", map[string]string{"rule": "egress-deny", "action": "block", "source": "none"}, 1},
		{"lambda_rasp_detections_total", map[string]string{"rule": "other", "category": "xss", "action": "monitor"}, 1},
		{"lambda_rasp_egress_total", map[string]string{"decision": "block", "destination": "metadata"}, 1},
		{"lambda_rasp_egress_total", map[string]string{"decision": "allow", "destination": "public"}, 1},
		{"lambda_rasp_sink_checks_total", map[string]string{"sink": "sql", "decision": "block"}, 1},
		{"lambda_rasp_sink_checks_total", map[string]string{"sink": "egress"}, 2},
		{"lambda_rasp_sink_checks_total", map[string]string{"sink": "file", "decision": "allow"}, 1},
		{"lambda_rasp_events_dropped_total", nil, 4},
		{"lambda_rasp_ingest_errors_total", map[string]string{"reason": "malformed"}, 1},
		{"lambda_rasp_ingest_errors_total", map[string]string{"reason": "version"}, 1},
		{"lambda_rasp_ingest_errors_total", map[string]string{"reason": "oversized"}, 1},
		{"lambda_rasp_policy_info", map[string]string{"mode": "block"}, 1},
		{"lambda_rasp_export_errors_total", map[string]string{"exporter": "pushgateway"}, 0},
	}
	// invocations_total comes from Telemetry API batches, which the
	// platform delivers up to its buffering timeout late: exact at SHUTDOWN
	// (asserted on the push above), possibly behind on a /metrics scrape.
	if freeze {
		checks = append(checks, struct {
			name   string
			labels map[string]string
			want   float64
		}{"lambda_rasp_invocations_total", map[string]string{"status": "success"}, benign + attacks + 1})
	}
	for _, c := range checks {
		if got := value(mfs, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
