package lambdasim_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// telemetryBatches returns the batches the telemetry test extension received.
func telemetryBatches(t *testing.T, out *syncBuffer, name string) [][]lambdasim.TelemetryEvent {
	t.Helper()
	var batches [][]lambdasim.TelemetryEvent
	for _, r := range out.records(name, "batch") {
		var b []lambdasim.TelemetryEvent
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("batch %s: %v", r.Body, err)
		}
		if len(b) == 0 || len(b) > 1000 {
			t.Errorf("batch of %d events, want 1..maxItems", len(b))
		}
		batches = append(batches, b)
	}
	if bad := out.records(name, "badbatch"); len(bad) > 0 {
		t.Errorf("batches that are not JSON arrays: %v", bad)
	}
	return batches
}

// platformTypes lists event types in delivery order, log lines as their category.
func platformTypes(batches [][]lambdasim.TelemetryEvent) ([]string, []lambdasim.TelemetryEvent) {
	var types []string
	var all []lambdasim.TelemetryEvent
	for _, b := range batches {
		for _, e := range b {
			types = append(types, e.Type)
			all = append(all, e)
		}
	}
	return types, all
}

func TestTelemetryDelivery(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "telemetry"), MemoryMB: 512})
	first := invoke(t, s, `{"action":"log","message":"hello telemetry"}`)
	second := invoke(t, s, `{"action":"error","message":"boom"}`)
	shutdown(t, s)

	subs := out.records("telemetry", "subscribe")
	if len(subs) != 1 || subs[0].Status != http.StatusOK || string(subs[0].Body) != `"OK"` {
		t.Fatalf("subscribe = %+v, want 200 \"OK\"", subs)
	}
	types, all := platformTypes(telemetryBatches(t, out, "telemetry"))
	// The subscription happens while the runtime may already be starting
	// (even be done), so its event's place is only bounded by initStart and
	// the subscribing extension's own readiness (platform.extension).
	sub := slices.Index(types, "platform.telemetrySubscription")
	if sub < 1 || sub > slices.Index(types, "platform.extension") {
		t.Errorf("platform.telemetrySubscription at %d in %v", sub, types)
	} else {
		types, all = slices.Delete(types, sub, sub+1), slices.Delete(all, sub, sub+1)
	}
	want := []string{
		"platform.initStart", "function", "platform.initRuntimeDone",
		"platform.extension", "platform.initReport",
		"platform.start", "function", "platform.runtimeDone", "platform.report",
		"platform.start", "function", "platform.runtimeDone", "platform.report",
	}
	if !slices.Equal(types, want) {
		t.Fatalf("delivered types =\n%v\nwant\n%v", types, want)
	}
	for _, e := range all {
		if len(e.Time) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(e.Time, "Z") {
			t.Errorf("%s time = %q, want ISO-8601 with milliseconds", e.Type, e.Time)
		}
	}
	if all[1].Record != "runtime starting" || all[6].Record != "hello telemetry" {
		t.Errorf("function records = %q, %q", all[1].Record, all[6].Record)
	}
	rec := func(i int) map[string]any {
		m, ok := all[i].Record.(map[string]any)
		if !ok {
			t.Fatalf("%s record = %T, want an object", all[i].Type, all[i].Record)
		}
		return m
	}
	if r := rec(0); r["initializationType"] != "on-demand" || r["phase"] != "init" {
		t.Errorf("initStart = %v", r)
	}
	if r := rec(3); r["name"] != "telemetry" || r["state"] != "Ready" {
		t.Errorf("platform.extension = %v", r)
	}
	if r := rec(5); r["requestId"] != first.RequestID || r["version"] != "$LATEST" {
		t.Errorf("platform.start = %v", r)
	}
	if r := rec(7); r["requestId"] != first.RequestID || r["status"] != "success" {
		t.Errorf("runtimeDone = %v", r)
	}
	if r := rec(11); r["requestId"] != second.RequestID || r["status"] != "error" || r["errorType"] != "errorString" {
		t.Errorf("second runtimeDone = %v", r)
	}
	report1, report2 := rec(8), rec(12)
	m1, _ := report1["metrics"].(map[string]any)
	m2, _ := report2["metrics"].(map[string]any)
	for _, k := range []string{"durationMs", "billedDurationMs", "memorySizeMB", "maxMemoryUsedMB", "initDurationMs"} {
		if _, ok := m1[k]; !ok {
			t.Errorf("cold-start report metrics lack %s: %v", k, m1)
		}
	}
	if m1["memorySizeMB"] != 512.0 {
		t.Errorf("memorySizeMB = %v, want 512", m1["memorySizeMB"])
	}
	if used, _ := m1["maxMemoryUsedMB"].(float64); used <= 0 {
		t.Errorf("maxMemoryUsedMB = %v, want > 0", m1["maxMemoryUsedMB"])
	}
	if d, b := m1["durationMs"].(float64), m1["billedDurationMs"].(float64); b < d || b > d+1 {
		t.Errorf("billedDurationMs = %v for durationMs %v, want it rounded up to the ms", b, d)
	}
	if _, ok := m2["initDurationMs"]; ok {
		t.Errorf("warm report has initDurationMs: %v", m2)
	}
}

func TestTelemetryClassicStub(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "telemetry"), ClassicTelemetry: true})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	shutdown(t, s)
	subs := out.records("telemetry", "subscribe")
	if len(subs) != 1 || subs[0].Status != http.StatusAccepted || !strings.Contains(string(subs[0].Body), `"errorType":"Telemetry.NotSupported"`) {
		t.Errorf("subscribe = %+v, want 202 Telemetry.NotSupported", subs)
	}
	if n := len(out.records("telemetry", "batch")); n != 0 {
		t.Errorf("classic mode delivered %d batches", n)
	}
}

func TestTelemetryManaged(t *testing.T) {
	tests := []struct {
		give       string
		wantStatus int
	}{
		{give: lambdasim.SchemaVersion20250129, wantStatus: http.StatusOK},
		{give: lambdasim.SchemaVersion20221213, wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			s, out := newSim(t, lambdasim.Config{
				ExtensionsDir:    extDir(t, "telemetry"),
				ManagedInstances: true,
				Env:              map[string]string{"SIMTEST_SCHEMA": tt.give},
			})
			res := invokeRetry(t, s, []byte(`{"managed":true}`), lambdasim.InvokeOptions{})
			shutdown(t, s)
			subs := out.records("telemetry", "subscribe")
			if len(subs) != 1 || subs[0].Status != tt.wantStatus {
				t.Fatalf("subscribe = %+v, want status %d", subs, tt.wantStatus)
			}
			types, all := platformTypes(telemetryBatches(t, out, "telemetry"))
			if tt.wantStatus != http.StatusOK {
				if len(types) != 0 {
					t.Errorf("refused subscription received %v", types)
				}
				return
			}
			if slices.Contains(types, "platform.runtimeDone") {
				t.Errorf("managed mode delivered platform.runtimeDone: %v", types)
			}
			i := slices.Index(types, "platform.report")
			if i < 0 {
				t.Fatalf("no platform.report in %v", types)
			}
			r, _ := all[i].Record.(map[string]any)
			m, _ := r["metrics"].(map[string]any)
			if r["requestId"] != res.RequestID || m["durationMs"] == nil || m["billedDurationMs"] != nil {
				t.Errorf("managed report = %v, want durationMs and spans only", r)
			}
			if init, _ := all[0].Record.(map[string]any); init["initializationType"] != "lambda-managed-instances" {
				t.Errorf("initStart = %v", all[0].Record)
			}
		})
	}
}

func TestTelemetryBufferingTimeout(t *testing.T) {
	// With timeoutMs at its 30 s maximum nothing is sent during the invokes;
	// the final flush before SHUTDOWN delivers everything in one batch.
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "telemetry"), Env: map[string]string{"SIMTEST_TIMEOUT_MS": "30000"}})
	invoke(t, s, `{"n":1}`)
	invoke(t, s, `{"n":2}`)
	time.Sleep(300 * time.Millisecond)
	if d := eventsOf(s, lambdasim.EventTelemetryDeliver, ""); len(d) != 0 {
		t.Errorf("delivered before timeoutMs: %v", d)
	}
	shutdown(t, s)
	batches := telemetryBatches(t, out, "telemetry")
	if len(batches) != 1 {
		t.Fatalf("batches = %d, want 1", len(batches))
	}
	types, _ := platformTypes(batches)
	if n := strings.Count(strings.Join(types, " "), "platform.report"); n != 2 {
		t.Errorf("final batch has %d reports, want 2: %v", n, types)
	}
}
