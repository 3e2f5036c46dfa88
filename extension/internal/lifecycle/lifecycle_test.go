package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
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
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/export"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeAPI is an Extensions API that hands out queued events and records
// error reports.
type fakeAPI struct {
	srv       *httptest.Server
	events    chan string
	mu        sync.Mutex
	regEvents []string
	errType   string
	errBody   map[string]any
	nexts     int
	// subscribeOK makes the Telemetry API accept subscriptions (and then
	// never deliver anything); else it answers like the classic emulator.
	subscribeOK bool
}

func newFakeAPI(t *testing.T) *fakeAPI {
	t.Helper()
	f := &fakeAPI{events: make(chan string, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Events []string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.regEvents = body.Events
		f.mu.Unlock()
		w.Header().Set("Lambda-Extension-Identifier", "id-1")
		_, _ = io.WriteString(w, `{"functionName":"orders","functionVersion":"$LATEST"}`)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.nexts++
		f.mu.Unlock()
		select {
		case ev := <-f.events:
			_, _ = io.WriteString(w, ev)
		case <-r.Context().Done():
		}
	})
	report := func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.errType = r.Header.Get("Lambda-Extension-Function-Error-Type")
		_ = json.NewDecoder(r.Body).Decode(&f.errBody)
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}
	mux.HandleFunc("POST /2020-01-01/extension/init/error", report)
	mux.HandleFunc("POST /2020-01-01/extension/exit/error", report)
	mux.HandleFunc("PUT /2022-07-01/telemetry", func(w http.ResponseWriter, _ *http.Request) {
		if f.subscribeOK {
			_, _ = io.WriteString(w, `"OK"`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"errorType":"Telemetry.NotSupported"}`)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) env(t *testing.T, extra map[string]string) func(string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	env := map[string]string{
		EnvRuntimeAPI:   strings.TrimPrefix(f.srv.URL, "http://"),
		EnvFunctionName: "orders",
		EnvSocket:       filepath.Join(dir, "events.sock"),
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestRunInitErrors(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		wantType string
		wantMsg  string
	}{
		{"telemetry switch", map[string]string{EnvTelemetry: "sometimes"}, ErrTypeInvalidConfig, `LAMBDA_RASP_TELEMETRY: want on or off, got "sometimes"`},
		{"export config", map[string]string{"LAMBDA_RASP_FLUSH_INTERVAL": "soon"}, ErrTypeInvalidConfig, "export: LAMBDA_RASP_FLUSH_INTERVAL: invalid duration"},
		{"metrics address not loopback", map[string]string{"LAMBDA_RASP_METRICS_ADDR": "0.0.0.0:9464"}, ErrTypeInvalidConfig, "address is not loopback"},
		{"invalid mode", map[string]string{"LAMBDA_RASP_MODE": "panic"}, ErrTypeInvalidPolicy, "LAMBDA_RASP_MODE"},
		{"missing policy file", map[string]string{"LAMBDA_RASP_POLICY": "/nonexistent/policy.yaml"}, ErrTypeInvalidPolicy, "/nonexistent/policy.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			err := Run(context.Background(), Config{Name: "lambda-rasp", Getenv: f.env(t, tt.env), Stdout: io.Discard})
			var ie *InitError
			if !errors.As(err, &ie) || ie.Type != tt.wantType {
				t.Fatalf("Run() = %v, want an *InitError of type %s", err, tt.wantType)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.errType != tt.wantType || f.errBody["errorMessage"] != ie.Err.Error() || !strings.Contains(ie.Err.Error(), tt.wantMsg) {
				t.Errorf("init/error type=%q body=%v; error %q should contain %q", f.errType, f.errBody, ie.Err, tt.wantMsg)
			}
			if f.nexts != 0 {
				t.Errorf("called next %d times after a failed init", f.nexts)
			}
		})
	}
}

func TestRunWithoutRuntimeAPI(t *testing.T) {
	err := Run(context.Background(), Config{Name: "x", Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), EnvRuntimeAPI) {
		t.Errorf("Run() = %v", err)
	}
}

func TestRunEvents(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		events     []string
		cancel     bool
		wantEvents string
	}{
		{
			name:       "invoke then shutdown",
			events:     []string{`{"eventType":"INVOKE","requestId":"r-1","deadlineMs":` + future(3*time.Second) + `}`, `{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":` + future(2*time.Second) + `}`},
			wantEvents: "INVOKE,SHUTDOWN",
		},
		{
			name:       "managed instances register for shutdown only",
			env:        map[string]string{EnvInitType: InitTypeManaged},
			events:     []string{`{"eventType":"SHUTDOWN","shutdownReason":"spindown"}`},
			wantEvents: "SHUTDOWN",
		},
		{
			name:       "SIGTERM while waiting for next",
			cancel:     true,
			wantEvents: "INVOKE,SHUTDOWN",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(t)
			for _, ev := range tt.events {
				f.events <- ev
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				go func() {
					for {
						f.mu.Lock()
						n := f.nexts
						f.mu.Unlock()
						if n > 0 {
							cancel()
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			}
			if err := Run(ctx, Config{Name: "lambda-rasp", Getenv: f.env(t, tt.env), Stdout: io.Discard}); err != nil {
				t.Fatalf("Run() = %v", err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if got := strings.Join(f.regEvents, ","); got != tt.wantEvents {
				t.Errorf("registered for %s, want %s", got, tt.wantEvents)
			}
			if f.errType != "" {
				t.Errorf("reported an error: %s %v", f.errType, f.errBody)
			}
		})
	}
}

func future(d time.Duration) string {
	b, _ := json.Marshal(time.Now().Add(d).UnixMilli())
	return string(b)
}

// fakeExporter answers after delay, or fails, or ignores its context.
type fakeExporter struct {
	name    string
	delay   time.Duration
	err     error
	deaf    bool // ignores ctx
	release chan struct{}
	calls   int
	mu      sync.Mutex
}

func (e *fakeExporter) Name() string { return e.name }

func (e *fakeExporter) Export(ctx context.Context, _ []*dto.MetricFamily) error {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	if e.deaf {
		<-e.release
		return nil
	}
	select {
	case <-time.After(e.delay):
		return e.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestExportIsBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	exps := []*fakeExporter{
		{name: "fast"},
		{name: "failing", err: errors.New("status 500")},
		{name: "slow", delay: time.Hour},
		{name: "deaf", deaf: true, release: release},
	}
	r := &runner{m: metrics.New("orders", nil, nil), log: zap.NewNop()}
	for _, e := range exps {
		r.exps = append(r.exps, export.Exporter(e))
	}
	const bound = 100 * time.Millisecond
	start := time.Now()
	r.export(context.Background(), start.Add(bound), false)
	took := time.Since(start)
	// Not a performance assertion: without the bound it would take an hour.
	if took > bound+exportGrace+time.Second {
		t.Errorf("export took %v with a %v deadline", took, bound)
	}
	mfs, err := r.m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "lambda_rasp_export_errors_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"failing": 1, "slow": 1, "deaf": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("export_errors_total{%s} = %v, want %v", k, got[k], v)
		}
	}
	if got["fast"] != 0 {
		t.Errorf("export_errors_total{fast} = %v", got["fast"])
	}
	for _, e := range exps {
		e.mu.Lock()
		if e.calls != 1 {
			t.Errorf("%s called %d times", e.name, e.calls)
		}
		e.mu.Unlock()
	}
}

// newBackoffRunner returns a runner exporting to exps, each with a
// default backoff.
func newBackoffRunner(exps ...*fakeExporter) *runner {
	r := &runner{m: metrics.New("orders", nil, nil), log: zap.NewNop(), backoff: map[string]*export.Backoff{}}
	for _, e := range exps {
		r.exps = append(r.exps, export.Exporter(e))
		r.backoff[e.name] = &export.Backoff{}
	}
	return r
}

// TestDeadExporterBackedOff: after two failed due exports a dead exporter
// is no longer called (so it no longer costs the timeout), a healthy one
// still is, and the SHUTDOWN export tries both.
func TestDeadExporterBackedOff(t *testing.T) {
	dead := &fakeExporter{name: "dead", delay: time.Hour}
	ok := &fakeExporter{name: "ok"}
	r := newBackoffRunner(dead, ok)
	calls := func(e *fakeExporter) int {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.calls
	}
	for i := 0; i < 5; i++ {
		r.export(context.Background(), time.Now().Add(10*time.Millisecond), false)
	}
	if got := calls(dead); got != export.DefaultBackoffThreshold {
		t.Errorf("dead exporter called %d times in 5 due exports, want %d", got, export.DefaultBackoffThreshold)
	}
	if got := calls(ok); got != 5 {
		t.Errorf("healthy exporter called %d times, want 5", got)
	}
	r.export(context.Background(), time.Now().Add(10*time.Millisecond), true)
	if got := calls(dead); got != export.DefaultBackoffThreshold+1 {
		t.Errorf("the shutdown export skipped the backed-off exporter (%d calls)", got)
	}
}

// BenchmarkDueExportDeadExporter is the cost of one due export when the
// only exporter is dead (never answers) and the export timeout is 20 ms:
// without backoff every due export costs the timeout, with it only the
// first two do.
func BenchmarkDueExportDeadExporter(b *testing.B) {
	for _, withBackoff := range []bool{false, true} {
		name := "no_backoff"
		if withBackoff {
			name = "backoff"
		}
		b.Run(name, func(b *testing.B) {
			r := newBackoffRunner(&fakeExporter{name: "dead", delay: time.Hour})
			for b.Loop() {
				if !withBackoff {
					r.backoff["dead"] = &export.Backoff{}
				}
				r.export(context.Background(), time.Now().Add(20*time.Millisecond), false)
			}
		})
	}
}

func TestTelemetryEnabled(t *testing.T) {
	tests := []struct {
		value   string
		managed bool
		want    bool
		wantErr bool
	}{
		{"", false, true, false},
		{"", true, false, false},
		{"on", true, true, false},
		{"OFF", false, false, false},
		{"maybe", false, false, true},
	}
	for _, tt := range tests {
		r := &runner{managed: tt.managed, getenv: func(string) string { return tt.value }}
		got, err := r.telemetryEnabled()
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("telemetryEnabled(%q, managed=%v) = %v, %v", tt.value, tt.managed, got, err)
		}
	}
}

// syncBuffer is a concurrency-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Managed instances get no INVOKE and are not frozen: the extension
// exports every flush interval on its own, and once more at SHUTDOWN.
func TestManagedExportsOnATimer(t *testing.T) {
	f := newFakeAPI(t)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Name: "lambda-rasp", Stdout: out, Getenv: f.env(t, map[string]string{
			EnvInitType: InitTypeManaged, "LAMBDA_RASP_EMF": "on", "LAMBDA_RASP_FLUSH_INTERVAL": "20ms",
		})})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(out.String(), "lambda_rasp_policy_info") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no periodic export; output:\n%s", out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := strings.Count(out.String(), "lambda_rasp_policy_info")
	f.events <- `{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":` + future(2*time.Second) + `}`
	if err := <-done; err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if after := strings.Count(out.String(), "lambda_rasp_policy_info"); after <= before {
		t.Errorf("no export at SHUTDOWN (%d EMF documents before, %d after)", before, after)
	}
}

// A subscription that never delivers costs one wait, not one per invoke.
func TestUndeliveredTelemetryStopsWaiting(t *testing.T) {
	f := newFakeAPI(t)
	f.subscribeOK = true
	for _, id := range []string{"r-1", "r-2", "r-3"} {
		f.events <- `{"eventType":"INVOKE","requestId":"` + id + `","deadlineMs":` + future(10*time.Second) + `}`
	}
	f.events <- `{"eventType":"SHUTDOWN","shutdownReason":"spindown"}`
	core, logs := observer.New(zapcore.DebugLevel)
	// An exporter due at every invoke: the extension waits for runtimeDone.
	env := f.env(t, map[string]string{"LAMBDA_RASP_EMF": "on", "LAMBDA_RASP_FLUSH_INTERVAL": "1ns"})
	if err := Run(context.Background(), Config{Name: "lambda-rasp", Log: zap.New(core), Getenv: env, Stdout: io.Discard}); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if n := logs.FilterMessage("no runtimeDone in time").Len(); n != 1 {
		t.Errorf("waited in vain %d times, want 1", n)
	}
	if n := logs.FilterMessage("no telemetry delivered; no longer waiting for platform.runtimeDone").Len(); n != 1 {
		t.Errorf("%d warnings about undelivered telemetry, want 1", n)
	}
	if logs.FilterMessage("registered").Len() != 1 || logs.FilterMessage("shut down").Len() != 1 {
		t.Errorf("log messages: %v", logs.All())
	}
}

// TestNoWaitWithoutDueExport checks that the extension calls next at once
// after an INVOKE when no export is due: the platform bills the time an
// extension spends before its next /event/next.
func TestNoWaitWithoutDueExport(t *testing.T) {
	f := newFakeAPI(t)
	f.subscribeOK = true
	for _, id := range []string{"r-1", "r-2"} {
		f.events <- `{"eventType":"INVOKE","requestId":"` + id + `","deadlineMs":` + future(10*time.Second) + `}`
	}
	f.events <- `{"eventType":"SHUTDOWN","shutdownReason":"spindown"}`
	core, logs := observer.New(zapcore.DebugLevel)
	env := f.env(t, map[string]string{"LAMBDA_RASP_EMF": "on", "LAMBDA_RASP_FLUSH_INTERVAL": "1h"})
	start := time.Now()
	if err := Run(context.Background(), Config{Name: "lambda-rasp", Log: zap.New(core), Getenv: env, Stdout: io.Discard}); err != nil {
		t.Fatalf("Run() = %v", err)
	}
	t.Logf("two invokes and a shutdown in %v", time.Since(start))
	if n := logs.FilterMessage("no runtimeDone in time").Len(); n != 0 {
		t.Errorf("waited for runtimeDone %d times with no export due, want 0", n)
	}
}
