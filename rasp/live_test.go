package rasp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/goleak"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// livePolicy blocks inputs containing word.
func livePolicy(word string) string {
	return "version: 1\nname: live\nlimits:\n  budget: 1s\ninputs:\n  - id: marker\n    match: {regex: '" + word + "'}\n"
}

func liveEngine(t *testing.T, word string) *rules.Engine {
	t.Helper()
	p, err := policy.Parse("live", []byte(livePolicy(word)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// An invocation keeps the policy it started with for its whole life (its
// sink checks included) while a swap makes the next one use the new
// policy; the invocation in flight is not paused.
func TestSwapBetweenInspections(t *testing.T) {
	p, err := New(WithEngine(liveEngine(t, "ALPHA")), WithSocket(filepath.Join(t.TempDir(), "none.sock")))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	inside, release := make(chan string), make(chan struct{})
	h := p.Wrap(lambda.NewHandler(func(ctx context.Context, _ map[string]any) (string, error) {
		inv, _ := FromContext(ctx)
		inside <- inv.g.engine.Version()
		<-release
		// Sink checks resolve the guard through the context: still the
		// invocation's own policy.
		return guardFor(ctx).engine.Version(), nil
	}))
	oldVersion := p.Engine().Version()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := h.Invoke(context.Background(), []byte(`{"k":"BETA"}`))
		done <- result{b, err}
	}()
	if v := <-inside; v != oldVersion {
		t.Fatalf("invocation started with %s, want %s", v, oldVersion)
	}
	next := liveEngine(t, "BETA")
	p.swap(next)
	if p.Engine() != next {
		t.Fatal("swap did not install the new policy")
	}
	if c := p.cur.Load().inflight.count(); c != 1 {
		t.Errorf("in flight after the swap = %d, want the running invocation", c)
	}
	close(release)
	r := <-done
	if r.err != nil || string(r.b) != fmt.Sprintf("%q", oldVersion) {
		t.Errorf("running invocation = %s, %v; want its own policy %s throughout", r.b, r.err, oldVersion)
	}
	// The next invocation sees the new policy: BETA is now blocked.
	if _, err := h.Invoke(context.Background(), []byte(`{"k":"BETA"}`)); err == nil {
		t.Error("BETA passed after the swap to a policy that blocks it")
	}
}

// The poller starts only for a policy from a URL, never fetches during
// New beyond the loader's first fetch, and stops with Close.
func TestPollerLifecycle(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, livePolicy("ALPHA"))
	}))
	defer srv.Close()
	for _, tt := range []struct {
		name    string
		env     map[string]string
		polling bool
		wantErr string
	}{
		{name: "url", env: map[string]string{policy.EnvPolicyURL: srv.URL}, polling: true},
		{name: "url off", env: map[string]string{policy.EnvPolicyURL: srv.URL, "LAMBDA_RASP_POLICY_POLL_INTERVAL": "off"}},
		{name: "bad interval", env: map[string]string{policy.EnvPolicyURL: srv.URL, "LAMBDA_RASP_POLICY_POLL_INTERVAL": "10ms"}, wantErr: "LAMBDA_RASP_POLICY_POLL_INTERVAL"},
		{name: "file", env: map[string]string{policy.EnvPolicy: "../rules/policy/default.yaml"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := requests.Load()
			env := tt.env
			env["LAMBDA_RASP_SOCKET"] = filepath.Join(t.TempDir(), "none.sock")
			p, err := New(withGetenv(func(k string) string { return env[k] }))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New() error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (p.stopPoll != nil) != tt.polling {
				t.Errorf("polling = %v, want %v", p.stopPoll != nil, tt.polling)
			}
			if _, ok := env[policy.EnvPolicyURL]; ok {
				if n := requests.Load() - before; n != 1 {
					t.Errorf("New fetched %d times, want the loader's one", n)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
