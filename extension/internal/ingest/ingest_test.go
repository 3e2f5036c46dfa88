package ingest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Consumer that keeps what it was given.
type recorder struct {
	mu       sync.Mutex
	events   []wire.Event
	rejected map[string]int
}

func (r *recorder) Handle(e *wire.Event) {
	r.mu.Lock()
	r.events = append(r.events, *e)
	r.mu.Unlock()
}

func (r *recorder) Reject(reason string) {
	r.mu.Lock()
	if r.rejected == nil {
		r.rejected = map[string]int{}
	}
	r.rejected[reason]++
	r.mu.Unlock()
}

func (r *recorder) snapshot() ([]wire.Event, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rej := map[string]int{}
	for k, v := range r.rejected {
		rej[k] = v
	}
	return append([]wire.Event(nil), r.events...), rej
}

// socketPath returns a short socket path (sun_path is limited to 108 bytes).
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ingest")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "sub", "events.sock")
}

func serve(t *testing.T, path string, c Consumer) *Listener {
	t.Helper()
	l, err := Listen(path, c)
	if err != nil {
		t.Fatalf("Listen() error = %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Serve() }()
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve() error = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return l
}

func send(t *testing.T, path string, datagrams ...[]byte) {
	t.Helper()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	for _, d := range datagrams {
		if _, err := c.Write(d); err != nil {
			t.Fatalf("write %d bytes: %v", len(d), err)
		}
	}
}

func TestListenModes(t *testing.T) {
	path := socketPath(t)
	l := serve(t, path, &recorder{})
	dir, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := dir.Mode().Perm(); got != 0o700 {
		t.Errorf("directory mode = %o, want 700", got)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a 0600 socket", fi.Mode())
	}
	if l.Path() != path {
		t.Errorf("Path() = %q", l.Path())
	}
}

func TestListenReplacesStaleSocket(t *testing.T) {
	path := socketPath(t)
	old, err := Listen(path, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	// A crashed process leaves its socket file behind.
	_ = old.conn.Close()
	rec := &recorder{}
	l := serve(t, path, rec)
	send(t, path, []byte(`{"v":1,"kind":"inspection","action":"allow"}`))
	if _, err := l.Drain(); err != nil {
		t.Fatal(err)
	}
	if ev, _ := rec.snapshot(); len(ev) != 1 {
		t.Errorf("got %d events, want 1", len(ev))
	}
	// The old listener's Close must not remove the new socket.
	_ = old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("socket removed by a stale listener: %v", err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := socketPath(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, &recorder{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen() error = %v, want not a socket", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Error("Listen modified a regular file")
	}
}

func TestCloseRemovesSocket(t *testing.T) {
	path := socketPath(t)
	l, err := Listen(path, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("socket still exists after Close: %v", err)
	}
	if err := l.Serve(); err != nil {
		t.Errorf("Serve() after Close = %v, want nil", err)
	}
}

func TestServeAndDrain(t *testing.T) {
	tests := []struct {
		name       string
		datagrams  []string
		wantKinds  []wire.Kind
		wantReject map[string]int
	}{
		{
			name: "valid events",
			datagrams: []string{
				`{"v":1,"kind":"inspection","src":"apigw-v2","action":"allow","dur_ns":1200}`,
				`{"v":1,"kind":"detection","rule":"sqli","cat":"sqli","action":"block","source":"query","path":"query.q"}`,
				`{"v":1,"kind":"egress","dest":"169.254.169.254:80","class":"metadata","action":"block","dropped":3}`,
				`{"v":1,"kind":"sink","sink":"sql","action":"block","rule":"sqli-sink"}`,
			},
			wantKinds:  []wire.Kind{wire.KindInspection, wire.KindDetection, wire.KindEgress, wire.KindSink},
			wantReject: map[string]int{},
		},
		{
			name: "rejected datagrams",
			datagrams: []string{
				`{"v":1,`,
				`not json at all`,
				``,
				`{"v":1,"kind":"gossip"}`,
				`{"v":2,"kind":"sink"}`,
				`{"kind":"sink"}`,
				`{"v":1,"kind":"sink","reason":"` + strings.Repeat("x", wire.MaxDatagram) + `"}`,
				`{"v":1,"kind":"sink","sink":"exec","action":"block"}`,
			},
			wantKinds:  []wire.Kind{wire.KindSink},
			wantReject: map[string]int{ReasonMalformed: 4, ReasonVersion: 2, ReasonOversized: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := socketPath(t)
			rec := &recorder{}
			l := serve(t, path, rec)
			var ds [][]byte
			for _, d := range tt.datagrams {
				ds = append(ds, []byte(d))
			}
			send(t, path, ds...)
			if _, err := l.Drain(); err != nil {
				t.Fatal(err)
			}
			events, rejected := rec.snapshot()
			var kinds []wire.Kind
			for _, e := range events {
				kinds = append(kinds, e.Kind)
			}
			if strings.Join(kindStrings(kinds), ",") != strings.Join(kindStrings(tt.wantKinds), ",") {
				t.Errorf("kinds = %v, want %v", kinds, tt.wantKinds)
			}
			if len(rejected) != len(tt.wantReject) {
				t.Errorf("rejected = %v, want %v", rejected, tt.wantReject)
			}
			for k, v := range tt.wantReject {
				if rejected[k] != v {
					t.Errorf("rejected[%s] = %d, want %d", k, rejected[k], v)
				}
			}
		})
	}
}

func kindStrings(ks []wire.Kind) []string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

// Drain without Serve reads everything queued, in order.
func TestDrainWithoutServe(t *testing.T) {
	path := socketPath(t)
	rec := &recorder{}
	l, err := Listen(path, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	send(t, path, []byte(`{"v":1,"kind":"sink","sink":"file"}`), []byte(`{"v":1,"kind":"sink","sink":"exec"}`))
	n, err := l.Drain()
	if err != nil || n != 2 {
		t.Fatalf("Drain() = %d, %v; want 2, nil", n, err)
	}
	ev, _ := rec.snapshot()
	if len(ev) != 2 || ev[0].Sink != "file" || ev[1].Sink != "exec" {
		t.Errorf("events = %+v", ev)
	}
	if n, err := l.Drain(); n != 0 || err != nil {
		t.Errorf("second Drain() = %d, %v", n, err)
	}
}

// A burst larger than the kernel's default datagram queue is not lost
// while Serve runs.
func TestServeKeepsUp(t *testing.T) {
	path := socketPath(t)
	rec := &recorder{}
	l := serve(t, path, rec)
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 2000
	for i := 0; i < n; i++ {
		if _, err := c.Write([]byte(`{"v":1,"kind":"inspection","action":"allow"}`)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if _, err := l.Drain(); err != nil {
		t.Fatal(err)
	}
	if ev, _ := rec.snapshot(); len(ev) != n {
		t.Errorf("got %d events, want %d", len(ev), n)
	}
}

func FuzzProcess(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"inspection","time":"2026-11-23T03:00:00Z","src":"apigw-v2","dur_ns":1200}`))
	f.Add([]byte(`{"v":1,"kind":"detection","rule":"sqli","cat":"sqli","action":"block","excerpt":"' OR 1=1"}`))
	f.Add([]byte(`{"v":1,"kind":"egress","dest":"169.254.169.254:80","action":"block","dropped":5}`))
	f.Add([]byte(`{"v":7,"kind":"sink"}`))
	f.Add([]byte(`{"v":1,"kind":"sink","excerpt":"\ud800\u0000"}`))
	f.Add([]byte{0xff, 0xfe, '{'})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec := &countingConsumer{}
		l := &Listener{c: rec}
		l.Process(b)
		if rec.handled+rec.rejected != 1 {
			t.Fatalf("Process(%q): handled %d, rejected %d; want exactly one call", b, rec.handled, rec.rejected)
		}
		if len(b) > wire.MaxDatagram && rec.reason != ReasonOversized {
			t.Fatalf("Process of %d bytes: reason %q, want oversized", len(b), rec.reason)
		}
		if rec.handled == 1 {
			switch rec.kind {
			case wire.KindInspection, wire.KindDetection, wire.KindEgress, wire.KindSink:
			default:
				t.Fatalf("handled an event of kind %q", rec.kind)
			}
		}
	})
}

type countingConsumer struct {
	handled, rejected int
	reason            string
	kind              wire.Kind
}

func (c *countingConsumer) Handle(e *wire.Event) { c.handled++; c.kind = e.Kind }
func (c *countingConsumer) Reject(reason string) { c.rejected++; c.reason = reason }
