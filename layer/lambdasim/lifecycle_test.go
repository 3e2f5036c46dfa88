package lambdasim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

func TestInvokeEcho(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "logger")})
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	tests := []struct {
		give      string
		wantBody  string
		wantError string
	}{
		{give: `{"hello":"world"}`, wantBody: `{"hello":"world"}`},
		{give: `[1,2,3]`, wantBody: `[1,2,3]`},
		{give: `{"action":"log","message":"hi there"}`, wantBody: `{"logged":"hi there"}`},
		{give: `{"action":"error","message":"bad input"}`, wantBody: `{"errorMessage":"bad input","errorType":"errorString"}`, wantError: "errorString"},
		{give: `{"action":"streamerror","message":"stream broke"}`, wantBody: `{"errorMessage":"stream broke","errorType":"errorString"}`, wantError: "errorString"},
	}
	for _, tt := range tests {
		res := invoke(t, s, tt.give)
		if res.StatusCode != http.StatusOK {
			t.Errorf("Invoke(%s).StatusCode = %d, want 200", tt.give, res.StatusCode)
		}
		if got := strings.TrimSpace(string(res.Body)); got != tt.wantBody {
			t.Errorf("Invoke(%s).Body = %s, want %s", tt.give, got, tt.wantBody)
		}
		if res.ErrorType != tt.wantError {
			t.Errorf("Invoke(%s).ErrorType = %q, want %q", tt.give, res.ErrorType, tt.wantError)
		}
		if (res.FunctionError == "Unhandled") != (tt.wantError != "") {
			t.Errorf("Invoke(%s).FunctionError = %q", tt.give, res.FunctionError)
		}
		if len(res.RequestID) != 36 {
			t.Errorf("Invoke(%s).RequestID = %q, want a uuid", tt.give, res.RequestID)
		}
	}
	shutdown(t, s)

	// The extension saw one INVOKE per request, with the documented fields, then SHUTDOWN.
	evs := receivedEvents(t, out, "logger")
	if len(evs) != len(tests)+1 {
		t.Fatalf("logger received %d events, want %d", len(evs), len(tests)+1)
	}
	for _, ev := range evs[:len(tests)] {
		if ev.EventType != "INVOKE" || ev.RequestID == "" || ev.DeadlineMs == 0 ||
			ev.InvokedFunctionArn != "arn:aws:lambda:us-east-1:123456789012:function:function" ||
			ev.Tracing == nil || ev.Tracing.Type != "X-Amzn-Trace-Id" || !strings.HasPrefix(ev.Tracing.Value, "Root=1-") {
			t.Errorf("INVOKE event = %+v", ev)
		}
	}
	if last := evs[len(evs)-1]; last.EventType != "SHUTDOWN" || last.ShutdownReason != "spindown" || last.DeadlineMs == 0 {
		t.Errorf("last event = %+v, want SHUTDOWN spindown", last)
	}
	if !strings.Contains(out.String(), "[runtime] runtime starting\n") || !strings.Contains(out.String(), "[runtime] hi there\n") {
		t.Errorf("runtime output not captured with prefix:\n%s", out.String())
	}
	if _, err := s.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, lambdasim.ErrClosed) {
		t.Errorf("Invoke after Shutdown error = %v, want ErrClosed", err)
	}
}

func TestInvokeEndpoint(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{FunctionName: "orders", Region: "eu-west-1"})
	post := func(body string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.InvokeURL(), strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"tenant":"t-42"}}`))
	resp, body := post(`{"action":"context"}`, map[string]string{"X-Amz-Client-Context": cc})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("context invoke = %d %q %s", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body)
	}
	var got struct {
		RequestID    string            `json:"requestId"`
		FunctionARN  string            `json:"functionArn"`
		ClientCustom map[string]string `json:"clientCustom"`
		DeadlineMs   int64             `json:"deadlineMs"`
		TraceID      string            `json:"traceId"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("context body %s: %v", body, err)
	}
	if got.ClientCustom["tenant"] != "t-42" {
		t.Errorf("client context custom = %v, want tenant t-42", got.ClientCustom)
	}
	if got.FunctionARN != "arn:aws:lambda:eu-west-1:123456789012:function:orders" {
		t.Errorf("function ARN = %q", got.FunctionARN)
	}
	if got.RequestID == "" || got.RequestID != resp.Header.Get("X-Amzn-Requestid") {
		t.Errorf("request id = %q, header %q", got.RequestID, resp.Header.Get("X-Amzn-Requestid"))
	}
	if d := time.Until(time.UnixMilli(got.DeadlineMs)); d <= 0 || d > lambdasim.DefaultTimeout {
		t.Errorf("deadline is %v away, want within the %v timeout", d, lambdasim.DefaultTimeout)
	}
	if !strings.HasPrefix(got.TraceID, "Root=1-") {
		t.Errorf("trace id = %q", got.TraceID)
	}

	resp, _ = post(`{"action":"log","message":"tail me"}`, map[string]string{"X-Amz-Log-Type": "Tail"})
	tail, err := base64.StdEncoding.DecodeString(resp.Header.Get("X-Amz-Log-Result"))
	if err != nil || !strings.HasPrefix(string(tail), "START RequestId: "+resp.Header.Get("X-Amzn-Requestid")) || !strings.Contains(string(tail), "\ntail me\n") {
		t.Errorf("log tail = %q (%v), want START and the function's line", tail, err)
	}

	resp, body = post(`{"action":"error","message":"nope"}`, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" {
		t.Errorf("error invoke = %d %q, want 200 Unhandled", resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	if !strings.Contains(string(body), `"errorMessage":"nope"`) {
		t.Errorf("error body = %s", body)
	}

	resp, body = post(`{"action":"crash"}`, nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), `"errorType":"Runtime.ExitError"`) {
		t.Errorf("crash invoke = %d %s, want 502 Runtime.ExitError", resp.StatusCode, body)
	}

	resp, _ = post(`{}`, map[string]string{"X-Amz-Client-Context": "%%%"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad client context status = %d, want 400", resp.StatusCode)
	}
}

func TestEnvironment(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{
		ExtensionsDir: extDir(t, "logger"),
		Env:           map[string]string{"SIMTEST_CUSTOM": "yes", "AWS_LAMBDA_FUNCTION_NAME": "spoofed"},
		FunctionName:  "envfn",
		MemoryMB:      256,
	})
	res := invoke(t, s, `{"action":"env"}`)
	var env map[string]string
	if err := json.Unmarshal(res.Body, &env); err != nil {
		t.Fatalf("env body %s: %v", res.Body, err)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "envfn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      "us-east-1",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"AWS_LAMBDA_RUNTIME_API":          s.RuntimeAPI(),
		"_HANDLER":                        "bootstrap",
		"SIMTEST_CUSTOM":                  "yes",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("runtime env %s = %q, want %q", k, env[k], v)
		}
	}
	if env["LAMBDA_TASK_ROOT"] == "" || env["AWS_LAMBDA_LOG_GROUP_NAME"] != "/aws/lambda/envfn" {
		t.Errorf("runtime env LAMBDA_TASK_ROOT=%q AWS_LAMBDA_LOG_GROUP_NAME=%q", env["LAMBDA_TASK_ROOT"], env["AWS_LAMBDA_LOG_GROUP_NAME"])
	}
	if _, ok := env["AWS_LAMBDA_MAX_CONCURRENCY"]; ok {
		t.Error("classic runtime env has AWS_LAMBDA_MAX_CONCURRENCY")
	}

	recs := out.records("logger", "env")
	if len(recs) != 1 {
		t.Fatalf("logger env records = %d, want 1", len(recs))
	}
	var extEnv map[string]string
	if err := json.Unmarshal(recs[0].Body, &extEnv); err != nil {
		t.Fatal(err)
	}
	if extEnv["SIMTEST_CUSTOM"] != "yes" || extEnv["AWS_LAMBDA_FUNCTION_NAME"] != "envfn" || extEnv["AWS_LAMBDA_RUNTIME_API"] != s.RuntimeAPI() {
		t.Errorf("extension env = %v, want customer and reserved variables", extEnv)
	}
	for _, k := range []string{"_HANDLER", "LAMBDA_TASK_ROOT"} {
		if _, ok := extEnv[k]; ok {
			t.Errorf("extension env has runtime-only %s", k)
		}
	}
}

func TestInvokeWaitsForExtensions(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "slow")})
	first := invoke(t, s, `{"n":1}`)
	returned := time.Now()
	second := invoke(t, s, `{"n":2}`)
	shutdown(t, s)

	end1 := findEvent(t, s, lambdasim.EventInvokeEnd, first.RequestID)
	resp1 := findEvent(t, s, lambdasim.EventRuntimeResponse, first.RequestID)
	next1 := findEvent(t, s, lambdasim.EventExtensionNext, first.RequestID)
	start2 := findEvent(t, s, lambdasim.EventInvokeStart, second.RequestID)
	if !resp1.Time.Before(next1.Time) || next1.Time.After(end1.Time) {
		t.Errorf("order: response %v, extension next %v, invoke end %v", resp1.Time, next1.Time, end1.Time)
	}
	if !returned.Before(end1.Time) {
		t.Errorf("Invoke returned at %v, after the invoke phase ended at %v; want the response before the extension finished", returned, end1.Time)
	}
	if start2.Time.Before(end1.Time) {
		t.Errorf("second invoke started at %v before the first ended at %v", start2.Time, end1.Time)
	}
	if n := len(out.records("slow", "slowdone")); n != 2 {
		t.Errorf("slow extension finished %d invokes, want 2", n)
	}
}

func findEvent(t *testing.T, s *lambdasim.Sim, kind lambdasim.EventKind, requestID string) lambdasim.Event {
	t.Helper()
	for _, e := range s.Events() {
		if e.Kind == kind && e.RequestID == requestID {
			return e
		}
	}
	t.Fatalf("no %s event for request %s", kind, requestID)
	return lambdasim.Event{}
}

func TestTimeoutResets(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "logger"), Timeout: 500 * time.Millisecond})
	res := invoke(t, s, `{"action":"sleep","sleepMs":5000}`)
	if res.StatusCode != http.StatusOK || res.FunctionError != "Unhandled" || res.ErrorType != "Sandbox.Timedout" {
		t.Errorf("timed out invoke = %d %q %q", res.StatusCode, res.FunctionError, res.ErrorType)
	}
	if !strings.Contains(string(res.Body), "Task timed out after 0.50 seconds") {
		t.Errorf("timeout body = %s", res.Body)
	}
	res = invoke(t, s, `{"after":"timeout"}`)
	if res.StatusCode != http.StatusOK || string(res.Body) != `{"after":"timeout"}` {
		t.Errorf("invoke after re-init = %d %s", res.StatusCode, res.Body)
	}
	shutdown(t, s)

	var reasons []string
	for _, ev := range receivedEvents(t, out, "logger") {
		if ev.EventType == "SHUTDOWN" {
			reasons = append(reasons, ev.ShutdownReason)
		}
	}
	if strings.Join(reasons, ",") != "timeout,spindown" {
		t.Errorf("SHUTDOWN reasons = %v, want [timeout spindown]", reasons)
	}
	regs := eventsOf(s, lambdasim.EventExtensionRegister, "logger")
	if len(regs) != 2 || regs[0].Generation != 1 || regs[1].Generation != 2 || regs[0].Detail == regs[1].Detail {
		t.Errorf("registrations = %v, want two generations with different ids", regs)
	}
	if kills := eventsOf(s, lambdasim.EventRuntimeSignal, "runtime"); len(kills) == 0 {
		t.Error("the timed-out runtime was not signalled")
	}
}

func TestRuntimeCrashResets(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "logger")})
	res := invoke(t, s, `{"action":"crash"}`)
	if res.StatusCode != http.StatusBadGateway || res.ErrorType != "Runtime.ExitError" || !strings.Contains(string(res.Body), "exit status 2") {
		t.Errorf("crash invoke = %d %q %s, want 502 Runtime.ExitError", res.StatusCode, res.ErrorType, res.Body)
	}
	res = invoke(t, s, `{"ok":true}`)
	if res.StatusCode != http.StatusOK {
		t.Errorf("invoke after crash = %d %s, want 200", res.StatusCode, res.Body)
	}
	shutdown(t, s)
	evs := receivedEvents(t, out, "logger")
	var reasons []string
	for _, ev := range evs {
		if ev.EventType == "SHUTDOWN" {
			reasons = append(reasons, ev.ShutdownReason)
		}
	}
	if strings.Join(reasons, ",") != "failure,spindown" {
		t.Errorf("SHUTDOWN reasons = %v, want [failure spindown]", reasons)
	}
	if n := len(eventsOf(s, lambdasim.EventInitDone, "")); n != 2 {
		t.Errorf("inits = %d, want 2", n)
	}
}

func TestInitFailures(t *testing.T) {
	tests := []struct {
		name          string
		giveExts      []string
		giveEnv       map[string]string
		wantType      string
		wantNoRuntime bool // an extension failed to register, so the runtime never starts
	}{
		{name: "extension exits before register", giveExts: []string{"logger", "crash"}, wantType: "Extension.Crash", wantNoRuntime: true},
		{name: "extension registers a wrong name", giveExts: []string{"wrongname"}, wantType: "Extension.Crash", wantNoRuntime: true},
		{name: "extension init error", giveExts: []string{"initerr"}, wantType: "Extension.TestFailure"},
		{name: "extension never registers", giveExts: []string{"neverregister"}, wantType: "Sandbox.Timedout", wantNoRuntime: true},
		{name: "runtime init error", giveEnv: map[string]string{"SIMTEST_RUNTIME_MODE": "initerror"}, wantType: "Runtime.TestInit"},
		{name: "runtime exits during init", giveEnv: map[string]string{"SIMTEST_RUNTIME_MODE": "crashinit"}, wantType: "Runtime.ExitError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, out := newSim(t, lambdasim.Config{
				ExtensionsDir: extDir(t, tt.giveExts...),
				Env:           tt.giveEnv,
				InitTimeout:   time.Second,
			})
			err := s.Start(context.Background())
			var ie *lambdasim.InitError
			if !errors.As(err, &ie) || ie.Type != tt.wantType {
				t.Fatalf("Start() = %v, want InitError %s", err, tt.wantType)
			}
			res := invoke(t, s, `{}`)
			if res.StatusCode != http.StatusBadGateway || res.ErrorType != tt.wantType {
				t.Errorf("Invoke() = %d %q %s, want 502 %s", res.StatusCode, res.ErrorType, res.Body, tt.wantType)
			}
			shutdown(t, s)
			for _, r := range out.records("wrongname", "register") {
				if r.Status != http.StatusForbidden || !strings.Contains(string(r.Body), "Extension.InvalidExtensionName") {
					t.Errorf("wrong-name register = %d %s, want 403 Extension.InvalidExtensionName", r.Status, r.Body)
				}
			}
			for _, r := range out.records("initerr", "initerror") {
				if r.Status != http.StatusAccepted {
					t.Errorf("init/error status = %d, want 202", r.Status)
				}
			}
			if tt.wantNoRuntime && len(eventsOf(s, lambdasim.EventRuntimeStart, "")) > 0 {
				t.Error("the runtime started although an extension failed to register")
			}
		})
	}
}

func TestShutdownOrderAndDeadline(t *testing.T) {
	budget := time.Second
	s, out := newSim(t, lambdasim.Config{
		ExtensionsDir:  extDir(t, "logger", "stuck", "noshutdown"),
		Env:            map[string]string{"SIMTEST_RUNTIME_MODE": "ignoreterm"},
		ShutdownBudget: budget,
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	invoke(t, s, `{}`)
	waitFor(t, s, lambdasim.EventInvokeEnd, "success")
	var states []string
	for _, e := range s.Extensions() {
		states = append(states, e.Name+":"+string(e.State)+":"+strings.Join(e.Events, "+"))
	}
	if got, want := strings.Join(states, " "), "logger:Ready:INVOKE+SHUTDOWN noshutdown:Ready:INVOKE stuck:Ready:INVOKE+SHUTDOWN"; got != want {
		t.Errorf("Extensions() = %s, want %s", got, want)
	}
	shutdown(t, s)
	if got := s.Extensions(); len(got) != 0 {
		t.Errorf("Extensions() after Shutdown = %v, want none", got)
	}

	start := eventsOf(s, lambdasim.EventShutdownStart, "")
	if len(start) != 1 || start[0].Detail != "spindown" {
		t.Fatalf("shutdown.start events = %v", start)
	}
	signals := eventsOf(s, lambdasim.EventRuntimeSignal, "runtime")
	if len(signals) != 2 || signals[0].Detail != "SIGTERM" || signals[1].Detail != "SIGKILL" {
		t.Fatalf("runtime signals = %v, want SIGTERM then SIGKILL", signals)
	}
	var shutdownSent []lambdasim.Event
	for _, e := range eventsOf(s, lambdasim.EventExtensionEvent, "") {
		if strings.HasPrefix(e.Detail, "SHUTDOWN") {
			shutdownSent = append(shutdownSent, e)
			if e.Time.Before(signals[1].Time) {
				t.Errorf("SHUTDOWN to %s at %v before the runtime was killed at %v", e.Name, e.Time, signals[1].Time)
			}
		}
	}
	if len(shutdownSent) != 2 {
		t.Errorf("SHUTDOWN events sent = %v, want logger and stuck", shutdownSent)
	}
	kills := eventsOf(s, lambdasim.EventExtensionKill, "")
	killed := map[string]string{}
	for _, k := range kills {
		killed[k.Name] = k.Detail
	}
	if killed["noshutdown"] != "not registered for SHUTDOWN" || killed["stuck"] != "shutdown deadline reached" || killed["logger"] != "" {
		t.Errorf("kills = %v", killed)
	}
	for _, name := range []string{"logger", "stuck"} {
		evs := receivedEvents(t, out, name)
		last := evs[len(evs)-1]
		if last.EventType != "SHUTDOWN" {
			t.Fatalf("%s last event = %+v", name, last)
		}
		deadline := time.UnixMilli(last.DeadlineMs)
		if d := deadline.Sub(start[0].Time); d < budget-200*time.Millisecond || d > budget+200*time.Millisecond {
			t.Errorf("%s deadlineMs is %v after shutdown start, want %v", name, d, budget)
		}
		if name == "stuck" {
			k := eventsOf(s, lambdasim.EventExtensionKill, "stuck")[0]
			if k.Time.Before(deadline.Add(-time.Millisecond)) {
				t.Errorf("stuck killed at %v, before its deadline %v", k.Time, deadline)
			}
		}
	}
	if exits := eventsOf(s, lambdasim.EventExtensionExit, "logger"); len(exits) != 1 || exits[0].Detail != "exit status 0" {
		t.Errorf("logger exit = %v, want a clean exit", exits)
	}
}

func TestManagedInstances(t *testing.T) {
	s, out := newSim(t, lambdasim.Config{
		ExtensionsDir:    extDir(t, "managed", "telemetry"),
		ManagedInstances: true,
		MaxConcurrency:   4,
		Env:              map[string]string{"SIMTEST_SCHEMA": lambdasim.SchemaVersion20250129},
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	regs := out.records("managed", "register")
	if len(regs) != 2 || regs[0].Status != http.StatusForbidden || !strings.Contains(string(regs[0].Body), "Extension.InvalidEventType") || regs[1].Status != http.StatusOK {
		t.Errorf("managed registrations = %+v, want 403 InvalidEventType then 200", regs)
	}
	env := invokeRetry(t, s, []byte(`{"action":"env"}`), lambdasim.InvokeOptions{})
	if !strings.Contains(string(env.Body), `"AWS_LAMBDA_MAX_CONCURRENCY":"4"`) || !strings.Contains(string(env.Body), `"AWS_LAMBDA_INITIALIZATION_TYPE":"lambda-managed-instances"`) {
		t.Errorf("managed runtime env = %s", env.Body)
	}
	var wg sync.WaitGroup
	spans := make([]struct{ Start, End int64 }, 4)
	for i := range spans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := invokeRetry(t, s, []byte(`{"action":"sleep","sleepMs":700}`), lambdasim.InvokeOptions{})
			if res.StatusCode != http.StatusOK {
				t.Errorf("concurrent invoke = %v", res)
				return
			}
			if err := json.Unmarshal(res.Body, &spans[i]); err != nil {
				t.Errorf("sleep body %s: %v", res.Body, err)
			}
		}()
	}
	wg.Wait()
	// The most invokes running at one instant (at a start, count the
	// intervals that contain it).
	most := 0
	for _, a := range spans {
		n := 0
		for _, b := range spans {
			if b.Start <= a.Start && a.Start < b.End {
				n++
			}
		}
		most = max(most, n)
	}
	if most < 2 {
		t.Errorf("invokes did not overlap: %+v", spans)
	}
	t.Logf("%d of %d invokes ran at the same time", most, len(spans))
	shutdown(t, s)
}

func TestShutdownBudgetByRegistrations(t *testing.T) {
	tests := []struct {
		name        string
		giveEnv     map[string]string
		wantSignals string
		wantOutput  string
	}{
		{name: "no extensions: killed at once", wantSignals: "SIGKILL"},
		{name: "internal extension: SIGTERM first", giveEnv: map[string]string{"SIMTEST_RUNTIME_MODE": "sigterm"}, wantSignals: "SIGTERM", wantOutput: "[runtime] sigterm received\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, out := newSim(t, lambdasim.Config{Env: tt.giveEnv})
			invoke(t, s, `{}`)
			shutdown(t, s)
			var got []string
			for _, e := range eventsOf(s, lambdasim.EventRuntimeSignal, "runtime") {
				got = append(got, e.Detail)
			}
			if strings.Join(got, ",") != tt.wantSignals {
				t.Errorf("runtime signals = %v, want %s", got, tt.wantSignals)
			}
			if !strings.Contains(out.String(), tt.wantOutput) {
				t.Errorf("output lacks %q:\n%s", tt.wantOutput, out.String())
			}
			if tt.giveEnv != nil {
				regs := eventsOf(s, lambdasim.EventExtensionRegister, "GoLangEnableSIGTERM")
				if len(regs) != 1 || !strings.HasPrefix(regs[0].Detail, "internal") {
					t.Errorf("internal registration = %v", regs)
				}
			}
		})
	}
}

func TestPayloadLimits(t *testing.T) {
	// Encoding and posting 6 MB under the race detector on a loaded
	// machine can outlast the default 3 s timeout.
	s, _ := newSim(t, lambdasim.Config{Timeout: 30 * time.Second})
	res := invoke(t, s, `{"pad":"`+strings.Repeat("x", lambdasim.MaxPayloadBytes)+`"}`)
	if res.StatusCode != http.StatusRequestEntityTooLarge || res.ErrorType != "RequestEntityTooLarge" {
		t.Errorf("oversized request = %d %q, want 413 RequestEntityTooLarge", res.StatusCode, res.ErrorType)
	}
	res = invoke(t, s, fmt.Sprintf(`{"action":"big","sleepMs":%d}`, lambdasim.MaxPayloadBytes+10))
	if res.StatusCode != http.StatusOK || res.FunctionError != "Unhandled" || res.ErrorType != "Function.ResponseSizeTooLarge" {
		t.Errorf("oversized response = %d %q %q, want 200 Unhandled Function.ResponseSizeTooLarge", res.StatusCode, res.FunctionError, res.ErrorType)
	}
	// The environment recovers whatever the runtime did after its 413.
	if res := invoke(t, s, `{"again":true}`); res.StatusCode != http.StatusOK || string(res.Body) != `{"again":true}` {
		t.Errorf("invoke after the oversized response = %d %s", res.StatusCode, res.Body)
	}
}

func TestShutdownDuringInit(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "neverregister"), InitTimeout: time.Minute})
	started := make(chan error, 1)
	go func() { started <- s.Start(context.Background()) }()
	waitFor(t, s, lambdasim.EventExtensionStart, "pid")
	// The Init holds the environment; a Shutdown whose context ends tears it down anyway.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		t.Errorf("Shutdown() = %v", err)
	}
	var ie *lambdasim.InitError
	if err := receive(t, started, "Start"); !errors.As(err, &ie) || ie.Type != "Sandbox.Shutdown" {
		t.Errorf("Start() = %v, want InitError Sandbox.Shutdown", err)
	}
	if exits := eventsOf(s, lambdasim.EventExtensionExit, "neverregister"); len(exits) != 1 {
		t.Errorf("extension exits = %v, want the process gone", exits)
	}
}

func TestInvokeContextWhileWaiting(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "slow")})
	invoke(t, s, `{"n":1}`)
	// The slow extension still holds the first invoke phase.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Invoke(ctx, []byte(`{"n":2}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Invoke while the previous phase runs = %v, want DeadlineExceeded", err)
	}
	// The abandoned attempt leaves nothing behind: the next invoke runs normally.
	if res := invoke(t, s, `{"n":3}`); res.StatusCode != http.StatusOK || string(res.Body) != `{"n":3}` {
		t.Errorf("next invoke = %d %s", res.StatusCode, res.Body)
	}
	if starts := eventsOf(s, lambdasim.EventInvokeStart, ""); len(starts) != 2 {
		t.Errorf("invokes started = %d, want 2", len(starts))
	}
}

func TestFreezeBetweenInvokes(t *testing.T) {
	tests := []struct {
		name       string
		giveFreeze bool
	}{
		{name: "frozen", giveFreeze: true},
		{name: "running", giveFreeze: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, out := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, "ticker", "telemetry"), Freeze: tt.giveFreeze})
			invoke(t, s, `{"n":1}`)
			waitFor(t, s, lambdasim.EventInvokeEnd, "success")
			time.Sleep(100 * time.Millisecond) // lines already written drain from the pipe
			before := len(out.records("ticker", "tick"))
			time.Sleep(400 * time.Millisecond) // 20 ticks if the extension runs
			idle := len(out.records("ticker", "tick")) - before
			if tt.giveFreeze && idle != 0 {
				t.Errorf("frozen extension ticked %d times between invokes", idle)
			}
			if !tt.giveFreeze && idle == 0 {
				t.Error("running extension did not tick between invokes")
			}
			if tt.giveFreeze {
				// Batches go out while the environment runs (an invoke can
				// outlast timeoutMs on a loaded machine), never while it is
				// frozen.
				frozen := false
				for _, e := range s.Events() {
					switch e.Kind {
					case lambdasim.EventFreeze:
						frozen = true
					case lambdasim.EventThaw:
						frozen = false
					case lambdasim.EventTelemetryDeliver:
						if frozen {
							t.Errorf("telemetry was delivered to a frozen listener: %v", e)
						}
					}
				}
			}
			// The next invoke thaws the environment: ticks and telemetry resume.
			invoke(t, s, `{"n":2}`)
			for deadline := time.Now().Add(10 * time.Second); len(out.records("ticker", "tick")) <= before+idle; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the extension did not tick again after the second invoke")
				}
			}
			shutdown(t, s)
			if types, _ := platformTypes(telemetryBatches(t, out, "telemetry")); strings.Count(strings.Join(types, " "), "platform.report") != 2 {
				t.Errorf("telemetry types = %v, want both reports", types)
			}
			if got := len(eventsOf(s, lambdasim.EventFreeze, "")) > 0; got != tt.giveFreeze {
				t.Errorf("freeze events present = %v, want %v", got, tt.giveFreeze)
			}
		})
	}
}
