package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkStartToRegistered measures the extension binary from process
// start to its register request on a fake Extensions API: the Go runtime
// and package initialisation, the policy load (the embedded default) and
// everything else checked before registering. Each iteration starts one
// process and kills it once registered. The otlp variant also sets
// OTEL_EXPORTER_OTLP_ENDPOINT (the OTLP exporters are built before
// registering). LAMBDA_RASP_BENCH_BIN names another extension binary to
// measure, e.g. one built from an earlier commit.
func BenchmarkStartToRegistered(b *testing.B) {
	bin := filepath.Join(extDir, "lambda-rasp")
	if v := os.Getenv("LAMBDA_RASP_BENCH_BIN"); v != "" {
		bin = v
	}
	b.Run("plain", func(b *testing.B) { benchStartToRegistered(b, bin) })
	b.Run("otlp", func(b *testing.B) {
		benchStartToRegistered(b, bin, "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9")
	})
}

func benchStartToRegistered(b *testing.B, bin string, env ...string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	registered := make(chan time.Time, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/2020-01-01/extension/register" {
			select {
			case registered <- time.Now():
			default:
			}
		}
		// Refuse everything: the process is killed right after.
		w.WriteHeader(http.StatusForbidden)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	dir := b.TempDir()
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(),
			"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
			"AWS_LAMBDA_FUNCTION_NAME=bench",
			"LAMBDA_RASP_SOCKET="+filepath.Join(dir, "events.sock"),
			"LAMBDA_RASP_POLICY=",
			"LAMBDA_RASP_POLICY_URL=",
			"LAMBDA_RASP_TELEMETRY=off",
			"LAMBDA_RASP_LOG_LEVEL=error",
		)
		cmd.Env = append(cmd.Env, env...)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-registered:
			total += at.Sub(start)
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatal("no register request within 10s")
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/registered")
}
