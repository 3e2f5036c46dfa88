package managed

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// syncBuffer collects the children's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// simFunction starts the function and the lambda-rasp extension in the
// simulator in managed-instances mode with 8 poll loops.
func simFunction(t *testing.T, env map[string]string) (s *lambdasim.Sim, out *syncBuffer, data string) {
	t.Helper()
	dir := t.TempDir()
	exts := filepath.Join(dir, "extensions")
	if err := os.Mkdir(exts, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(extBin, filepath.Join(exts, "lambda-rasp")); err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeData(t, data)
	cfgEnv := map[string]string{
		"FN_DATA_DIR":        data,
		"LAMBDA_RASP_POLICY": testPolicy(t, dir),
		"LAMBDA_RASP_SOCKET": filepath.Join(dir, "events.sock"),
		// A data race in the function ends it: every later invoke fails.
		"GORACE": "halt_on_error=1 exitcode=66",
	}
	for k, v := range env {
		cfgEnv[k] = v
	}
	out = &syncBuffer{}
	s, err := lambdasim.New(lambdasim.Config{
		Bootstrap: fnBin, ExtensionsDir: exts, ManagedInstances: true, MaxConcurrency: 8,
		Timeout: 30 * time.Second, InitTimeout: time.Minute, Env: cfgEnv, Stdout: out, Stderr: out,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx, "") // the test shuts down itself; ErrClosed is fine
		if t.Failed() {
			t.Logf("children's output (last 8 KB):\n%s", tail(out.String(), 8<<10))
		}
	})
	return s, out, data
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// simInvoker invokes through the simulator's Go API.
func simInvoker(s *lambdasim.Sim) invoker {
	return func(ctx context.Context, c *call) (result, bool, error) {
		res, err := s.InvokeWithOptions(ctx, c.payload, lambdasim.InvokeOptions{TenantID: c.tenant})
		if err != nil {
			return result{}, false, err
		}
		return result{status: res.StatusCode, body: res.Body, errorType: res.ErrorType, requestID: res.RequestID}, res.ErrorType == lambdasim.ErrorTypeUnavailable, nil
	}
}

// TestConcurrentInvokes drives 2 000 concurrent invocations of a function
// started with rasp.Start through the simulator's managed-instances mode
// (8 poll loops in one process, invokes refused when none waits) and
// checks that each caller got exactly its own response and verdict, and
// that the extension's security log names each attack's own request and
// tenant. Before the wrapper owned its response bytes, about 1 in 200
// callers got another request's response here.
func TestConcurrentInvokes(t *testing.T) {
	s, out, _ := simFunction(t, nil)
	calls := makeCalls(2000, true)
	byID := drive(t, simInvoker(s), calls, 8, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		t.Fatal(err)
	}
	checkSecurityLog(t, out.String(), byID)
}

// TestConcurrentInvokesStreamingEntry is TestConcurrentInvokes for a
// function declared to return any, whose responses rasp.Start hands to
// the runtime loop as readers.
func TestConcurrentInvokesStreamingEntry(t *testing.T) {
	s, _, _ := simFunction(t, map[string]string{"FN_RETURN": "any"})
	drive(t, simInvoker(s), makeCalls(200, true), 8, true)
}

// checkSecurityLog checks the extension's security log lines: each names
// a request that was an attack and that request's tenant, and every
// attack has one.
func checkSecurityLog(t *testing.T, output string, byID map[string]*call) {
	t.Helper()
	logged := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "[lambda-rasp] ")
		if !ok || !strings.Contains(line, `"security event"`) {
			continue
		}
		var e struct {
			RequestID string `json:"request_id"`
			TenantID  string `json:"tenant_id"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Errorf("security log line %q: %v", line, err)
			continue
		}
		c := byID[e.RequestID]
		switch {
		case c == nil:
			t.Errorf("security event for unknown request %q", e.RequestID)
		case c.kind == kindEcho || c.kind == kindBatch || c.kind == kindFile:
			t.Errorf("security event for the benign %s request %s: %s", c.kind, e.RequestID, line)
		case e.TenantID != c.tenant:
			t.Errorf("security event for %s names tenant %q, want %q", e.RequestID, e.TenantID, c.tenant)
		}
		logged[e.RequestID] = true
	}
	// The wrapper drops events the extension's socket cannot take at
	// once (counted, never blocking the function): under this load some
	// attacks may have no line, but every kind of attack must show.
	missing, kinds := 0, map[string]bool{}
	for id, c := range byID {
		if c.kind != kindEchoAttack && c.kind != kindBatchBad && c.kind != kindFileAttack {
			continue
		}
		if logged[id] {
			kinds[c.kind] = true
		} else {
			missing++
		}
	}
	if len(kinds) != 3 {
		t.Errorf("attack kinds with a security event: %v, want all three", kinds)
	}
	t.Logf("%d security log lines; %d attacks without one (events dropped under load)", len(logged), missing)
}
