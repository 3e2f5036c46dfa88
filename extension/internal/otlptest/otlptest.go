// Package otlptest is a loopback OTLP/HTTP receiver for tests: it decodes
// and keeps every metrics and logs export request it gets.
package otlptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"
)

// Collector records OTLP/HTTP protobuf requests to /v1/metrics and /v1/logs.
type Collector struct {
	// URL is the base URL, for OTEL_EXPORTER_OTLP_ENDPOINT.
	URL string

	mu      sync.Mutex
	metrics []*colmetrics.ExportMetricsServiceRequest
	logs    []*collogs.ExportLogsServiceRequest
	headers []http.Header
	status  int
}

// Start starts a Collector on loopback; it stops when the test ends.
func Start(t testing.TB) *Collector {
	t.Helper()
	c := &Collector{}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// SetStatus makes the collector answer every request with status (0: 200
// and record it).
func (c *Collector) SetStatus(status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = status
}

func (c *Collector) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status != 0 {
		w.WriteHeader(c.status)
		return
	}
	switch r.URL.Path {
	case "/v1/metrics":
		var req colmetrics.ExportMetricsServiceRequest
		if proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		c.metrics = append(c.metrics, &req)
	case "/v1/logs":
		var req collogs.ExportLogsServiceRequest
		if proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		c.logs = append(c.logs, &req)
	default:
		http.NotFound(w, r)
		return
	}
	c.headers = append(c.headers, r.Header.Clone())
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// Metrics returns the metrics requests received so far.
func (c *Collector) Metrics() []*colmetrics.ExportMetricsServiceRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*colmetrics.ExportMetricsServiceRequest(nil), c.metrics...)
}

// Logs returns the logs requests received so far.
func (c *Collector) Logs() []*collogs.ExportLogsServiceRequest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*collogs.ExportLogsServiceRequest(nil), c.logs...)
}

// Headers returns the headers of every recorded request.
func (c *Collector) Headers() []http.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]http.Header(nil), c.headers...)
}

// Records returns every log record received, in order.
func (c *Collector) Records() []*logspb.LogRecord {
	var out []*logspb.LogRecord
	for _, req := range c.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				out = append(out, sl.GetLogRecords()...)
			}
		}
	}
	return out
}

// Attrs returns string attributes as a map.
func Attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[kv.GetKey()] = kv.GetValue().GetStringValue()
	}
	return m
}

// SumTotals adds up the data points of the monotonic sum name across every
// request, by the value of label (deltas add up to the total).
func (c *Collector) SumTotals(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, req := range c.Metrics() {
		for _, rm := range req.GetResourceMetrics() {
			for _, sm := range rm.GetScopeMetrics() {
				for _, m := range sm.GetMetrics() {
					if m.GetName() != name || m.GetSum() == nil {
						continue
					}
					for _, dp := range m.GetSum().GetDataPoints() {
						out[Attrs(dp.GetAttributes())[label]] += dp.GetAsDouble()
					}
				}
			}
		}
	}
	return out
}
