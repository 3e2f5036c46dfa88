package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/promtest"
)

// These tests run the real Prometheus (remote write receiver) and
// Pushgateway binaries from the Debian packages .ci/run installs. They
// skip when the binaries are not on PATH, and listen on loopback only.

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
	addr := promtest.Prometheus(t)

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
	addr := promtest.Pushgateway(t)

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
