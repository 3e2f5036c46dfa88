package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// An invalid policy fails Init with init/error carrying the loader's
// exact message; the extension exits non-zero.
func TestInvalidPolicyFailsInit(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("version: 1\ninputs:\n  - id: probe\n    detector: nosuch\n    targets: [query]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LAMBDA_RASP_POLICY": policy, "LAMBDA_RASP_SOCKET": socketPath(t)}
	_, loadErr := rules.LoadEnv(context.Background(), func(k string) string { return env[k] })
	if loadErr == nil {
		t.Fatal("the test policy loads")
	}
	e := newSim(t, sleeperFn, lambdasim.Config{Env: env})
	err := e.sim.Start(context.Background())
	var ie *lambdasim.InitError
	if !errors.As(err, &ie) {
		t.Fatalf("Start() = %v, want an *InitError", err)
	}
	if ie.Type != "Extension.InvalidPolicy" {
		t.Errorf("init error type = %q, want Extension.InvalidPolicy", ie.Type)
	}
	if want := "extension lambda-rasp reported init/error: " + loadErr.Error(); ie.Message != want {
		t.Errorf("init error message = %q, want %q", ie.Message, want)
	}
	exit := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp"
	})
	if exit.Detail != "exit status 1" {
		t.Errorf("extension exit = %q, want exit status 1", exit.Detail)
	}
	if lines := e.stderr.with(`"msg":"init failed"`); len(lines) != 1 || !strings.Contains(lines[0], "Extension.InvalidPolicy") {
		t.Errorf("init failure log lines: %q", lines)
	}
}

// blackhole accepts connections and never answers.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// A black-holed exporter costs an invoke at most the export timeout, is
// counted, and is backed off after two failures so the following invokes
// no longer wait for it; SHUTDOWN still tries it and ends inside its
// deadline with exit 0.
func TestBlackholedExporterDoesNotStall(t *testing.T) {
	metricsAddr := freeAddr(t)
	const timeout = 200 * time.Millisecond
	e := newSim(t, fnBin, lambdasim.Config{Env: map[string]string{
		"LAMBDA_RASP_SOCKET":           socketPath(t),
		"LAMBDA_RASP_METRICS_ADDR":     metricsAddr,
		"LAMBDA_RASP_REMOTE_WRITE_URL": "http://" + blackhole(t) + "/api/v1/write",
		"LAMBDA_RASP_EXPORT_TIMEOUT":   timeout.String(),
		"LAMBDA_RASP_FLUSH_INTERVAL":   "1ns", // export after every invoke
	}})
	const invokes = 4
	for i := 0; i < invokes; i++ {
		res := e.invoke(t, apigw("shoes"))
		if res.StatusCode != 200 || res.FunctionError != "" {
			t.Fatalf("invoke %d: %d %s", i, res.StatusCode, res.Body)
		}
		var start, end lambdasim.Event
		for _, ev := range e.sim.Events() {
			if ev.RequestID == res.RequestID && ev.Kind == lambdasim.EventInvokeStart {
				start = ev
			}
			if ev.RequestID == res.RequestID && ev.Kind == lambdasim.EventInvokeEnd {
				end = ev
			}
		}
		phase := end.Time.Sub(start.Time)
		t.Logf("invoke phase with a black-holed exporter (timeout %v): %v, %s", timeout, phase, end.Detail)
		if end.Detail != "success" {
			t.Errorf("invoke phase ended %q", end.Detail)
		}
		// A loose bound: the export timeout plus the runtimeDone wait
		// and scheduling, far below the 3 s function timeout.
		if phase > timeout+1500*time.Millisecond {
			t.Errorf("invoke phase took %v with a %v export timeout", phase, timeout)
		}
	}
	mfs := scrape(t, metricsAddr)
	if got := value(mfs, "lambda_rasp_export_errors_total", map[string]string{"exporter": "remote_write"}); got != 2 {
		t.Errorf("export_errors_total{remote_write} = %v, want 2 (then backed off)", got)
	}
	if len(e.stderr.with(`"msg":"exporter backed off"`)) != 1 {
		t.Errorf("want one \"exporter backed off\" log line")
	}
	if got := value(mfs, "lambda_rasp_inspections_total", map[string]string{"decision": "allow"}); got != invokes {
		t.Errorf("inspections_total{allow} = %v, want %d", got, invokes)
	}
	e.shutdown(t)
	sd := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionEvent && ev.Name == "lambda-rasp" && strings.HasPrefix(ev.Detail, "SHUTDOWN")
	})
	exit := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp"
	})
	t.Logf("SHUTDOWN to exit with a black-holed exporter: %v (%s)", exit.Time.Sub(sd.Time), exit.Detail)
	if exit.Detail != "exit status 0" {
		t.Errorf("extension exit = %q, want exit status 0 before the deadline kill", exit.Detail)
	}
	for _, ev := range e.sim.Events() {
		if ev.Kind == lambdasim.EventExtensionKill {
			t.Errorf("extension was killed: %s", ev)
		}
	}
}

// Where the Telemetry API is stubbed (the classic emulator), the extension
// logs the failed subscription and keeps counting events.
func TestTelemetryUnavailable(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  lambdasim.Config
		env  map[string]string
	}{
		{"classic emulator stub", lambdasim.Config{ClassicTelemetry: true}, nil},
		{"turned off", lambdasim.Config{}, map[string]string{"LAMBDA_RASP_TELEMETRY": "off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			metricsAddr := freeAddr(t)
			tc.cfg.Env = map[string]string{"LAMBDA_RASP_SOCKET": socketPath(t), "LAMBDA_RASP_METRICS_ADDR": metricsAddr}
			for k, v := range tc.env {
				tc.cfg.Env[k] = v
			}
			e := newSim(t, fnBin, tc.cfg)
			for i := 0; i < 2; i++ {
				if res := e.invoke(t, apigw("shoes")); res.StatusCode != 200 {
					t.Fatalf("invoke: %d %s", res.StatusCode, res.Body)
				}
			}
			// Without runtimeDone the flush point cannot wait for the
			// runtime; the socket reader still counts every event.
			var got float64
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if got = value(scrape(t, metricsAddr), "lambda_rasp_inspections_total", map[string]string{"decision": "allow"}); got == 2 {
					break
				}
			}
			if got != 2 {
				t.Errorf("inspections_total{allow} = %v, want 2", got)
			}
			if got := value(scrape(t, metricsAddr), "lambda_rasp_invocations_total", nil); got != -1 {
				t.Errorf("invocations_total = %v without telemetry, want no series", got)
			}
			if tc.cfg.ClassicTelemetry && len(e.stderr.with("telemetry subscription failed")) != 1 {
				t.Errorf("no warning about the failed subscription:\n%s", e.stderr)
			}
			for _, ev := range e.sim.Events() {
				if ev.Kind == lambdasim.EventTelemetry && !tc.cfg.ClassicTelemetry {
					t.Errorf("subscribed although turned off: %s", ev)
				}
			}
		})
	}
}

// writeRecorder is a remote-write endpoint that keeps decoded bodies.
type writeRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (w *writeRecorder) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	d, err := snappy.Decode(nil, b)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.bodies = append(w.bodies, d)
	w.mu.Unlock()
	rw.WriteHeader(http.StatusNoContent)
}

// On Lambda Managed Instances the extension registers for SHUTDOWN only,
// does not subscribe to telemetry by default, counts concurrent invokes
// and exports at SHUTDOWN.
func TestManagedInstances(t *testing.T) {
	rw := &writeRecorder{}
	srv := httptest.NewServer(rw)
	defer srv.Close()
	e := newSim(t, fnBin, lambdasim.Config{ManagedInstances: true, Env: map[string]string{
		"LAMBDA_RASP_SOCKET":           socketPath(t),
		"LAMBDA_RASP_REMOTE_WRITE_URL": srv.URL + "/api/v1/write",
		"LAMBDA_RASP_FLUSH_INTERVAL":   "1h",
	}})
	if err := e.sim.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionRegister && ev.Name == "lambda-rasp"
	})
	if strings.Contains(reg.Detail, "INVOKE") || !strings.Contains(reg.Detail, "SHUTDOWN") {
		t.Errorf("registered %q, want SHUTDOWN only", reg.Detail)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := e.sim.Invoke(ctx, []byte(apigw("shoes")))
			for err == nil && res.ErrorType == lambdasim.ErrorTypeUnavailable { // no worker waited: retry, as a load balancer does
				time.Sleep(time.Millisecond)
				res, err = e.sim.Invoke(ctx, []byte(apigw("shoes")))
			}
			if err != nil || res.StatusCode != 200 {
				t.Errorf("invoke: %v %v", res, err)
			}
		}()
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond) // the socket reader is not frozen on managed instances
	e.shutdown(t)
	exit := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp"
	})
	if exit.Detail != "exit status 0" {
		t.Errorf("extension exit = %q", exit.Detail)
	}
	for _, ev := range e.sim.Events() {
		if ev.Kind == lambdasim.EventTelemetry {
			t.Errorf("subscribed to telemetry on managed instances: %s", ev)
		}
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.bodies) != 1 {
		t.Fatalf("%d remote writes, want 1 at SHUTDOWN", len(rw.bodies))
	}
	// The protobuf carries label names and values as plain strings.
	for _, want := range []string{"lambda_rasp_inspections_total", "apigw-v2", "lambda_rasp_policy_info", "orders"} {
		if !strings.Contains(string(rw.bodies[0]), want) {
			t.Errorf("remote write body lacks %q", want)
		}
	}
}

// invocations_total counts every status the Telemetry API reports; the
// SHUTDOWN that follows a timeout still exports them.
func TestInvocationStatuses(t *testing.T) {
	push := &pushRecorder{t: t}
	pg := httptest.NewServer(push)
	defer pg.Close()
	e := newSim(t, fnBin, lambdasim.Config{Timeout: time.Second, Env: map[string]string{
		"LAMBDA_RASP_SOCKET":          socketPath(t),
		"LAMBDA_RASP_PUSHGATEWAY_URL": pg.URL,
		"LAMBDA_RASP_FLUSH_INTERVAL":  "1h",
	}})
	if res := e.invoke(t, `{"hello":"world"}`); res.FunctionError != "" {
		t.Fatalf("success invoke: %s", res.Body)
	}
	if res := e.invoke(t, `{"fail":"boom"}`); res.FunctionError != "Unhandled" {
		t.Fatalf("error invoke: %s", res.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := e.sim.Invoke(ctx, []byte(`{"sleepMs":3000}`))
	if err != nil || !strings.Contains(string(res.Body), "timed out") {
		t.Fatalf("timeout invoke: %v %v", res, err)
	}
	// The timeout resets the environment: SHUTDOWN reason timeout.
	exit := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp" && ev.Generation == 1
	})
	if exit.Detail != "exit status 0" {
		t.Errorf("extension exit after the timeout: %s", exit.Detail)
	}
	push.mu.Lock()
	defer push.mu.Unlock()
	if push.pushes != 1 {
		t.Fatalf("%d pushes, want 1 at the SHUTDOWN after the timeout", push.pushes)
	}
	for status, want := range map[string]float64{"success": 1, "error": 1, "timeout": 1} {
		if got := value(push.last, "lambda_rasp_invocations_total", map[string]string{"status": status}); got != want {
			t.Errorf("invocations_total{status=%s} = %v, want %v", status, got, want)
		}
	}
	if got := value(push.last, "lambda_rasp_inspections_total", map[string]string{"source": "json", "decision": "allow"}); got != 3 {
		t.Errorf("inspections_total{json,allow} = %v, want 3", got)
	}
}
