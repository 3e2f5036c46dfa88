package ingest_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/ingest"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/logging"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// Datagrams as the wrapper writes them.
var (
	benchInspection = []byte(`{"v":1,"kind":"inspection","time":"2026-11-23T06:00:00.123456789Z","fn":"orders","req":"8f5c2d4e-1b2a-4c3d-9e8f-0a1b2c3d4e5f","src":"apigw-v2","action":"allow","policy":"default@3f2a9c1e","dur_ns":12345}`)
	benchDetection  = []byte(`{"v":1,"kind":"detection","time":"2026-11-23T06:00:00.123456789Z","fn":"orders","req":"8f5c2d4e-1b2a-4c3d-9e8f-0a1b2c3d4e5f","src":"apigw-v2","action":"block","rule":"sqli","cat":"sqli","source":"query","path":"query.search","excerpt":"x' UNION SELECT name, sql FROM sqlite_master--","policy":"default@3f2a9c1e"}`)
)

func benchMetrics() *metrics.Metrics {
	return metrics.New("orders", append([]string{"sqli", "xss"}, policy.SinkRuleIDs()...), nil)
}

// BenchmarkProcess is the per-event cost of the ingest: decode and
// metrics update (the security log is discarded here).
func BenchmarkProcess(b *testing.B) {
	for _, bc := range []struct {
		name string
		d    []byte
	}{{"inspection", benchInspection}, {"detection", benchDetection}} {
		b.Run(bc.name, func(b *testing.B) {
			l := ingest.NewProcessor(benchMetrics())
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.d)))
			for b.Loop() {
				l.Process(bc.d)
			}
		})
	}
}

// BenchmarkProcessLogged adds the security log line a detection writes
// (JSON encoding; the output is discarded).
func BenchmarkProcessLogged(b *testing.B) {
	m := metrics.New("orders", append([]string{"sqli", "xss"}, policy.SinkRuleIDs()...), logging.Security(io.Discard))
	l := ingest.NewProcessor(m)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchDetection)))
	for b.Loop() {
		l.Process(benchDetection)
	}
}

// BenchmarkSocket adds the datagram round trip through the kernel: send
// on a connected socket, read by Drain.
func BenchmarkSocket(b *testing.B) {
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "events.sock")
	l, err := ingest.Listen(path, benchMetrics())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(benchInspection); err != nil {
			b.Fatal(err)
		}
		if n, err := l.Drain(); err != nil || n != 1 {
			b.Fatalf("Drain() = %d, %v", n, err)
		}
	}
}

var _ ingest.Consumer = (*metrics.Metrics)(nil)
