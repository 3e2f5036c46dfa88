package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// These tests run the real Prometheus (remote write receiver) and
// Pushgateway binaries from the Debian packages .ci/run installs. They
// skip when the binaries are not on PATH, and listen on loopback only.

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// startDaemon starts bin with args, waits until GET http://addr+ready
// answers 200 and stops the process at cleanup.
func startDaemon(t *testing.T, bin, addr, ready string, args ...string) {
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
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", bin, logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + ready)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited before it was ready:\n%s", bin, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready at %s after 20s:\n%s", bin, addr, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// integrationFamilies is a registry shaped like the extension's.
func integrationFamilies(t *testing.T) prometheus.Gatherer {
	t.Helper()
	reg := prometheus.NewRegistry()
	blocked := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_rasp_inspections_total", Help: "Inspected invocations.",
	}, []string{"source", "decision"})
	blocked.WithLabelValues("apigw-v2", "block").Add(3)
	blocked.WithLabelValues("apigw-v2", "allow").Add(17)
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "lambda_rasp_inspection_duration_seconds", Help: "Inspection time.",
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 8),
	}, []string{"source"})
	dur.WithLabelValues("apigw-v2").Observe(12e-6)
	reg.MustRegister(blocked, dur)
	return reg
}

func TestRemoteWriteToPrometheus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	startDaemon(t, "prometheus", addr, "/-/ready",
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver")

	mfs, err := integrationFamilies(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	rw := &RemoteWrite{URL: "http://" + addr + "/api/v1/write", Client: &http.Client{Timeout: 5 * time.Second},
		Function: "orders", Instance: "2026/11/23/[$LATEST]abc"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rw.Export(ctx, mfs); err != nil {
		t.Fatalf("Export() = %v", err)
	}
	q := func(expr string) []promSample {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(expr))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			Status string
			Data   struct{ Result []promSample }
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
			t.Fatalf("query %s: status %q, %v", expr, r.Status, err)
		}
		return r.Data.Result
	}
	got := q(`lambda_rasp_inspections_total{job="lambda-rasp",function="orders",decision="block"}`)
	if len(got) != 1 || got[0].value() != "3" || got[0].Metric["instance"] != "2026/11/23/[$LATEST]abc" {
		t.Errorf("blocked series in Prometheus = %+v, want one sample of 3 with the instance label", got)
	}
	if got := q(`lambda_rasp_inspection_duration_seconds_count{function="orders"}`); len(got) != 1 || got[0].value() != "1" {
		t.Errorf("histogram count in Prometheus = %+v, want 1", got)
	}
	if got := q(`lambda_rasp_inspection_duration_seconds_bucket{function="orders",le="+Inf"}`); len(got) != 1 {
		t.Errorf("histogram +Inf bucket in Prometheus = %+v, want one series", got)
	}
}

// promSample is one instant-vector element of the Prometheus HTTP API.
type promSample struct {
	Metric map[string]string
	Value  [2]any
}

func (s promSample) value() string { v, _ := s.Value[1].(string); return v }

func TestPushgatewayReal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Pushgateway")
	}
	addr := freeAddr(t)
	startDaemon(t, "prometheus-pushgateway", addr, "/-/ready", "--web.listen-address="+addr)

	mfs, err := integrationFamilies(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	pg := &Pushgateway{URL: "http://" + addr, Client: &http.Client{Timeout: 5 * time.Second},
		Function: "orders", Instance: "2026/11/23/[$LATEST]abc"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Twice: a PUT replaces the group, it does not add up.
	for range 2 {
		if err := pg.Export(ctx, mfs); err != nil {
			t.Fatalf("Export() = %v", err)
		}
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`lambda_rasp_inspections_total{decision="block",function="orders",instance=%q,job="lambda-rasp",source="apigw-v2"} 3`, "2026/11/23/[$LATEST]abc")
	if !strings.Contains(string(body), want) {
		t.Errorf("Pushgateway /metrics lacks\n%s\ngot lines:\n%s", want, grepLines(string(body), "lambda_rasp_"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
