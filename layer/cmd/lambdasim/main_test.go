package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

var runtimeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lambdasim-cli")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	runtimeBin = filepath.Join(dir, "bootstrap")
	if err := lambdasim.BuildGo(context.Background(), "", "../../lambdasim/testdata/runtime", runtimeBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

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

func TestRunFlagErrors(t *testing.T) {
	tests := []struct {
		name    string
		give    []string
		wantErr string
	}{
		{name: "no bootstrap", give: nil, wantErr: "--bootstrap is required"},
		{name: "bad env", give: []string{"--bootstrap", runtimeBin, "--env", "NOEQUALS"}, wantErr: "KEY=VALUE"},
		{name: "public address", give: []string{"--bootstrap", runtimeBin, "--addr", "0.0.0.0:0"}, wantErr: "not a loopback address"},
		{name: "extra argument", give: []string{"--bootstrap", runtimeBin, "extra"}, wantErr: "unexpected arguments"},
		{name: "unknown flag", give: []string{"--nope"}, wantErr: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.give, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("run(%q) = %v, want an error containing %q", tt.give, err, tt.wantErr)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--bootstrap", runtimeBin, "--addr", "127.0.0.1:0", "--env", "SIMTEST_CUSTOM=cli", "--events"}, stdout, stderr)
	}()
	urlRE := regexp.MustCompile(`invoke endpoint (http://\S+)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(stderr.String()); m != nil && strings.Contains(stderr.String(), "lambdasim: ready") {
			url = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready; stderr:\n%s", stderr.String())
		}
	}
	resp, err := http.Post(url, "application/json", strings.NewReader(`{"action":"env"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"SIMTEST_CUSTOM":"cli"`) {
		t.Errorf("invoke = %d %s", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.Contains(stdout.String(), "[runtime] runtime starting") {
		t.Errorf("runtime output missing from stdout:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "shutdown.done") {
		t.Errorf("lifecycle events missing from stderr:\n%s", stderr.String())
	}
}

func TestBinaryStopsOnSIGTERM(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lambdasim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	stderr := &syncBuffer{}
	cmd := exec.Command(bin, "--bootstrap", runtimeBin, "--addr", "127.0.0.1:0", "--events")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "lambdasim: ready"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not ready; stderr:\n%s", stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM = %v, want status 0\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(stderr.String(), "shutdown.start name= req= spindown") {
		t.Errorf("no spindown shutdown in:\n%s", stderr.String())
	}
}
