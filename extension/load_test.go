package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// EnvLoadInvocations sets the number of invocations of TestLoad; make
// loadtest runs 100 000. The default keeps make test short.
const EnvLoadInvocations = "LAMBDA_RASP_LOAD_INVOCATIONS"

// procStats is what TestLoad samples of a process.
type procStats struct {
	rssKB, fds, threads int
}

func (p procStats) String() string {
	return fmt.Sprintf("RSS %d KiB, %d fds, %d threads", p.rssKB, p.fds, p.threads)
}

func readProc(t *testing.T, pid int) procStats {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var s procStats
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			s.rssKB, _ = strconv.Atoi(f[1])
		case "Threads:":
			s.threads, _ = strconv.Atoi(f[1])
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	s.fds = len(fds)
	return s
}

// pidOf returns the pid the simulator logged for a started process.
func pidOf(t *testing.T, sim *lambdasim.Sim, kind lambdasim.EventKind) int {
	t.Helper()
	for _, ev := range sim.Events() {
		if ev.Kind == kind {
			if pid, err := strconv.Atoi(strings.TrimPrefix(ev.Detail, "pid ")); err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no %s event with a pid", kind)
	return 0
}

// TestLoad drives many invocations of a wrapped function through the
// simulator with the extension, one in ten an attack, and checks that no
// security event is lost or counted twice (the extension's counters equal
// what the clients saw, exactly), that nothing was dropped, and that the
// extension's and the function's memory, file descriptors and threads stay
// flat between the first tenth and the end.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	n := 10000
	if s := os.Getenv(EnvLoadInvocations); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 20 {
			t.Fatalf("%s=%q: want an integer ≥ 20", EnvLoadInvocations, s)
		}
		n = v
	}
	metricsAddr := freeAddr(t)
	e := newSim(t, fnBin, lambdasim.Config{Timeout: 10 * time.Second, Env: map[string]string{
		"LAMBDA_RASP_SOCKET":       socketPath(t),
		"LAMBDA_RASP_METRICS_ADDR": metricsAddr,
	}})
	benign := apigw("running+shoes")
	attack := apigw("x'+UNION+SELECT+password+FROM+users--")
	perAttack := expectedMatches(t, attack)

	ctx := context.Background()
	var blocked, allowed int
	var extFirst, fnFirst procStats
	var extPID, fnPID int
	start := time.Now()
	for i := range n {
		payload, isAttack := benign, i%10 == 9
		if isAttack {
			payload = attack
		}
		res, err := e.sim.Invoke(ctx, []byte(payload))
		if err != nil {
			t.Fatalf("invoke %d: %v", i, err)
		}
		switch {
		case res.FunctionError != "":
			t.Fatalf("invoke %d: function error %s: %s", i, res.FunctionError, res.Body)
		case strings.Contains(string(res.Body), `"statusCode":403`):
			blocked++
			if !isAttack {
				t.Fatalf("invoke %d: benign request blocked: %s", i, res.Body)
			}
		default:
			allowed++
			if isAttack {
				t.Fatalf("invoke %d: attack allowed: %s", i, res.Body)
			}
		}
		if i == 0 {
			// The simulator's event log is bounded: read the pids early.
			extPID = pidOf(t, e.sim, lambdasim.EventExtensionStart)
			fnPID = pidOf(t, e.sim, lambdasim.EventRuntimeStart)
		}
		if i == n/10 {
			extFirst, fnFirst = readProc(t, extPID), readProc(t, fnPID)
		}
	}
	elapsed := time.Since(start)
	extLast, fnLast := readProc(t, extPID), readProc(t, fnPID)
	t.Logf("%d invocations in %v (%.0f/s)", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	t.Logf("extension after %d: %v; at the end: %v", n/10, extFirst, extLast)
	t.Logf("function  after %d: %v; at the end: %v", n/10, fnFirst, fnLast)

	// Every datagram sent is counted before the next flush point; the last
	// ones may still be in the socket when the last invoke returns.
	var got float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		mfs := scrape(t, metricsAddr)
		got = value(mfs, "lambda_rasp_inspections_total", nil)
		if int(got) >= n || time.Now().After(deadline) {
			checks := []struct {
				name   string
				labels map[string]string
				want   float64
			}{
				{"lambda_rasp_inspections_total", nil, float64(n)},
				{"lambda_rasp_inspections_total", map[string]string{"decision": "block"}, float64(blocked)},
				{"lambda_rasp_inspections_total", map[string]string{"decision": "allow"}, float64(allowed)},
				{"lambda_rasp_detections_total", map[string]string{"rule": "sqli", "action": "block"}, float64(blocked * perAttack)},
				{"lambda_rasp_inspection_duration_seconds", nil, float64(n)},
				{"lambda_rasp_events_dropped_total", nil, 0},
				{"lambda_rasp_ingest_errors_total", nil, 0},
			}
			for _, c := range checks {
				if v := value(mfs, c.name, c.labels); v != c.want {
					t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
				}
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Flat means: no growth with the number of invocations. The bounds
	// leave room for the Go runtime's heap sizing, not for a leak of even
	// a few hundred bytes per invocation over 100 000 invocations.
	for _, p := range []struct {
		name        string
		first, last procStats
	}{{"extension", extFirst, extLast}, {"function", fnFirst, fnLast}} {
		if p.last.fds > p.first.fds+2 {
			t.Errorf("%s file descriptors grew from %d to %d", p.name, p.first.fds, p.last.fds)
		}
		if p.last.threads > p.first.threads+4 {
			t.Errorf("%s threads grew from %d to %d", p.name, p.first.threads, p.last.threads)
		}
		if p.last.rssKB > p.first.rssKB+8<<10 {
			t.Errorf("%s RSS grew from %d KiB to %d KiB", p.name, p.first.rssKB, p.last.rssKB)
		}
	}
	e.shutdown(t)
}
