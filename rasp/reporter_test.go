package rasp

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// listen opens a unixgram receiver at a fresh path.
func listen(t testing.TB, path string) *net.UnixConn {
	t.Helper()
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// receive reads one datagram and decodes it.
func receive(t testing.TB, c *net.UnixConn) wire.Event {
	t.Helper()
	buf := make([]byte, wire.MaxDatagram+1)
	if err := c.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("read datagram: %v", err)
	}
	var e wire.Event
	if err := wire.Decode(buf[:n], &e); err != nil {
		t.Fatalf("wire.Decode(%s) error = %v", buf[:n], err)
	}
	return e
}

// clock is a manual time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestReporterSendsDatagrams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	ln := listen(t, path)
	r := newReporter(path, zap.NewNop())
	defer r.Close()
	want := wire.Event{
		Kind: wire.KindDetection, Time: time.Date(2026, 11, 23, 3, 4, 5, 6, time.UTC),
		Function: "orders", RequestID: "r-1", EventSource: "apigw-v2", Action: "block",
		RuleID: "sqli", Category: "sqli", Source: "query", Path: "query.id",
		Excerpt: "1' OR \"1\"=\"1\n\x00\xff", PolicyVersion: "default@abc", DurationNS: 1234, Matches: 2, Truncated: true,
	}
	e := want
	r.Emit(&e)
	got := receive(t, ln)
	want.V = wire.Version
	want.Excerpt = strings.ToValidUTF8(want.Excerpt, "\uFFFD")
	if !got.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("received %+v, want %+v", got, want)
	}
}

func TestReporterCountsDropsAndRedials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	core, logs := observer.New(zapcore.InfoLevel)
	r := newReporter(path, zap.New(core))
	defer r.Close()
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	r.now = clk.now

	// No extension yet: dropped, and detections are logged locally.
	r.Emit(&wire.Event{Kind: wire.KindInspection, Action: "allow"})
	r.Emit(&wire.Event{Kind: wire.KindDetection, RuleID: "xss", Path: "body.c", Excerpt: "<scr…"})
	if got := r.Dropped(); got != 2 {
		t.Fatalf("Dropped() = %d, want 2", got)
	}
	if got := logs.Len(); got != 1 {
		t.Fatalf("%d local log lines, want 1 (the detection only)", got)
	}
	if f := logs.All()[0].ContextMap(); f["rule"] != "xss" || f["path"] != "body.c" {
		t.Errorf("local log fields = %v, want rule and path", f)
	}

	// The extension appears; the reporter waits out the redial interval.
	ln := listen(t, path)
	r.Emit(&wire.Event{Kind: wire.KindInspection, Action: "allow"})
	if got := r.Dropped(); got != 3 {
		t.Fatalf("Dropped() = %d before the redial interval, want 3", got)
	}
	clk.t = clk.t.Add(redialEvery)
	r.Emit(&wire.Event{Kind: wire.KindInspection, Action: "allow"})
	if got := receive(t, ln); got.Dropped != 3 {
		t.Errorf("first datagram Dropped = %d, want 3", got.Dropped)
	}
	r.Emit(&wire.Event{Kind: wire.KindInspection, Action: "allow"})
	if got := receive(t, ln); got.Dropped != 0 {
		t.Errorf("second datagram Dropped = %d, want 0", got.Dropped)
	}
}

func TestReporterNeverBlocksOnAFullSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	listen(t, path) // never read
	r := newReporter(path, zap.NewNop())
	defer r.Close()
	const n = 5000 // far more than a unix socket buffers
	for range n {
		r.Emit(&wire.Event{Kind: wire.KindInspection, Action: "allow", Function: strings.Repeat("f", 200)})
	}
	if r.Dropped() == 0 {
		t.Errorf("Dropped() = 0 after %d sends to a socket nobody reads, want drops", n)
	}
}

func TestReporterRateLimitsLocalLog(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	r := newReporter(filepath.Join(t.TempDir(), "absent.sock"), zap.New(core))
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	r.now = clk.now
	for range 3 * fallbackPerSecond {
		r.Emit(&wire.Event{Kind: wire.KindDetection, RuleID: "sqli"})
	}
	if got := logs.Len(); got != fallbackPerSecond {
		t.Errorf("%d local lines in one second, want %d", got, fallbackPerSecond)
	}
	clk.t = clk.t.Add(time.Second)
	r.Emit(&wire.Event{Kind: wire.KindDetection, RuleID: "sqli"})
	last := logs.All()[logs.Len()-1].ContextMap()
	if got, want := last["suppressed"], uint64(2*fallbackPerSecond); got != want {
		t.Errorf("suppressed = %v, want %v", got, want)
	}
}
