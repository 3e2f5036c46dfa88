package telemetryapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Invocation(status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[status]++
}

func (c *counter) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

func listen(t *testing.T, opts Options) (*Listener, *counter) {
	t.Helper()
	c := &counter{}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	l, err := Listen(context.Background(), c, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	return l, c
}

// post delivers a batch the way Lambda does and returns the status.
func post(t *testing.T, l *Listener, method, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+l.Addr()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const batch = `[
 {"time":"2026-11-23T06:00:00.000Z","type":"platform.start","record":{"requestId":"r-1","version":"$LATEST"}},
 {"time":"2026-11-23T06:00:00.010Z","type":"platform.runtimeDone","record":{"requestId":"r-1","status":"success","metrics":{"durationMs":1.5}}},
 {"time":"2026-11-23T06:00:00.011Z","type":"platform.report","record":{"requestId":"r-1","status":"success","metrics":{"durationMs":2}}},
 {"time":"2026-11-23T06:00:01.000Z","type":"platform.runtimeDone","record":{"requestId":"r-2","status":"error","errorType":"Runtime.Error"}},
 {"time":"2026-11-23T06:00:02.000Z","type":"platform.runtimeDone","record":{"requestId":"r-3","status":"timeout"}},
 {"time":"2026-11-23T06:00:02.000Z","type":"function","record":"a log line"},
 {"time":"2026-11-23T06:00:02.000Z","type":"platform.runtimeDone","record":"not an object"}
]`

func TestBatches(t *testing.T) {
	tests := []struct {
		name       string
		managed    bool
		method     string
		body       string
		wantStatus int
		want       map[string]int
	}{
		{"classic counts runtimeDone", false, http.MethodPost, batch, 200, map[string]int{"success": 1, "error": 1, "timeout": 1}},
		{"managed counts report", true, http.MethodPost, batch, 200, map[string]int{"success": 1}},
		{"empty batch", false, http.MethodPost, `[]`, 200, map[string]int{}},
		{"not an array", false, http.MethodPost, `{"type":"platform.runtimeDone"}`, 400, map[string]int{}},
		{"truncated batch keeps what came before", false, http.MethodPost,
			`[{"type":"platform.runtimeDone","record":{"requestId":"a","status":"failure"}}, {"type":`, 400, map[string]int{"failure": 1}},
		{"GET", false, http.MethodGet, ``, 405, map[string]int{}},
		{"oversized", false, http.MethodPost, `["` + strings.Repeat("x", maxBatchBytes) + `"]`, 413, map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, c := listen(t, Options{Managed: tt.managed})
			if l.Batches() != 0 {
				t.Errorf("Batches() = %d before any delivery", l.Batches())
			}
			if got := post(t, l, tt.method, tt.body); got != tt.wantStatus {
				t.Errorf("status = %d, want %d", got, tt.wantStatus)
			}
			if want := int64(1); tt.method == http.MethodPost && l.Batches() != want {
				t.Errorf("Batches() = %d, want %d", l.Batches(), want)
			}
			got := c.get()
			if len(got) != len(tt.want) {
				t.Errorf("counts = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("counts[%s] = %d, want %d", k, got[k], v)
				}
			}
		})
	}
}

func TestWait(t *testing.T) {
	l, _ := listen(t, Options{})
	// Delivered before anyone waits.
	post(t, l, http.MethodPost, batch)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.Wait(ctx, "r-2"); err != nil {
		t.Errorf("Wait(r-2) after delivery = %v", err)
	}
	// Delivered while waiting.
	errc := make(chan error, 1)
	go func() { errc <- l.Wait(ctx, "r-9") }()
	time.Sleep(20 * time.Millisecond)
	post(t, l, http.MethodPost, `[{"type":"platform.runtimeDone","record":{"requestId":"r-9","status":"success"}}]`)
	if err := <-errc; err != nil {
		t.Errorf("Wait(r-9) = %v", err)
	}
	// Never delivered.
	short, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if err := l.Wait(short, "r-never"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait(r-never) = %v, want DeadlineExceeded", err)
	}
	l.mu.Lock()
	left := len(l.waiters)
	l.mu.Unlock()
	if left != 0 {
		t.Errorf("%d waiters left behind", left)
	}
}

func TestDoneIsBounded(t *testing.T) {
	l, _ := listen(t, Options{})
	for i := 0; i < 3*rememberDone; i++ {
		l.finish(strings.Repeat("r", 1+i%7) + string(rune('a'+i%26)) + time.Duration(i).String())
	}
	l.mu.Lock()
	n := len(l.done)
	l.mu.Unlock()
	if n > rememberDone {
		t.Errorf("remembers %d request ids, want at most %d", n, rememberDone)
	}
}

func TestURI(t *testing.T) {
	l, _ := listen(t, Options{})
	_, port, _ := strings.Cut(l.Addr(), ":")
	if want := "http://sandbox.localdomain:" + port + "/"; l.URI() != want {
		t.Errorf("URI() = %q, want %q", l.URI(), want)
	}
}

// Without a Host, the listener binds what sandbox.localdomain resolves
// to, or loopback; never all interfaces.
func TestDefaultHostNeverWildcard(t *testing.T) {
	c := &counter{}
	l, err := Listen(context.Background(), c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if strings.HasPrefix(l.Addr(), "0.0.0.0:") || strings.HasPrefix(l.Addr(), "[::]:") {
		t.Errorf("bound %s", l.Addr())
	}
}

func TestSubscribe(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr bool
	}{
		{"ok", 200, `"OK"`, false},
		{"classic emulator stub", 202, `{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}`, true},
		{"validation error", 400, `{"errorType":"ValidationError","errorMessage":"unknown schemaVersion"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			var gotID, gotPath, gotMethod string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotID, gotPath, gotMethod = r.Header.Get("Lambda-Extension-Identifier"), r.URL.Path, r.Method
				b, _ := io.ReadAll(r.Body)
				_ = json.Unmarshal(b, &got)
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			err := Subscribe(context.Background(), strings.TrimPrefix(srv.URL, "http://"), "id-1", "http://sandbox.localdomain:4243/", SchemaManaged)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Subscribe() error = %v, wantErr %v", err, tt.wantErr)
			}
			if gotID != "id-1" || gotPath != "/2022-07-01/telemetry" || gotMethod != http.MethodPut {
				t.Errorf("request id=%q path=%q method=%q", gotID, gotPath, gotMethod)
			}
			types, _ := got["types"].([]any)
			dest, _ := got["destination"].(map[string]any)
			if got["schemaVersion"] != SchemaManaged || len(types) != 1 || types[0] != "platform" ||
				dest["protocol"] != "HTTP" || dest["URI"] != "http://sandbox.localdomain:4243/" {
				t.Errorf("subscription = %v", got)
			}
		})
	}
}
