package live

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// agent is a local server speaking the AWS AppConfig agent's HTTP API:
// GET /applications/{app}/environments/{env}/configurations/{profile}
// returns the deployed content with its Configuration-Version.
type agent struct {
	mu       sync.Mutex
	content  string
	version  int
	requests atomic.Int64
	status   int // when not 0, every response has this status
}

func (a *agent) deploy(content string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.content, a.version, a.status = content, a.version+1, 0
}

func (a *agent) fail(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.status = status
}

func (a *agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.requests.Add(1)
	if r.Method != http.MethodGet || r.URL.Path != "/applications/orders/environments/prod/configurations/rasp-policy" {
		http.Error(w, "ResourceNotFoundException", http.StatusNotFound)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.status != 0 {
		http.Error(w, "InternalServerException", a.status)
		return
	}
	w.Header().Set("Configuration-Version", fmt.Sprint(a.version))
	w.Header().Set("Content-Type", "application/x-yaml")
	fmt.Fprint(w, a.content)
}

const agentPath = "/applications/orders/environments/prod/configurations/rasp-policy"

// policyYAML returns a policy that blocks fields containing word.
func policyYAML(word string) string {
	return "version: 1\nname: live\ninputs:\n  - id: marker\n    match: {regex: '" + word + "'}\n"
}

// buildEngine is what the wrapper and the extension build: a fully
// validated, compiled policy and its version.
func buildEngine(data []byte) (*rules.Engine, string, error) {
	p, err := policy.Parse("appconfig", data)
	if err != nil {
		return nil, "", err
	}
	e, err := rules.Compile(p)
	if err != nil {
		return nil, "", err
	}
	return e, e.Version(), nil
}

// recorder is a Reporter that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}
func (r *recorder) Updated(v string)   { r.add("updated") }
func (r *recorder) Failed(err error)   { r.add("failed") }
func (r *recorder) Recovered(n uint64) { r.add(fmt.Sprintf("recovered after %d", n)) }
func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, ", ")
}
func blocks(e *rules.Engine, v string) bool { return decide(e, v) == rules.ActionBlock }

func decide(e *rules.Engine, v string) rules.Action {
	req := rules.Request{Fields: []rules.Field{{Source: rules.SourceQuery, Path: "query.q", Value: v}}}
	return e.Inspect(context.Background(), &req).Action
}

// setup starts the agent with policyYAML(first) deployed and a poller whose
// active engine was loaded from it.
func setup(t *testing.T, first string) (*agent, *Poller[*rules.Engine], *atomic.Pointer[rules.Engine], *recorder) {
	t.Helper()
	a := &agent{}
	a.deploy(policyYAML(first))
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	e, version, err := buildEngine([]byte(policyYAML(first)))
	if err != nil {
		t.Fatal(err)
	}
	var active atomic.Pointer[rules.Engine]
	active.Store(e)
	rec := &recorder{}
	p, err := New(Config{URL: srv.URL + agentPath, Interval: time.Second}, []byte(policyYAML(first)), version,
		buildEngine, func(e *rules.Engine) { active.Store(e) }, rec)
	if err != nil {
		t.Fatal(err)
	}
	return a, p, &active, rec
}

// TestRollout deploys policies through the agent, one broken in the
// middle: a valid change changes verdicts at the next poll; the broken
// one changes nothing, is reported once however many polls see it, and
// the next valid one recovers.
func TestRollout(t *testing.T) {
	a, p, active, rec := setup(t, "ALPHA")
	ctx := context.Background()

	if p.Poll(ctx) {
		t.Error("Poll applied the policy already active")
	}
	if !blocks(active.Load(), "ALPHA") || blocks(active.Load(), "BRAVO") {
		t.Fatal("initial policy does not block ALPHA only")
	}

	a.deploy(policyYAML("BRAVO"))
	if !p.Poll(ctx) {
		t.Fatal("Poll did not apply the new policy")
	}
	if blocks(active.Load(), "ALPHA") || !blocks(active.Load(), "BRAVO") {
		t.Error("after the rollout, BRAVO is not the one blocked")
	}
	good := active.Load()

	a.deploy("version: 1\ninputs:\n  - id: marker\n    match: {regex: '(unclosed'}\n")
	for range 3 {
		if p.Poll(ctx) {
			t.Error("Poll applied a broken policy")
		}
	}
	if active.Load() != good {
		t.Error("a broken policy replaced the last good one")
	}
	if got := p.Failures(); got != 3 {
		t.Errorf("Failures() = %d, want 3", got)
	}

	a.fail(http.StatusInternalServerError)
	p.Poll(ctx)
	a.deploy(policyYAML("CHARLIE"))
	if !p.Poll(ctx) || !blocks(active.Load(), "CHARLIE") {
		t.Error("the valid policy after the broken one was not applied")
	}
	if got, want := rec.String(), "updated, failed, recovered after 4, updated"; got != want {
		t.Errorf("reports = %q, want %q", got, want)
	}
}

// TestUnchangedCostsNothing: with the same AppConfig version, the body is
// not parsed; with no version header, the same content is not rebuilt.
func TestUnchangedCostsNothing(t *testing.T) {
	builds := 0
	a := &agent{}
	a.deploy(policyYAML("ALPHA"))
	srv := httptest.NewServer(a)
	defer srv.Close()
	p, err := New(Config{URL: srv.URL + agentPath, Interval: time.Second}, []byte(policyYAML("ALPHA")), "v0",
		func(b []byte) (string, string, error) { builds++; return string(b), "v", nil }, func(string) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		p.Poll(context.Background())
	}
	if builds != 0 {
		t.Errorf("%d builds of an unchanged policy, want 0", builds)
	}
	a.deploy(policyYAML("ALPHA")) // a new version with the same content
	p.Poll(context.Background())
	if builds != 0 {
		t.Errorf("%d builds of identical content, want 0", builds)
	}
	a.deploy(policyYAML("BRAVO"))
	p.Poll(context.Background())
	p.Poll(context.Background())
	if builds != 1 {
		t.Errorf("%d builds for one change, want 1", builds)
	}
}

// TestETag: a server that sends ETags gets If-None-Match and may answer
// 304.
func TestETag(t *testing.T) {
	var conditional atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"a"` {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"a"`)
		fmt.Fprint(w, policyYAML("ALPHA"))
	}))
	defer srv.Close()
	p, err := New(Config{URL: srv.URL, Interval: time.Second}, nil, "",
		buildEngine, func(*rules.Engine) {}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Poll(context.Background()) {
		t.Fatal("first poll did not apply")
	}
	if p.Poll(context.Background()) || conditional.Load() != 1 {
		t.Errorf("second poll: conditional requests = %d, want 1 answered 304", conditional.Load())
	}
}

// TestRunInterval runs the loop on a fake clock: within one interval
// (plus jitter) of a deployment the new policy is active, and the loop
// stops with its context.
func TestRunInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &agent{}
		a.deploy(policyYAML("ALPHA"))
		client := &http.Client{Transport: handlerTransport{a}}
		var active atomic.Pointer[rules.Engine]
		p, err := New(Config{URL: "http://localhost:2772" + agentPath, Interval: 45 * time.Second, Client: client},
			[]byte(policyYAML("ALPHA")), "", buildEngine, func(e *rules.Engine) { active.Store(e) }, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		a.deploy(policyYAML("BRAVO"))
		time.Sleep(45*time.Second*12/10 + time.Millisecond) // the longest jittered wait
		synctest.Wait()
		if e := active.Load(); e == nil || !blocks(e, "BRAVO") {
			t.Error("policy not applied within one jittered interval")
		}
		polls := a.requests.Load()
		if polls < 1 || polls > 2 {
			t.Errorf("%d polls in one interval, want 1 (2 at most with jitter)", polls)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v", err)
		}
		if err := p.Run(context.Background()); err == nil {
			t.Error("a second Run did not fail")
		}
	})
}

// handlerTransport serves requests with a handler, without sockets.
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	ht.h.ServeHTTP(w, r)
	return w.Result(), nil
}

func TestParseInterval(t *testing.T) {
	tests := []struct {
		give    string
		want    time.Duration
		wantErr bool
	}{
		{"", DefaultInterval, false},
		{"30s", 30 * time.Second, false},
		{"2m", 2 * time.Minute, false},
		{"off", 0, false},
		{"0", 0, false},
		{"100ms", 0, true},
		{"45", 0, true},
		{"-5s", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseInterval(tt.give)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNewRejects(t *testing.T) {
	build := func([]byte) (int, string, error) { return 0, "", errors.New("unused") }
	for _, cfg := range []Config{
		{URL: "ftp://x/y", Interval: time.Second},
		{URL: "http://", Interval: time.Second},
		{URL: "http://localhost:2772/x", Interval: time.Millisecond},
	} {
		if _, err := New(cfg, nil, "", build, func(int) {}, nil); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}
