package rasp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// fakeRuntimeAPI serves the Lambda Runtime API's invocation endpoints:
// one event, then a next that waits for the test to end. It counts the
// requests that do not come from aws-lambda-go's runtime client.
type fakeRuntimeAPI struct {
	*httptest.Server
	runtimeNext atomic.Int64
	foreign     atomic.Int64
	mu          sync.Mutex
	response    []byte
	respErr     []byte
	got         chan struct{}
	once        sync.Once
	done        chan struct{}
}

// runtimeUserAgent prefixes the User-Agent of aws-lambda-go's runtime
// client: the fake Runtime API counts every other caller as foreign.
const runtimeUserAgent = "aws-lambda-go/"

func newFakeRuntimeAPI(t testing.TB) *fakeRuntimeAPI {
	t.Helper()
	f := &fakeRuntimeAPI{got: make(chan struct{}), done: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() { close(f.done); f.Close() })
	return f
}

func (f *fakeRuntimeAPI) addr() string { return f.Listener.Addr().String() }

func (f *fakeRuntimeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("User-Agent"), runtimeUserAgent) {
		f.foreign.Add(1)
		http.Error(w, "not the runtime", http.StatusTeapot)
		return
	}
	switch {
	case r.URL.Path == "/2018-06-01/probe":
		_, _ = io.WriteString(w, "reached")
	case r.Method == http.MethodGet && r.URL.Path == "/2018-06-01/runtime/invocation/next":
		if f.runtimeNext.Add(1) > 1 {
			select { // the next event never comes
			case <-f.done:
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-runtime")
		w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(time.Minute).UnixMilli(), 10))
		w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:egress")
		_, _ = io.WriteString(w, `{"probe":true}`)
	case strings.HasSuffix(r.URL.Path, "/response"), strings.HasSuffix(r.URL.Path, "/error"):
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		if strings.HasSuffix(r.URL.Path, "/error") {
			f.respErr = b
		} else {
			f.response = b
		}
		f.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		f.once.Do(func() { close(f.got) })
	default:
		http.NotFound(w, r)
	}
}

// runtimeProbes are the calls customer code might make to the Runtime
// API; every one must be refused.
func runtimeProbes(ctx context.Context, api string) map[string]string {
	next := "http://" + api + "/2018-06-01/runtime/invocation/next"
	outcome := func(resp *http.Response, err error) string {
		if err == nil {
			resp.Body.Close()
			return "reached: " + resp.Status
		}
		var be *BlockedError
		if errors.As(err, &be) {
			return "blocked: " + be.Reason
		}
		return "error: " + err.Error()
	}
	req := func(ctx context.Context, ua string) *http.Request {
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if ua != "" {
			r.Header.Set("User-Agent", ua)
		}
		return r
	}
	clone := http.DefaultTransport.(*http.Transport).Clone()
	clone.Proxy = nil
	_, port, _ := net.SplitHostPort(api)
	out := map[string]string{}
	out["http.Get"] = outcome(http.Get(next))
	out["new client, background"] = outcome((&http.Client{}).Do(req(context.Background(), "")))
	out["new client, invocation"] = outcome((&http.Client{}).Do(req(ctx, "")))
	out["new client, runtime user agent, invocation"] = outcome((&http.Client{}).Do(req(ctx, "aws-lambda-go/go1")))
	out["clone without proxy, invocation"] = outcome((&http.Client{Transport: clone}).Do(req(ctx, "aws-lambda-go/go1")))
	out["clone without proxy, background, runtime user agent"] = outcome((&http.Client{Transport: clone}).Do(req(context.Background(), "aws-lambda-go/go1")))

	out["HTTPClient"] = outcome(HTTPClient().Do(req(context.Background(), "aws-lambda-go/go1")))
	lr, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://localhost:"+port+"/2018-06-01/runtime/invocation/next", nil)
	out["new client, by name"] = outcome((&http.Client{}).Do(lr))
	conn, err := DialContext(context.Background(), "tcp", api)
	if err == nil {
		conn.Close()
	}
	out["DialContext"] = outcome(nil, err)
	if err == nil {
		out["DialContext"] = "reached"
	}
	return out
}

// checkProbes checks that every probe was blocked; as the Lambda
// runtime API unless anyReason (a policy deny rule may decide first).
func checkProbes(t *testing.T, got map[string]string, anyReason bool) {
	t.Helper()
	if len(got) < 8 {
		t.Errorf("only %d probes: %v", len(got), got)
	}
	for name, o := range got {
		if !strings.HasPrefix(o, "blocked: ") || !anyReason && !strings.Contains(o, "Lambda runtime API") {
			t.Errorf("%s: %s, want blocked as the Lambda runtime API", name, o)
		}
	}
}

// TestProtectRuntimeAPI: after Protect, the runtime client (a clone of
// http.DefaultTransport without a proxy, or the default transport itself
// in older aws-lambda-go versions) reaches the Runtime API, and customer
// code does not, even under a policy that allows loopback.
func TestProtectRuntimeAPI(t *testing.T) {
	api := newFakeRuntimeAPI(t)
	other := newCountingServer(t)
	g, _ := egressGuard(t, "block", "  default: allow\n  allow:\n    - cidr: 127.0.0.0/8\n")
	withProcessGuard(t, g)
	t.Setenv(envRuntimeAPI, api.addr())
	Protect()
	t.Cleanup(unprotect)
	Protect() // idempotent

	ht, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		t.Fatalf("http.DefaultTransport is %T, want *http.Transport", http.DefaultTransport)
	}
	if _, ok := http.DefaultClient.Transport.(*guardedTransport); !ok {
		t.Fatalf("http.DefaultClient.Transport is %T", http.DefaultClient.Transport)
	}
	// The runtime client: aws-lambda-go >= 1.50 clones the default
	// transport and drops its proxy; older versions used it directly.
	if got := os.Getenv(envRuntimeAPI); got == api.addr() || !strings.HasSuffix(got, ".invalid:"+api.Listener.Addr().(*net.TCPAddr).AddrPort().String()[strings.LastIndexByte(api.addr(), ':')+1:]) {
		t.Fatalf("after Protect, %s = %q, want an alias with the same port", envRuntimeAPI, got)
	}
	alias := os.Getenv(envRuntimeAPI)
	runtimeReq := func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "http://"+alias+"/2018-06-01/probe", nil)
		r.Header.Set("User-Agent", "aws-lambda-go/"+"go1.26")
		return r
	}
	clone := ht.Clone()
	clone.Proxy = nil
	for name, c := range map[string]*http.Client{"clone": {Transport: clone}, "default transport": {}} {
		resp, err := c.Do(runtimeReq())
		if err != nil {
			t.Fatalf("runtime client (%s): %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("runtime client (%s): %s", name, resp.Status)
		}
	}
	checkProbes(t, runtimeProbes(invocationCtx(g), api.addr()), false)
	if n := api.foreign.Load(); n != 0 {
		t.Errorf("the Runtime API got %d foreign requests", n)
	}
	// Other loopback services stay reachable under this policy, and the
	// metadata service does not.
	if code, err := get(context.Background(), http.DefaultClient, other.url("127.0.0.1")); err != nil || code != 200 {
		t.Errorf("http.DefaultClient to an allowed service: %d, %v", code, err)
	}
	if code, err := get(context.Background(), &http.Client{}, other.url("127.0.0.1")); err != nil || code != 200 {
		t.Errorf("new client to an allowed service: %d, %v", code, err)
	}
	_, err := get(context.Background(), &http.Client{}, "http://169.254.169.254/latest/meta-data/")
	blocked(t, err)

	// Transport over the protected default uses the original dialer
	// settings, strictly.
	_, err = get(context.Background(), &http.Client{Transport: Transport(http.DefaultTransport)}, "http://"+api.addr()+"/")
	blocked(t, err)
}

// TestProtectKeepsForeignDefaultTransport: when http.DefaultTransport is
// not an *http.Transport, Protect guards http.DefaultClient only.
func TestProtectKeepsForeignDefaultTransport(t *testing.T) {
	orig, origClient := http.DefaultTransport, http.DefaultClient.Transport
	t.Cleanup(func() { http.DefaultTransport, http.DefaultClient.Transport = orig, origClient })
	foreign := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	})
	http.DefaultTransport = foreign
	http.DefaultClient.Transport = nil
	withProcessGuard(t, nil)
	Protect()
	if _, ok := http.DefaultClient.Transport.(*guardedTransport); !ok {
		t.Fatalf("http.DefaultClient.Transport = %T", http.DefaultClient.Transport)
	}
	_, err := http.Get("http://169.254.169.254/")
	blocked(t, err)
	if protectedDefault.Load() != nil {
		t.Error("Protect recorded a protected default transport")
	}
}

// TestForeignTransportRefusesLambdaAPIByName: a base RoundTripper that is
// not an *http.Transport has no guarded dial, so the Runtime API reached
// by a host name ("localhost:<port>") is refused at the HTTP level.
func TestForeignTransportRefusesLambdaAPIByName(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "localhost:9001")
	withProcessGuard(t, nil)
	hits := 0
	rt := Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		hits++
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	}))
	_, err := get(context.Background(), &http.Client{Transport: rt}, "http://localhost:9001/2018-06-01/runtime/invocation/next")
	blocked(t, err)
	if hits != 0 {
		t.Errorf("the base RoundTripper was called %d times", hits)
	}
}

// TestProtectWithLambdaStart runs a real aws-lambda-go runtime loop in a
// child process against a fake Runtime API: rasp.Protect, then rasp.Start
// (which calls lambda.Start, which clones http.DefaultTransport for its
// client). The handler probes the Runtime API the ways customer code
// could; the runtime loop must still deliver the event and post the
// handler's response.
func TestProtectWithLambdaStart(t *testing.T) {
	if os.Getenv("RASP_EGRESS_CHILD") == "1" {
		return // this process is the child; see TestEgressRuntimeChild
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	// The embedded default policy (which denies loopback), and a policy
	// that allows loopback, so only the Lambda API class refuses.
	t.Run("default policy", func(t *testing.T) { runLambdaChild(t, "") })
	t.Run("loopback allowed", func(t *testing.T) {
		runLambdaChild(t, "version: 1\nname: child\nmode: block\negress:\n  default: allow\n  allow:\n    - cidr: 127.0.0.0/8\n")
	})
}

// runLambdaChild runs TestEgressRuntimeChild under policy (the embedded
// default when empty) against a fake Runtime API.
func runLambdaChild(t *testing.T, policy string) {
	api := newFakeRuntimeAPI(t)
	dir := t.TempDir()
	policyEnv := "LAMBDA_RASP_POLICY="
	if policy != "" {
		file := filepath.Join(dir, "policy.yaml")
		if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
			t.Fatal(err)
		}
		policyEnv += file
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEgressRuntimeChild$")
	cmd.Env = append(os.Environ(),
		"RASP_EGRESS_CHILD=1",
		envRuntimeAPI+"="+api.addr(),
		"AWS_LAMBDA_FUNCTION_NAME=egress-child",
		policyEnv,
		EnvSocket+"="+filepath.Join(dir, "none.sock"),
		"_LAMBDA_SERVER_PORT=",
	)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	select {
	case <-api.got:
	case err := <-exited:
		t.Fatalf("child exited before responding: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no response from the runtime loop\n%s", stderr.String())
	}
	api.mu.Lock()
	resp, respErr := api.response, api.respErr
	api.mu.Unlock()
	if respErr != nil {
		t.Fatalf("handler failed: %s\n%s", respErr, stderr.String())
	}
	var got map[string]string
	if err := json.Unmarshal(resp, &got); err != nil {
		t.Fatalf("response %q: %v", resp, err)
	}
	checkProbes(t, got, policy == "")
	if n := api.foreign.Load(); n != 0 {
		t.Errorf("the Runtime API got %d foreign requests", n)
	}
	// The runtime loop asked for the next event after responding.
	deadline := time.Now().Add(10 * time.Second)
	for api.runtimeNext.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := api.runtimeNext.Load(); n < 2 {
		t.Errorf("runtime client asked for %d events, want 2", n)
	}
}

// TestEgressRuntimeChild is the child of TestProtectWithLambdaStart; it
// does nothing in a normal test run.
func TestEgressRuntimeChild(t *testing.T) {
	if os.Getenv("RASP_EGRESS_CHILD") != "1" {
		t.Skip("child process of TestProtectWithLambdaStart")
	}
	// Start installs the guard in http.DefaultTransport by itself.
	Start(func(ctx context.Context, _ json.RawMessage) (map[string]string, error) {
		return runtimeProbes(ctx, os.Getenv(envRuntimeAPI)), nil
	}, WithSecurityLog(zap.NewNop()))
}

func TestWithDefaultTransport(t *testing.T) {
	for _, tt := range []struct {
		give []Option
		want bool // Start calls Protect
	}{
		{nil, true},
		{[]Option{WithDefaultTransport(true)}, true},
		{[]Option{WithDefaultTransport(false)}, false},
	} {
		var o options
		for _, opt := range tt.give {
			opt.apply(&o)
		}
		if got := !o.keepDefaultTransport; got != tt.want {
			t.Errorf("options %v: Start protects = %v, want %v", tt.give, got, tt.want)
		}
	}
}

// TestProtectSSRFByName: code using http.DefaultTransport directly gets
// the SSRF check too; its Proxy hook looks the steered name up.
func TestProtectSSRFByName(t *testing.T) {
	srv := newCountingServer(t)
	g, out := egressGuard(t, "block", "  default: allow\n  allow:\n    - cidr: 127.0.0.0/8\n")
	withProcessGuard(t, nil)
	t.Setenv(envRuntimeAPI, "")
	Protect()
	t.Cleanup(unprotect)
	in := rules.Field{Source: rules.SourceBody, Path: "body.webhook", Value: srv.url("localhost")}
	for name, c := range map[string]*http.Client{"new client": {}, "default client": http.DefaultClient} {
		_, err := get(invocationCtx(g, in), c, srv.url("localhost"))
		be := blocked(t, err)
		if be.RuleIDs[0] != rules.RuleSSRFSink || be.Paths[0] != "body.webhook" {
			t.Errorf("%s: %+v", name, be)
		}
		if code, err := get(invocationCtx(g), c, srv.url("localhost")); err != nil || code != 200 {
			t.Errorf("%s without a steering input: %d, %v", name, code, err)
		}
	}
	if srv.hits.Load() != 2 {
		t.Errorf("hits = %d, want 2", srv.hits.Load())
	}
	for _, e := range out.denials() {
		if e.RuleID != rules.RuleSSRFSink || e.Source != "body" || e.Class != "loopback" {
			t.Errorf("event %+v", e)
		}
	}
}
