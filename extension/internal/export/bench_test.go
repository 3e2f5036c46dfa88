package export

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// benchFamilies is a realistic registry of about 50 series.
func benchFamilies(b *testing.B) []*dto.MetricFamily {
	reg := prometheus.NewRegistry()
	det := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lambda_rasp_detections_total", Help: "x"}, []string{"rule", "category", "action", "source"})
	insp := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lambda_rasp_inspections_total", Help: "x"}, []string{"decision"})
	sink := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lambda_rasp_sink_checks_total", Help: "x"}, []string{"sink", "decision"})
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lambda_rasp_inspection_duration_seconds", Help: "x", Buckets: prometheus.ExponentialBuckets(0.000005, 2, 10)})
	reg.MustRegister(det, insp, sink, dur)
	for i, r := range []string{"sqli", "xss", "cmdi", "traversal", "ssrf", "jndi", "nosql", "ssti"} {
		for j, s := range []string{"body", "query", "headers"} {
			det.WithLabelValues(r, r, "block", s).Add(float64(i + j))
		}
	}
	for _, d := range []string{"allow", "monitor", "block"} {
		insp.WithLabelValues(d).Add(100)
	}
	for _, s := range []string{"sql", "exec", "file", "egress"} {
		sink.WithLabelValues(s, "allow").Inc()
	}
	dur.Observe(0.00002)
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	return mfs
}

func BenchmarkRemoteWriteEncode(b *testing.B) {
	mfs := benchFamilies(b)
	extra := []Label{{"function", "orders"}, {"instance", "i-1"}, {"job", Job}}
	b.ReportMetric(float64(len(Series(mfs, extra, 0))), "series")
	b.ReportAllocs()
	var buf, out []byte
	for b.Loop() {
		buf = EncodeWriteRequest(buf[:0], Series(mfs, extra, 1))
		out = snappy.Encode(out[:cap(out)], buf)
	}
}

func BenchmarkEMF(b *testing.B) {
	mfs := benchFamilies(b)
	e := NewEMF(io.Discard, "orders")
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Export(context.Background(), mfs); err != nil {
			b.Fatal(fmt.Errorf("emf: %w", err))
		}
	}
}
