package lambdasim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// Paths of the test programs built once by TestMain.
var (
	runtimeBin   string // testdata/runtime, an aws-lambda-go function
	extensionBin string // testdata/extension, behaviour chosen by file name
	sleeperBin   string // a shell script that only sleeps
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lambdasim-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	runtimeBin = filepath.Join(dir, "runtime", "bootstrap")
	extensionBin = filepath.Join(dir, "extension")
	for out, pkg := range map[string]string{runtimeBin: "./testdata/runtime", extensionBin: "./testdata/extension"} {
		if err := lambdasim.BuildGo(context.Background(), "", pkg, out); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	sleeperBin = filepath.Join(dir, "sleeper", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(sleeperBin), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(sleeperBin, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code == 0 {
		// Every Sim was shut down: no simulator goroutine may survive it.
		// Idle keep-alive connections of the tests' HTTP clients may.
		if err := goleak.Find(
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return code
}

// extDir returns a directory holding the test extension under each name.
func extDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.Symlink(extensionBin, filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// syncBuffer collects children's output.
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

// record is one line the test extension reports.
type record struct {
	Ext    string          `json:"ext"`
	What   string          `json:"what"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// records returns what extension name reported, optionally only of kind what.
func (b *syncBuffer) records(name, what string) []record {
	var out []record
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "["+name+"] ")
		if !ok || !strings.HasPrefix(line, "{") {
			continue
		}
		var r record
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		if what == "" || r.What == what {
			out = append(out, r)
		}
	}
	return out
}

// newSim creates a simulator that is shut down when the test ends.
func newSim(t *testing.T, cfg lambdasim.Config) (*lambdasim.Sim, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	cfg.Stdout, cfg.Stderr = out, out
	if cfg.Bootstrap == "" {
		cfg.Bootstrap = runtimeBin
	}
	if cfg.ShutdownBudget == 0 {
		cfg.ShutdownBudget = 500 * time.Millisecond
	}
	s, err := lambdasim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx, "") // most tests shut down themselves; ErrClosed is fine
		if t.Failed() {
			t.Logf("children's output:\n%s", out.String())
			for _, e := range s.Events() {
				t.Log(e)
			}
		}
	})
	return s, out
}

func invoke(t *testing.T, s *lambdasim.Sim, payload string) *lambdasim.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Invoke(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("Invoke(%s) error: %v", payload, err)
	}
	return res
}

func shutdown(t *testing.T, s *lambdasim.Sim) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
}

// eventsOf filters the lifecycle log.
func eventsOf(s *lambdasim.Sim, kind lambdasim.EventKind, name string) []lambdasim.Event {
	var out []lambdasim.Event
	for _, e := range s.Events() {
		if e.Kind == kind && (name == "" || e.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

// extEvent is an Extensions API event as the test extension received it.
type extEvent struct {
	EventType          string `json:"eventType"`
	DeadlineMs         int64  `json:"deadlineMs"`
	RequestID          string `json:"requestId"`
	InvokedFunctionArn string `json:"invokedFunctionArn"`
	ShutdownReason     string `json:"shutdownReason"`
	Tracing            *struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"tracing"`
}

func receivedEvents(t *testing.T, out *syncBuffer, name string) []extEvent {
	t.Helper()
	var evs []extEvent
	for _, r := range out.records(name, "event") {
		var ev extEvent
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatalf("event body %s: %v", r.Body, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestNewRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		give lambdasim.Config
	}{
		{name: "no bootstrap", give: lambdasim.Config{}},
		{name: "missing bootstrap", give: lambdasim.Config{Bootstrap: filepath.Join(dir, "nope")}},
		{name: "bootstrap not executable", give: lambdasim.Config{Bootstrap: plain}},
		{name: "bootstrap is a directory", give: lambdasim.Config{Bootstrap: dir}},
		{name: "extensions dir is a file", give: lambdasim.Config{Bootstrap: runtimeBin, ExtensionsDir: plain}},
		{name: "negative timeout", give: lambdasim.Config{Bootstrap: runtimeBin, Timeout: -time.Second}},
		{name: "memory too small", give: lambdasim.Config{Bootstrap: runtimeBin, MemoryMB: 64}},
		{name: "memory too large", give: lambdasim.Config{Bootstrap: runtimeBin, MemoryMB: 20000}},
		{name: "public api address", give: lambdasim.Config{Bootstrap: runtimeBin, APIAddr: "0.0.0.0:0"}},
		{name: "public invoke address", give: lambdasim.Config{Bootstrap: runtimeBin, InvokeAddr: ":9000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := lambdasim.New(tt.give)
			if !errors.Is(err, lambdasim.ErrInvalidConfig) {
				t.Errorf("New() = %v, %v, want ErrInvalidConfig", s, err)
			}
		})
	}
}

func TestNonExecutableExtensionIgnored(t *testing.T) {
	dir := extDir(t, "logger")
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("not an extension"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	s, _ := newSim(t, lambdasim.Config{ExtensionsDir: dir})
	if err := s.Start(context.Background()); err != nil {
		t.Fatalf("Start() = %v", err)
	}
	starts := eventsOf(s, lambdasim.EventExtensionStart, "")
	if len(starts) != 1 || starts[0].Name != "logger" {
		t.Errorf("started extensions = %v, want only logger", starts)
	}
}

func TestTooManyExtensions(t *testing.T) {
	names := make([]string, lambdasim.MaxExtensions+1)
	for i := range names {
		names[i] = fmt.Sprintf("logger%02d", i)
	}
	s, _ := newSim(t, lambdasim.Config{ExtensionsDir: extDir(t, names...)})
	var ie *lambdasim.InitError
	if err := s.Start(context.Background()); !errors.As(err, &ie) || ie.Type != "Extension.TooManyExtensions" {
		t.Errorf("Start() = %v, want Extension.TooManyExtensions", err)
	}
}

func TestBuildGoError(t *testing.T) {
	err := lambdasim.BuildGo(context.Background(), "", "./testdata/does-not-exist", filepath.Join(t.TempDir(), "x"))
	if err == nil || !strings.Contains(err.Error(), "build ./testdata/does-not-exist") {
		t.Errorf("BuildGo(missing package) = %v, want a build error naming the package", err)
	}
}
