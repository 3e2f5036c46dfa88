package promtest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FreeAddr returns a loopback address nobody listens on right now. Its
// port is below Linux's ephemeral range, so that listeners on port 0 (a
// telemetry listener, test servers) cannot take it before it is bound.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12000))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	t.Fatal("no free port")
	return ""
}

// Prometheus starts a Prometheus with its remote-write receiver on a free
// loopback address and returns that address.
func Prometheus(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	start(t, "prometheus", addr, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver")
	return addr
}

// Pushgateway starts a Pushgateway on a free loopback address and returns
// that address.
func Pushgateway(t testing.TB) string {
	t.Helper()
	addr := FreeAddr(t)
	start(t, "prometheus-pushgateway", addr, "--web.listen-address="+addr)
	return addr
}

// start runs bin with args, waits until http://addr/-/ready answers 200
// and stops the process at cleanup; it skips t when bin is not on PATH.
func start(t testing.TB, bin, addr string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s not installed (.ci/run installs it): %v", bin, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, path, args...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", bin, logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready:\n%s", bin, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after 20s:\n%s", bin, addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
