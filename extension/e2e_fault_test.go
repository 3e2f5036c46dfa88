package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// attackQuery is a query the default policy blocks.
const attackQuery = "x'+UNION+SELECT+password+FROM+users--"

// TestSocketUnavailable: when the event socket cannot be created (the
// directory is not writable), the extension still registers and serves
// its platform metrics, and the wrapper keeps blocking and writes its
// security events to the function's own log (DESIGN §7).
func TestSocketUnavailable(t *testing.T) {
	metricsAddr := freeAddr(t)
	e := newSim(t, fnBin, lambdasim.Config{Env: map[string]string{
		"LAMBDA_RASP_SOCKET":       "/dev/null/lambda-rasp/events.sock", // a directory under a file: never creatable
		"LAMBDA_RASP_METRICS_ADDR": metricsAddr,
	}})
	res := e.invoke(t, apigw(attackQuery))
	if !strings.Contains(string(res.Body), `"statusCode":403`) {
		t.Fatalf("attack not blocked without the extension's socket: %s", res.Body)
	}
	if got := e.stderr.with("event socket unavailable"); len(got) != 1 {
		t.Errorf("extension log lines about the socket: %q, want one", got)
	}
	// The wrapper's fallback line is in the function's (the runtime's)
	// output, not the extension's.
	all := e.stdout.String() + e.stderr.String()
	found := false
	for _, l := range strings.Split(all, "\n") {
		if strings.HasPrefix(l, "[runtime] ") && strings.Contains(l, `"kind":"detection"`) && strings.Contains(l, `"rule":"sqli"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no security line in the function's own log:\n%s", all)
	}
	mfs := scrape(t, metricsAddr)
	if got := value(mfs, "lambda_rasp_policy_info", nil); got != 1 {
		t.Errorf("policy_info = %v, want 1", got)
	}
	e.shutdown(t)
}

// TestExtensionKilledMidInvoke: SIGKILL of the extension during an invoke
// ends that invoke phase in failure and resets the environment (the
// platform's rule); the function's response still reaches the caller. The
// next invoke re-initialises with a fresh extension and is protected and
// counted again; what the killed extension had counted is lost with it
// unless an export ran before.
func TestExtensionKilledMidInvoke(t *testing.T) {
	metricsAddr := freeAddr(t)
	e := newSim(t, fnBin, lambdasim.Config{Env: map[string]string{
		"LAMBDA_RASP_SOCKET":       socketPath(t),
		"LAMBDA_RASP_METRICS_ADDR": metricsAddr,
	}})
	e.invoke(t, apigw("shoes")) // init
	pid := pidOf(t, e.sim, lambdasim.EventExtensionStart)
	type out struct {
		res *lambdasim.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := e.sim.Invoke(context.Background(), []byte(`{"sleepMs":300}`))
		done <- out{res, err}
	}()
	e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventInvokeStart && ev.Time.After(time.Now().Add(-time.Second))
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	t.Logf("invoke during the kill: status %d, error type %q, body %.200s", o.res.StatusCode, o.res.ErrorType, o.res.Body)
	end := e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventInvokeEnd && ev.RequestID == o.res.RequestID
	})
	if !strings.Contains(end.Detail, "Extension.Crash") && !strings.Contains(end.Detail, "failure") {
		t.Errorf("invoke phase ended %q, want a failure with Extension.Crash", end.Detail)
	}

	res := e.invoke(t, apigw(attackQuery))
	if !strings.Contains(string(res.Body), `"statusCode":403`) {
		t.Fatalf("attack after the reset not blocked: %s", res.Body)
	}
	if newPID := lastPID(e.sim, lambdasim.EventExtensionStart); newPID == pid || newPID == 0 {
		t.Errorf("extension pid after the reset = %d, want a new process (was %d)", newPID, pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := value(scrape(t, metricsAddr), "lambda_rasp_inspections_total", map[string]string{"decision": "block"})
		if got == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fresh extension counted %v blocked inspections, want 1", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.shutdown(t)
}

// lastPID is the pid of the latest process start of kind, or 0.
func lastPID(sim *lambdasim.Sim, kind lambdasim.EventKind) int {
	pid := 0
	for _, ev := range sim.Events() {
		if ev.Kind == kind {
			var p int
			if _, err := fmt.Sscan(strings.TrimPrefix(ev.Detail, "pid "), &p); err == nil {
				pid = p
			}
		}
	}
	return pid
}

// TestShutdownWithLittleTime: with a short SHUTDOWN budget and an
// exporter that never answers, the extension gives up the export at the
// deadline, counts it, and exits on its own (exit status 0) instead of
// being killed.
func TestShutdownWithLittleTime(t *testing.T) {
	e := newSim(t, fnBin, lambdasim.Config{ShutdownBudget: 300 * time.Millisecond, Env: map[string]string{
		"LAMBDA_RASP_SOCKET":           socketPath(t),
		"LAMBDA_RASP_REMOTE_WRITE_URL": "http://" + blackhole(t) + "/api/v1/write",
		"LAMBDA_RASP_EXPORT_TIMEOUT":   "2s",
		"LAMBDA_RASP_FLUSH_INTERVAL":   "1h",
	}})
	e.invoke(t, apigw(attackQuery))
	e.shutdown(t)
	var exit lambdasim.Event
	killed := false
	for _, ev := range e.sim.Events() {
		switch ev.Kind {
		case lambdasim.EventExtensionExit:
			exit = ev
		case lambdasim.EventExtensionKill:
			killed = true
		}
	}
	t.Logf("extension exit with a 300 ms SHUTDOWN budget: %s", exit.Detail)
	if killed || !strings.Contains(exit.Detail, "status 0") {
		t.Errorf("extension exit %q (killed %v), want exit status 0 within the budget", exit.Detail, killed)
	}
	if got := e.stderr.with(`"msg":"shut down"`); len(got) != 1 {
		t.Errorf("shutdown log lines %q, want one", got)
	}
}
