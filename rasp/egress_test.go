package rasp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// captureEmitter records the events a guard emits.
type captureEmitter struct {
	mu     sync.Mutex
	events []wire.Event
}

func (c *captureEmitter) Emit(e *wire.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, *e)
}

func (c *captureEmitter) snapshot() []wire.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wire.Event(nil), c.events...)
}

// denials returns the events whose action is not allow.
func (c *captureEmitter) denials() []wire.Event {
	var out []wire.Event
	for _, e := range c.snapshot() {
		if e.Action != "allow" {
			out = append(out, e)
		}
	}
	return out
}

// egressGuard builds a guard whose policy has the given egress section
// (lines indented under "egress:") and whose events are captured.
func egressGuard(t testing.TB, mode, egress string) (*guard, *captureEmitter) {
	t.Helper()
	src := "version: 1\nname: egress-test\nmode: " + mode + "\negress:\n" + egress
	p, err := policy.Parse("egress-test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", src, err)
	}
	eng, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	out := &captureEmitter{}
	return &guard{engine: eng, out: out, function: "egress-fn"}, out
}

// invocationCtx returns a context of an invocation guarded by g with the
// given inputs.
func invocationCtx(g *guard, inputs ...rules.Field) context.Context {
	return newContext(lambdaCtx("req-1"), &Invocation{RequestID: "req-1", EventSource: "apigw-v2", Inputs: inputs, g: g})
}

// withProcessGuard makes g the process guard for the test (nil: none).
func withProcessGuard(t testing.TB, g *guard) {
	t.Helper()
	old := processGuard.Swap(g)
	t.Cleanup(func() { processGuard.Store(old) })
}

// countingServer is an httptest server on loopback that counts requests
// and accepted connections.
type countingServer struct {
	*httptest.Server
	hits  atomic.Int64
	conns atomic.Int64
	port  int
}

func newCountingServer(t testing.TB) *countingServer {
	t.Helper()
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	s.port = s.Listener.Addr().(*net.TCPAddr).Port
	return s
}

func (s *countingServer) url(host string) string {
	return "http://" + net.JoinHostPort(host, strconv.Itoa(s.port)) + "/x"
}

func get(ctx context.Context, c *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// blocked returns the *BlockedError in err, failing the test without one.
func blocked(t testing.TB, err error) *BlockedError {
	t.Helper()
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BlockedError", err)
	}
	if be.Sink != "egress" {
		t.Fatalf("BlockedError.Sink = %q, want egress", be.Sink)
	}
	return be
}

func loopbackPolicy(port int) string {
	return fmt.Sprintf("  default: deny\n  allow:\n    - cidr: 127.0.0.1/32\n      ports: [%d]\n", port)
}

func TestTransportDecidesOnAddress(t *testing.T) {
	srv := newCountingServer(t)
	other := newCountingServer(t)
	g, out := egressGuard(t, "block", loopbackPolicy(srv.port))
	withProcessGuard(t, nil)
	t.Setenv(envRuntimeAPI, "")
	c := &http.Client{Transport: Transport(nil)}
	ctx := invocationCtx(g)

	if code, err := get(ctx, c, srv.url("127.0.0.1")); err != nil || code != 200 {
		t.Fatalf("allowed destination: %d, %v", code, err)
	}
	tests := []struct {
		name, url, class string
	}{
		{"other port", other.url("127.0.0.1"), "loopback"},
		{"metadata", "http://169.254.169.254/latest/meta-data/", "metadata"},
		{"mapped metadata", "http://[::ffff:169.254.169.254]/latest/meta-data/", "metadata"},
		{"ecs credentials", "http://169.254.170.2/v2/credentials", "metadata"},
		{"unspecified v4", srv.url("0.0.0.0"), "unspecified"},
		{"unspecified v6", srv.url("::"), "unspecified"},
		{"link-local", "http://169.254.1.1/", "link_local"},
		{"private", "http://10.0.0.1:5432/", "private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := get(ctx, c, tt.url)
			be := blocked(t, err)
			if be.RequestID != "req-1" || len(be.RuleIDs) != 1 || be.RuleIDs[0] != rules.RuleEgressDeny {
				t.Errorf("BlockedError = %+v", be)
			}
			var ue *url.Error
			if !errors.As(err, &ue) {
				t.Errorf("err %T is not a *url.Error", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusal took %v: was a connection attempted?", d)
			}
			ev := out.denials()
			last := ev[len(ev)-1]
			if last.Kind != wire.KindEgress || last.Class != tt.class || last.Action != "block" || last.RuleID != rules.RuleEgressDeny || last.RequestID != "req-1" {
				t.Errorf("event = %+v, want class %s", last, tt.class)
			}
		})
	}
	if srv.hits.Load() != 1 || other.hits.Load() != 0 || other.conns.Load() != 0 {
		t.Errorf("hits: allowed %d, other %d (conns %d); want 1, 0, 0", srv.hits.Load(), other.hits.Load(), other.conns.Load())
	}
	if srv.conns.Load() != 1 {
		t.Errorf("allowed server saw %d connections, want 1 (0.0.0.0 and :: must not connect)", srv.conns.Load())
	}
	// One allow event for the first allowed destination.
	allows := 0
	for _, e := range out.snapshot() {
		if e.Action == "allow" {
			allows++
			if e.Class != "loopback" || e.Dest == "" {
				t.Errorf("allow event %+v", e)
			}
		}
	}
	if allows != 1 {
		t.Errorf("%d allow events, want 1", allows)
	}
}

func TestEgressMonitorModeLetsThrough(t *testing.T) {
	srv := newCountingServer(t)
	g, out := egressGuard(t, "monitor", "  default: deny\n")
	withProcessGuard(t, nil)
	c := &http.Client{Transport: Transport(nil)}
	if code, err := get(invocationCtx(g), c, srv.url("127.0.0.1")); err != nil || code != 200 {
		t.Fatalf("monitor mode: %d, %v", code, err)
	}
	ev := out.denials()
	if len(ev) != 1 || ev[0].Action != "monitor" || ev[0].Class != "loopback" || ev[0].Reason != "not in egress.allow" {
		t.Fatalf("events = %+v", ev)
	}
	if srv.hits.Load() != 1 {
		t.Errorf("hits = %d, want 1", srv.hits.Load())
	}
}

func TestEgressModeOffNoEvents(t *testing.T) {
	srv := newCountingServer(t)
	g, out := egressGuard(t, "block", "  default: deny\n  mode: off\n")
	c := &http.Client{Transport: Transport(nil)}
	if code, err := get(invocationCtx(g), c, srv.url("127.0.0.1")); err != nil || code != 200 {
		t.Fatalf("mode off: %d, %v", code, err)
	}
	if ev := out.snapshot(); len(ev) != 0 {
		t.Errorf("events = %+v, want none", ev)
	}
}

// fakeDNS is a DNS server on loopback UDP that answers every A query with
// the next address of answers (the last one repeating) and every other
// query with no records.
type fakeDNS struct {
	conn    net.PacketConn
	mu      sync.Mutex
	answers []netip.Addr
	queries int
}

func newFakeDNS(t testing.TB, answers ...string) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDNS{conn: pc}
	for _, a := range answers {
		d.answers = append(d.answers, netip.MustParseAddr(a))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := d.answer(buf[:n]); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	t.Cleanup(func() { _ = pc.Close(); <-done })
	return d
}

func (d *fakeDNS) answer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	i := 12
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	resp := make([]byte, 12, 64)
	copy(resp, q[:2])
	resp[2], resp[3] = 0x81, 0x80 // response, recursion desired and available
	resp[5] = 1                   // one question
	if qtype == 1 {
		d.mu.Lock()
		ip := d.answers[min(d.queries, len(d.answers)-1)]
		d.queries++
		d.mu.Unlock()
		resp[7] = 1 // one answer
		resp = append(resp, question...)
		a := ip.As4()
		resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4)
		resp = append(resp, a[:]...)
		return resp
	}
	return append(resp, question...)
}

// resolver returns a resolver that asks d.
func (d *fakeDNS) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, "udp", d.conn.LocalAddr().String())
	}}
}

// TestDNSRebinding: a name that first resolves to a public address and
// then to loopback passes any check made at resolution time; the guard
// decides on the address actually connected.
func TestDNSRebinding(t *testing.T) {
	srv := newCountingServer(t)
	g, out := egressGuard(t, "block", "  default: allow\n  deny:\n    - cidr: 127.0.0.0/8\n")
	withProcessGuard(t, g)
	dns := newFakeDNS(t, "93.184.216.34", "127.0.0.1")
	res := dns.resolver()

	// A string- or resolution-time check sees a public address.
	ips, err := res.LookupNetIP(context.Background(), "ip4", "rebind.example.com.")
	if err != nil || len(ips) == 0 || ips[0].String() != "93.184.216.34" {
		t.Fatalf("first lookup = %v, %v", ips, err)
	}
	addr := "rebind.example.com.:" + strconv.Itoa(srv.port)

	t.Run("dialer control hook", func(t *testing.T) {
		d := Dialer(&net.Dialer{Resolver: res, Timeout: 2 * time.Second})
		conn, err := d.DialContext(context.Background(), "tcp4", addr)
		if err == nil {
			conn.Close()
			t.Fatal("rebinding dial succeeded")
		}
		blocked(t, err)
		var oe *net.OpError
		if !errors.As(err, &oe) {
			t.Errorf("err %T is not a *net.OpError", err)
		}
	})
	t.Run("transport with a custom dial function", func(t *testing.T) {
		base := &http.Transport{DialContext: (&net.Dialer{Resolver: res, Timeout: 2 * time.Second}).DialContext}
		c := &http.Client{Transport: Transport(base)}
		_, err := get(context.Background(), c, "http://"+addr+"/x")
		blocked(t, err)
	})
	if srv.hits.Load() != 0 {
		t.Errorf("server got %d requests, want 0", srv.hits.Load())
	}
	// The control hook refuses before connect(2): only the custom dial
	// function (checked once connected) reached the listener.
	if n := srv.conns.Load(); n > 1 {
		t.Errorf("server accepted %d connections, want at most 1", n)
	}
	for _, e := range out.denials() {
		if e.Class != "loopback" || e.RuleID != rules.RuleEgressDeny {
			t.Errorf("event %+v", e)
		}
	}
}

func TestDialContextAndDialer(t *testing.T) {
	srv := newCountingServer(t)
	g, _ := egressGuard(t, "block", loopbackPolicy(srv.port))
	withProcessGuard(t, g)
	t.Setenv(envRuntimeAPI, "")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.port))

	conn, err := DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("allowed DialContext: %v", err)
	}
	conn.Close()
	_, err = DialContext(context.Background(), "tcp", "169.254.169.254:80")
	blocked(t, err)

	// Dialer chains the existing hook, after its own check.
	var chained atomic.Int64
	d := Dialer(&net.Dialer{ControlContext: func(context.Context, string, string, syscall.RawConn) error {
		chained.Add(1)
		return nil
	}})
	conn, err = d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("allowed Dialer: %v", err)
	}
	conn.Close()
	_, err = d.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	blocked(t, err)
	if chained.Load() != 1 {
		t.Errorf("existing ControlContext ran %d times, want 1 (only for the allowed dial)", chained.Load())
	}
	// The deprecated Control is chained too.
	var old atomic.Int64
	d = Dialer(&net.Dialer{Control: func(string, string, syscall.RawConn) error { old.Add(1); return nil }})
	conn, err = d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if old.Load() != 1 {
		t.Errorf("existing Control ran %d times, want 1", old.Load())
	}
	if d := Dialer(nil); d.ControlContext == nil {
		t.Error("Dialer(nil) has no control hook")
	}
}

func TestHostAndSchemeRules(t *testing.T) {
	srv := newCountingServer(t)
	pol := fmt.Sprintf("  default: deny\n  allow:\n    - host: localhost\n      ports: [%d]\n      schemes: [https]\n", srv.port)
	g, _ := egressGuard(t, "block", pol)
	withProcessGuard(t, g)
	ctx := context.Background()
	addr := net.JoinHostPort("localhost", strconv.Itoa(srv.port))

	// Below HTTP the scheme is unknown: the host rule applies.
	conn, err := DialContext(ctx, "tcp4", addr)
	if err != nil {
		t.Fatalf("DialContext by allowed name: %v", err)
	}
	conn.Close()
	// The same address by number is not named by the host rule.
	_, err = DialContext(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.port)))
	blocked(t, err)
	// Through the Transport the scheme is known: http is refused.
	c := &http.Client{Transport: Transport(nil)}
	_, err = get(ctx, c, "http://"+addr+"/x")
	be := blocked(t, err)
	if !strings.Contains(be.Reason, "not in egress.allow") {
		t.Errorf("reason %q", be.Reason)
	}
	if srv.hits.Load() != 0 {
		t.Errorf("hits = %d, want 0", srv.hits.Load())
	}
}

func TestSSRFCorrelation(t *testing.T) {
	srv := newCountingServer(t)
	// The policy allows the server: only the correlation refuses.
	g, out := egressGuard(t, "block", loopbackPolicy(srv.port))
	withProcessGuard(t, nil)
	t.Setenv(envRuntimeAPI, "")
	c := &http.Client{Transport: Transport(nil)}
	field := func(v string) rules.Field {
		return rules.Field{Source: rules.SourceQuery, Path: "query.url", Value: v}
	}
	tests := []struct {
		name    string
		input   rules.Field
		url     string
		blocked bool
	}{
		{"whole URL from input", field(srv.url("127.0.0.1")), srv.url("127.0.0.1"), true},
		{"host from input by name", field("localhost"), srv.url("localhost"), true},
		{"host from input, upper case", field("LOCALHOST"), srv.url("localhost"), true},
		{"port from input", field(strconv.Itoa(srv.port)), srv.url("127.0.0.1"), srv.port >= 100},
		{"input elsewhere in the URL", field("abcdef"), srv.url("127.0.0.1") + "?q=abcdef", false},
		{"short input", field("12"), srv.url("127.0.0.1"), false},
		{"header input", rules.Field{Source: rules.SourceHeaders, Path: "headers.x-target", Value: "127.0.0.1"}, srv.url("127.0.0.1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.hits.Load()
			_, err := get(invocationCtx(g, tt.input), c, tt.url)
			if !tt.blocked {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			be := blocked(t, err)
			if be.RuleIDs[0] != rules.RuleSSRFSink || be.Paths[0] != tt.input.Path {
				t.Errorf("BlockedError = %+v", be)
			}
			if srv.hits.Load() != before {
				t.Error("blocked request reached the server")
			}
			ev := out.denials()
			last := ev[len(ev)-1]
			if last.RuleID != rules.RuleSSRFSink || last.Category != "ssrf" || last.Source != tt.input.Source.String() || last.Path != tt.input.Path || last.Class != "loopback" || last.Action != "block" {
				t.Errorf("event %+v", last)
			}
		})
	}

	// A pooled connection to the host does not let an input-steered
	// request skip the check.
	ctx := invocationCtx(g)
	if _, err := get(ctx, c, srv.url("localhost")); err != nil {
		t.Fatal(err)
	}
	_, err := get(invocationCtx(g, field("localhost")), c, srv.url("localhost"))
	blocked(t, err)

	// Monitor mode reports and lets it through.
	gm, outm := egressGuard(t, "monitor", loopbackPolicy(srv.port))
	if _, err := get(invocationCtx(gm, field("localhost")), c, srv.url("localhost")); err != nil {
		t.Fatalf("monitor: %v", err)
	}
	// One event per address tried (localhost may also resolve to ::1).
	ev := outm.denials()
	if len(ev) == 0 {
		t.Fatal("monitor mode reported nothing")
	}
	for _, e := range ev {
		if e.RuleID != rules.RuleSSRFSink || e.Action != "monitor" || e.Excerpt == "" {
			t.Errorf("monitor event %+v", e)
		}
	}
}

// TestSSRFPublicDestinationNotFlagged: an input naming a public,
// allowed destination is not SSRF.
func TestSSRFPublicDestinationNotFlagged(t *testing.T) {
	g, _ := egressGuard(t, "block", "  default: allow\n")
	in := rules.Field{Source: rules.SourceQuery, Path: "query.url", Value: "https://93.184.216.34/"}
	call, err := checkRequest(httptestRequest(invocationCtx(g, in), "https://93.184.216.34/"), true, false)
	if err != nil || call == nil || call.input == nil {
		t.Fatalf("checkRequest = %+v, %v; want a call with the input and no error", call, err)
	}
}

func httptestRequest(ctx context.Context, u string) *http.Request {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}

// roundTripFunc is a RoundTripper that is not an *http.Transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportOtherRoundTripper(t *testing.T) {
	g, _ := egressGuard(t, "block", "  default: allow\n")
	withProcessGuard(t, g)
	var calls atomic.Int64
	rt := Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	}))
	if Transport(rt) != rt {
		t.Error("Transport(Transport(x)) wraps twice")
	}
	c := &http.Client{Transport: rt}
	_, err := get(context.Background(), c, "http://169.254.169.254/latest/meta-data/")
	blocked(t, err)
	if code, err := get(context.Background(), c, "http://example.com/"); err != nil || code != 204 {
		t.Fatalf("name through a foreign transport: %d, %v", code, err)
	}
	if calls.Load() != 1 {
		t.Errorf("base called %d times, want 1", calls.Load())
	}
}

func TestBaselineWithoutGuard(t *testing.T) {
	srv := newCountingServer(t)
	withProcessGuard(t, nil)
	t.Setenv(envRuntimeAPI, "")
	// Loopback stays reachable (a policy fetched from the AppConfig agent,
	// a database opened at init).
	conn, err := DialContext(context.Background(), "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.port)))
	if err != nil {
		t.Fatalf("loopback without a guard: %v", err)
	}
	conn.Close()
	_, err = DialContext(context.Background(), "tcp", net.JoinHostPort("0.0.0.0", strconv.Itoa(srv.port)))
	be := blocked(t, err)
	if be.Reason != "unspecified address" {
		t.Errorf("reason %q", be.Reason)
	}
	_, err = get(context.Background(), HTTPClient(), "http://169.254.169.254/latest/meta-data/")
	blocked(t, err)

	t.Setenv(policy.EnvMode, "off")
	conn, err = DialContext(context.Background(), "tcp", net.JoinHostPort("0.0.0.0", strconv.Itoa(srv.port)))
	if err != nil {
		t.Fatalf("LAMBDA_RASP_MODE=off: %v", err)
	}
	conn.Close()
}

func TestParseAPIAddr(t *testing.T) {
	for give, want := range map[string]string{
		"127.0.0.1:9001":  "127.0.0.1:9001",
		"localhost:9001":  "127.0.0.1:9001",
		"[::1]:9001":      "[::1]:9001",
		"sandbox:9001":    "127.0.0.1:9001",
		"127.0.0.1":       "invalid AddrPort",
		"":                "invalid AddrPort",
		"127.0.0.1:0":     "invalid AddrPort",
		"127.0.0.1:99999": "invalid AddrPort",
		":9001":           "invalid AddrPort",
	} {
		if got := parseAPIAddr(give).String(); got != want {
			t.Errorf("parseAPIAddr(%q) = %s, want %s", give, got, want)
		}
	}
}

func FuzzParseAPIAddr(f *testing.F) {
	for _, s := range []string{"127.0.0.1:9001", "localhost:9001", "[::1]:9001", "[fe80::1%eth0]:9001", "", ":", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ap := parseAPIAddr(s)
		if !ap.IsValid() {
			return
		}
		if ap.Port() == 0 || ap.Addr().Zone() != "" {
			t.Fatalf("parseAPIAddr(%q) = %s", s, ap)
		}
		if _, port, err := net.SplitHostPort(s); err != nil || port != strconv.Itoa(int(ap.Port())) && strings.TrimLeft(port, "0") != strconv.Itoa(int(ap.Port())) {
			t.Fatalf("parseAPIAddr(%q) = %s: port does not come from the input", s, ap)
		}
	})
}

func TestSteeringInput(t *testing.T) {
	g, _ := egressGuard(t, "block", "  default: allow\n")
	f := func(v string) rules.Field {
		return rules.Field{Source: rules.SourceBody, Path: "body.target", Value: v}
	}
	tests := []struct {
		url   string
		input string
		want  bool
	}{
		{"http://169.254.169.254/latest", "169.254.169.254", true},
		{"http://169.254.169.254/latest", "http://169.254.169.254/latest", true},
		{"http://internal.svc:8080/", "INTERNAL.SVC", true},
		{"http://[::1]:8080/", "[::1]", true},
		{"http://trusted.example@127.0.0.1/", "@127.0.0.1/", true},
		{"http://host.example:9001/", "9001", true},
		{"http://host.example:9001/", "900", false},
		{"https://api.example.com/users/42", "42", false},
		{"https://api.example.com/users/alice", "alice", false},
		{"https://api.example.com/", "https://other.example/", false},
		{"https://api.example.com/", "https://", true},
		{"https://api.example.com/", "ab", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		host := strings.ToLower(u.Hostname())
		field, _ := steeringInput(invocationCtx(g, f(tt.input)), u, host)
		got := field != nil
		if got != tt.want {
			t.Errorf("steeringInput(%s, %q) = %v, want %v", tt.url, tt.input, got, tt.want)
		}
	}
	if field, _ := steeringInput(context.Background(), &url.URL{Host: "x"}, "x"); field != nil {
		t.Error("input found outside an invocation")
	}
}

func TestIndexFold(t *testing.T) {
	for _, tt := range []struct {
		s, sub string
		want   int
	}{
		{"Hello World", "WORLD", 6}, {"abc", "", 0}, {"abc", "abcd", -1}, {"aAbB", "ab", 1},
	} {
		if got := indexFold(tt.s, tt.sub); got != tt.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tt.s, tt.sub, got, tt.want)
		}
	}
}

func TestEgressConcurrentRace(t *testing.T) {
	srv := newCountingServer(t)
	g, _ := egressGuard(t, "block", loopbackPolicy(srv.port))
	withProcessGuard(t, g)
	t.Setenv(envRuntimeAPI, "")
	c := &http.Client{Transport: Transport(nil)}
	var wg sync.WaitGroup
	var allowed, refused atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			for j := range 20 {
				ctx := invocationCtx(g)
				u := srv.url("127.0.0.1")
				if (i+j)%3 == 0 {
					u = "http://169.254.169.254/"
				}
				if (i+j)%5 == 0 {
					ctx = invocationCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.u", Value: u})
				}
				_, err := get(ctx, c, u)
				var be *BlockedError
				switch {
				case err == nil:
					allowed.Add(1)
				case errors.As(err, &be):
					refused.Add(1)
				default:
					t.Errorf("unexpected error %v", err)
				}
			}
		})
	}
	wg.Wait()
	if allowed.Load() == 0 || refused.Load() == 0 || srv.hits.Load() != allowed.Load() {
		t.Errorf("allowed %d, refused %d, hits %d", allowed.Load(), refused.Load(), srv.hits.Load())
	}
}

func TestEgressNoGoroutineLeak(t *testing.T) {
	srv := newCountingServer(t)
	g, _ := egressGuard(t, "block", loopbackPolicy(srv.port))
	withProcessGuard(t, g)
	before := runtime.NumGoroutine()
	rt := Transport(nil)
	c := &http.Client{Transport: rt}
	for range 20 {
		_, _ = get(context.Background(), c, srv.url("127.0.0.1"))
		_, _ = get(context.Background(), c, "http://169.254.169.254/")
	}
	rt.(interface{ CloseIdleConnections() }).CloseIdleConnections()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestRedirectInward: a redirect is a new request, decided again: an
// allowed server cannot bounce the client to the metadata service.
func TestRedirectInward(t *testing.T) {
	bounce := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
	t.Cleanup(bounce.Close)
	port := bounce.Listener.Addr().(*net.TCPAddr).Port
	g, out := egressGuard(t, "block", loopbackPolicy(port))
	withProcessGuard(t, nil)
	_, err := get(invocationCtx(g), &http.Client{Transport: Transport(nil)}, bounce.URL)
	blocked(t, err)
	ev := out.denials()
	if len(ev) != 1 || ev[0].Class != "metadata" {
		t.Errorf("events %+v", ev)
	}
}

// TestOddSpellings: numeric spellings of an address reach the dialer as
// names (Go's parser rejects them) or as literals. Go's own resolver
// refuses names whose last label is numeric ("2130706433", "127.1", "0")
// without a query; others ("0x7f.1") go to DNS, which may answer with any
// address, as a resolver reading them the way inet_aton does would. A
// fake DNS server plays that resolver: whatever it answers, the guard
// decides on the address.
func TestOddSpellings(t *testing.T) {
	srv := newCountingServer(t)
	g, out := egressGuard(t, "block", "  default: allow\n  deny:\n    - cidr: 127.0.0.0/8\n")
	withProcessGuard(t, g)
	t.Setenv(envRuntimeAPI, "")
	port := strconv.Itoa(srv.port)
	tests := []struct {
		host   string
		answer string // what an inet_aton resolver makes of host
		class  string // "" when Go's resolver refuses the name
	}{
		{"0x7f.1", "127.0.0.1", "loopback"},
		{"2130706433", "127.0.0.1", ""},
		{"017700000001", "127.0.0.1", ""},
		{"127.1", "127.0.0.1", ""},
		{"0", "0.0.0.0", ""},
		{"0xa9fea9fe", "169.254.169.254", "metadata"},
		{"[::]", "", "unspecified"},
		{"[::ffff:127.0.0.1]", "", "loopback"},
		{"[::ffff:169.254.169.254]", "", "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			nd := &net.Dialer{Timeout: 2 * time.Second}
			if tt.answer != "" {
				nd.Resolver = newFakeDNS(t, tt.answer).resolver()
			}
			host := tt.host
			if !strings.HasPrefix(host, "[") {
				host += "." // no search domains
			}
			conn, err := Dialer(nd).DialContext(context.Background(), "tcp", host+":"+port)
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
			if tt.class == "" {
				var de *net.DNSError
				if !errors.As(err, &de) {
					t.Fatalf("err = %v, want a resolver error", err)
				}
				return
			}
			blocked(t, err)
			ev := out.denials()
			if last := ev[len(ev)-1]; last.Class != tt.class {
				t.Errorf("class %s, want %s", last.Class, tt.class)
			}
		})
	}
	if srv.conns.Load() != 0 {
		t.Errorf("server accepted %d connections, want 0", srv.conns.Load())
	}
}

// TestTransportCustomDialers: a base transport's own dial functions
// (DialContext, the deprecated Dial, DialTLSContext) are kept and their
// connections checked once connected, before any request byte.
func TestTransportCustomDialers(t *testing.T) {
	srv := newCountingServer(t)
	g, _ := egressGuard(t, "block", "  default: allow\n  deny:\n    - cidr: 127.0.0.0/8\n")
	withProcessGuard(t, g)
	t.Setenv(envRuntimeAPI, "")
	var used atomic.Int64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		used.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	bases := map[string]*http.Transport{
		"DialContext": {DialContext: dial},
		"Dial":        {Dial: func(network, addr string) (net.Conn, error) { return dial(context.Background(), network, addr) }},
	}
	for name, base := range bases {
		t.Run(name, func(t *testing.T) {
			before := used.Load()
			_, err := get(context.Background(), &http.Client{Transport: Transport(base)}, srv.url("localhost"))
			blocked(t, err)
			if used.Load() == before {
				t.Error("the base's dial function was not used")
			}
		})
	}
	// DialTLSContext: an https URL dials through it.
	before := used.Load()
	tlsBase := &http.Transport{DialTLSContext: dial}
	_, err := get(context.Background(), &http.Client{Transport: Transport(tlsBase)}, "https://localhost:"+strconv.Itoa(srv.port)+"/")
	blocked(t, err)
	if used.Load() == before {
		t.Error("DialTLSContext was not used")
	}
	if srv.hits.Load() != 0 {
		t.Errorf("hits = %d, want 0", srv.hits.Load())
	}
}

// FuzzIndexFold checks the skipping indexFold against the plain scan.
func FuzzIndexFold(f *testing.F) {
	f.Add("http://Meta.Internal/x", "meta.internal")
	f.Add("ſ K 169.254.169.254", "k")
	f.Add("aAaA", "Aa")
	f.Fuzz(func(t *testing.T, s, sub string) {
		want := -1
		if sub == "" {
			want = 0
		} else {
			for i := 0; i+len(sub) <= len(s); i++ {
				if strings.EqualFold(s[i:i+len(sub)], sub) {
					want = i
					break
				}
			}
		}
		if got := indexFold(s, sub); got != want {
			t.Fatalf("indexFold(%q, %q) = %d, want %d", s, sub, got, want)
		}
	})
}

// TestRecoverEgress: a panic in an egress check (on a dial goroutine it
// would end the process) follows on_error: refused under block, let
// through under allow and without a Protector.
func TestRecoverEgress(t *testing.T) {
	check := func(ctx context.Context) (err error) {
		defer recoverEgress(ctx, netip.MustParseAddrPort("203.0.113.9:443"), &err)
		panic("check bug")
	}
	if err := check(context.Background()); err != nil {
		t.Errorf("without a Protector: %v, want nil", err)
	}
	allow, _ := sinkTestGuard(t, "block", "")
	if err := check(sinkTestCtx(allow)); err != nil {
		t.Errorf("on_error allow: %v, want nil", err)
	}
	p, err := policy.Parse("p.yaml", []byte("version: 1\nname: p\non_error: block\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	var be *BlockedError
	if err := check(sinkTestCtx(&guard{engine: e, out: &sinkRecorder{}})); !errors.As(err, &be) || be.Reason != "egress check failed" {
		t.Errorf("on_error block: %v, want a refusal", err)
	}
}

// TestSSRFWithoutContext: a request made without an invocation's context
// (rasp.HTTPClient().Get(url), the most common call form) is correlated
// with the inputs of every invocation in flight, and the refusal is
// reported under the invocation whose input chose the destination, never
// another one in flight beside it.
func TestSSRFWithoutContext(t *testing.T) {
	srv := newCountingServer(t)
	// The policy allows the server: only the correlation refuses.
	g, out := egressGuard(t, "block", loopbackPolicy(srv.port))
	g.inflight = new(inflight)
	withProcessGuard(t, g)
	t.Setenv(envRuntimeAPI, "")
	c := &http.Client{Transport: Transport(nil)}
	field := func(v string) rules.Field {
		return rules.Field{Source: rules.SourceQuery, Path: "query.url", Value: v}
	}
	other := &Invocation{RequestID: "req-other", EventSource: "apigw-v2", Inputs: []rules.Field{field("espresso cups")}, g: g}
	g.inflight.add(other)
	defer g.inflight.remove(other)

	for _, tt := range []struct{ name, input, url string }{
		{"host name from input", "localhost", srv.url("localhost")},
		{"address from input", "127.0.0.1", srv.url("127.0.0.1")},
		{"whole URL from input", srv.url("127.0.0.1"), srv.url("127.0.0.1")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			steer := &Invocation{RequestID: "req-steer", EventSource: "apigw-v2", Inputs: []rules.Field{field(tt.input)}, g: g}
			g.inflight.add(steer)
			before, seen := srv.hits.Load(), len(out.denials())
			_, err := get(context.Background(), c, tt.url)
			g.inflight.remove(steer)
			be := blocked(t, err)
			if be.RuleIDs[0] != rules.RuleSSRFSink || be.Paths[0] != "query.url" {
				t.Errorf("BlockedError = %+v", be)
			}
			if srv.hits.Load() != before {
				t.Error("blocked request reached the server")
			}
			ev := out.denials()[seen:]
			if len(ev) == 0 {
				t.Fatal("no event for the refusal")
			}
			for _, e := range ev {
				if e.RequestID != "req-steer" || e.RuleID != rules.RuleSSRFSink {
					t.Errorf("event %+v, want an ssrf refusal under req-steer", e)
				}
			}

			// Once that invocation is over, the same call is allowed.
			if _, err := get(context.Background(), c, tt.url); err != nil {
				t.Errorf("after the invocation ended: %v", err)
			}
		})
	}
}
