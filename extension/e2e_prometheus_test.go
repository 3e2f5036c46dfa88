package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// daemon starts a real Prometheus or Pushgateway binary on loopback and
// waits for its /-/ready; it skips when the binary is absent (.ci/run
// installs the Debian packages).
func daemon(t *testing.T, bin, addr string, args ...string) {
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
		t.Fatal(err)
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
			t.Fatalf("%s exited:\n%s", bin, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready:\n%s", bin, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMetricsReachPrometheusAndPushgateway runs the built extension and a
// wrapped function in the simulator with remote write to a real
// Prometheus and push to a real Pushgateway, sends benign and attack
// invokes, shuts down, and reads the blocked-event series back through
// Prometheus's HTTP API and the Pushgateway's /metrics.
func TestMetricsReachPrometheusAndPushgateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Pushgateway")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	promAddr, pgAddr := freeAddr(t), freeAddr(t)
	daemon(t, "prometheus", promAddr, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr, "--web.enable-remote-write-receiver")
	daemon(t, "prometheus-pushgateway", pgAddr, "--web.listen-address="+pgAddr)

	e := newSim(t, fnBin, lambdasim.Config{Env: map[string]string{
		"LAMBDA_RASP_SOCKET":           socketPath(t),
		"LAMBDA_RASP_REMOTE_WRITE_URL": "http://" + promAddr + "/api/v1/write",
		"LAMBDA_RASP_PUSHGATEWAY_URL":  "http://" + pgAddr,
		"LAMBDA_RASP_FLUSH_INTERVAL":   "1h", // SHUTDOWN exports
	}})
	const attacks, benign = 3, 4
	for range benign {
		e.invoke(t, apigw("shoes"))
	}
	for range attacks {
		if res := e.invoke(t, apigw(attackQuery)); !strings.Contains(string(res.Body), `"statusCode":403`) {
			t.Fatalf("attack not blocked: %s", res.Body)
		}
	}
	e.shutdown(t)

	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" +
		url.QueryEscape(`lambda_rasp_inspections_total{job="lambda-rasp",function="orders",decision="block"}`))
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		Status string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&q)
	resp.Body.Close()
	if err != nil || q.Status != "success" || len(q.Data.Result) != 1 || q.Data.Result[0].Value[1] != fmt.Sprint(attacks) {
		t.Errorf("Prometheus query for blocked inspections = %+v (%v), want one series of %d", q, err, attacks)
	}

	resp, err = http.Get("http://" + pgAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	found := false
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "lambda_rasp_inspections_total{") && strings.Contains(l, `decision="block"`) &&
			strings.Contains(l, `function="orders"`) && strings.Contains(l, `job="lambda-rasp"`) && strings.HasSuffix(l, fmt.Sprint(" ", attacks)) {
			found = true
		}
	}
	if !found {
		t.Errorf("Pushgateway /metrics has no blocked series of %d:\n%s", attacks, body)
	}
}
