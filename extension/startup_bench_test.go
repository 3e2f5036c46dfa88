package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartToRegistered is the extension's cold start as the platform
// sees it: from starting the process to its register request, against a
// fake Extensions API on loopback that answers SHUTDOWN at once. The otlp
// variant also sets OTEL_EXPORTER_OTLP_ENDPOINT (the exporters are built
// before registering). LAMBDA_RASP_BENCH_BIN names another extension
// binary to measure, e.g. one built from an earlier commit.
func BenchmarkStartToRegistered(b *testing.B) {
	for _, otlp := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "otlp"}[otlp], func(b *testing.B) {
			registered := make(chan time.Time, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/register") {
					registered <- time.Now()
					w.Header().Set("Lambda-Extension-Identifier", "id")
					_, _ = w.Write([]byte(`{"functionName":"orders","functionVersion":"1","handler":"h"}`))
					return
				}
				fmt.Fprintf(w, `{"eventType":"SHUTDOWN","shutdownReason":"spindown","deadlineMs":%d}`, time.Now().Add(2*time.Second).UnixMilli())
			}))
			defer srv.Close()
			bin := filepath.Join(extDir, "lambda-rasp")
			if v := os.Getenv("LAMBDA_RASP_BENCH_BIN"); v != "" {
				bin = v
			}
			var total time.Duration
			for b.Loop() {
				cmd := exec.Command(bin)
				cmd.Env = []string{
					"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(srv.URL, "http://"),
					"AWS_LAMBDA_FUNCTION_NAME=orders", "AWS_REGION=eu-west-1",
					"LAMBDA_RASP_SOCKET=" + filepath.Join(b.TempDir(), "events.sock"),
					"LAMBDA_RASP_TELEMETRY=off",
				}
				if otlp {
					cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9")
				}
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				total += (<-registered).Sub(start)
				if err := cmd.Wait(); err != nil {
					b.Fatalf("extension: %v", err)
				}
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms-to-registered")
		})
	}
}
