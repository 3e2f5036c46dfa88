package otlp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
)

// ScopeName is the instrumentation scope of every metric and log record.
const ScopeName = "github.com/lambda-rasp/lambda-rasp/extension"

// MaxBufferedRecords bounds the security events waiting for a flush; past
// it new records are dropped (and counted in Dropped) until a flush
// delivers the buffer.
const MaxBufferedRecords = 1024

// metricExporter is the part of otlpmetrichttp.Exporter used here.
type metricExporter interface {
	Export(ctx context.Context, rm *metricdata.ResourceMetrics) error
	Shutdown(ctx context.Context) error
}

// Exporter sends the registry as OTLP delta metrics and the buffered
// security events as OTLP log records. It implements the extension's
// exporter interface (Name, Export) and its security event sink
// (SecurityEvent). Safe for concurrent use.
type Exporter struct {
	function string
	res      *resource.Resource
	scope    instrumentation.Scope
	metrics  metricExporter // nil: metrics off
	provider *sdklog.LoggerProvider
	logger   log.Logger // nil: logs off
	buf      *buffer
	// Now returns the export time; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	base   map[string]float64 // last exported cumulative value per series
	lastOK time.Time          // start of the current delta interval
}

// New builds an exporter for the signals cfg enables. function names the
// function (service.name unless OTEL_SERVICE_NAME says otherwise, and
// faas.name); region is the AWS region (cloud.region). OTEL_RESOURCE_ATTRIBUTES
// is honoured, but nothing identifies the execution environment unless it
// adds it: that is what keeps one series set per function.
func New(ctx context.Context, cfg Config, function, region string) (*Exporter, error) {
	attrs := []attribute.KeyValue{
		semconv.ServiceName(function),
		semconv.FaaSName(function),
		semconv.CloudProviderAWS,
		semconv.CloudPlatformAWSLambda,
	}
	if region != "" {
		attrs = append(attrs, semconv.CloudRegion(region))
	}
	res, err := resource.Merge(resource.NewWithAttributes(semconv.SchemaURL, attrs...), resource.Environment())
	if err != nil {
		// Only a schema URL conflict; keep ours.
		res = resource.NewWithAttributes(semconv.SchemaURL, attrs...)
	}
	e := &Exporter{
		function: function,
		res:      res,
		scope:    instrumentation.Scope{Name: ScopeName},
		base:     map[string]float64{},
		lastOK:   time.Now(),
	}
	if cfg.Metrics {
		m, err := otlpmetrichttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp: metrics: %w", err)
		}
		e.metrics = m
	}
	if cfg.Logs {
		l, err := otlploghttp.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp: logs: %w", err)
		}
		e.setLogExporter(l)
	}
	return e, nil
}

func (e *Exporter) setLogExporter(l sdklog.Exporter) {
	e.buf = &buffer{exp: l, max: MaxBufferedRecords}
	e.provider = sdklog.NewLoggerProvider(sdklog.WithResource(e.res), sdklog.WithProcessor(e.buf))
	e.logger = e.provider.Logger(ScopeName)
}

// Name returns "otlp".
func (e *Exporter) Name() string { return "otlp" }

// Export sends the deltas of mfs since the last successful export and the
// buffered log records, and returns once both are delivered or ctx is done.
// A failed metric export keeps its deltas for the next one; failed log
// records stay buffered (within MaxBufferedRecords).
func (e *Exporter) Export(ctx context.Context, mfs []*dto.MetricFamily) error {
	var errs [2]error
	var wg sync.WaitGroup
	if e.metrics != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[0] = e.exportMetrics(ctx, mfs)
		}()
	}
	if e.buf != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.buf.flush(ctx); err != nil {
				errs[1] = fmt.Errorf("otlp: logs: %w", err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs[0], errs[1])
}

// Dropped returns the number of log records dropped because the buffer
// was full.
func (e *Exporter) Dropped() uint64 {
	if e.buf == nil {
		return 0
	}
	return e.buf.droppedCount()
}

// Shutdown releases the exporters; it sends nothing.
func (e *Exporter) Shutdown(ctx context.Context) error {
	var errs []error
	if e.metrics != nil {
		errs = append(errs, e.metrics.Shutdown(ctx))
	}
	if e.provider != nil {
		errs = append(errs, e.provider.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

func (e *Exporter) exportMetrics(ctx context.Context, mfs []*dto.MetricFamily) error {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t := now()
	rm, next := e.deltas(mfs, e.lastOK, t)
	if len(rm.ScopeMetrics[0].Metrics) > 0 {
		if err := e.metrics.Export(ctx, rm); err != nil {
			return fmt.Errorf("otlp: metrics: %w", err)
		}
	}
	for k, v := range next {
		e.base[k] = v
	}
	e.lastOK = t
	return nil
}

// deltas converts mfs to OTLP metrics: counters become monotonic delta
// sums and histograms delta histograms over [start, t], gauges stay
// gauges; series without change are left out. next holds the cumulative
// values to remember once the export succeeded.
func (e *Exporter) deltas(mfs []*dto.MetricFamily, start, t time.Time) (*metricdata.ResourceMetrics, map[string]float64) {
	next := map[string]float64{}
	delta := func(key string, v float64) float64 {
		next[key] = v
		prev, ok := e.base[key]
		if !ok || v < prev {
			return v
		}
		return v - prev
	}
	var ms []metricdata.Metrics
	for _, mf := range mfs {
		name := mf.GetName()
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			var dps []metricdata.DataPoint[float64]
			for _, m := range mf.GetMetric() {
				key := name + "\xff" + labelKey(m)
				if d := delta(key, m.GetCounter().GetValue()); d != 0 {
					dps = append(dps, metricdata.DataPoint[float64]{Attributes: e.attrs(m), StartTime: start, Time: t, Value: d})
				}
			}
			if len(dps) > 0 {
				ms = append(ms, metricdata.Metrics{Name: name, Description: mf.GetHelp(),
					Data: metricdata.Sum[float64]{DataPoints: dps, Temporality: metricdata.DeltaTemporality, IsMonotonic: true}})
			}
		case dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
			var dps []metricdata.DataPoint[float64]
			for _, m := range mf.GetMetric() {
				v := m.GetGauge().GetValue()
				if mf.GetType() == dto.MetricType_UNTYPED {
					v = m.GetUntyped().GetValue()
				}
				dps = append(dps, metricdata.DataPoint[float64]{Attributes: e.attrs(m), Time: t, Value: v})
			}
			if len(dps) > 0 {
				ms = append(ms, metricdata.Metrics{Name: name, Description: mf.GetHelp(),
					Data: metricdata.Gauge[float64]{DataPoints: dps}})
			}
		case dto.MetricType_HISTOGRAM:
			var dps []metricdata.HistogramDataPoint[float64]
			for _, m := range mf.GetMetric() {
				if dp, ok := e.histogram(name+"\xff"+labelKey(m), m, delta); ok {
					dp.Attributes, dp.StartTime, dp.Time = e.attrs(m), start, t
					dps = append(dps, dp)
				}
			}
			if len(dps) > 0 {
				ms = append(ms, metricdata.Metrics{Name: name, Description: mf.GetHelp(),
					Data: metricdata.Histogram[float64]{DataPoints: dps, Temporality: metricdata.DeltaTemporality}})
			}
		}
	}
	return &metricdata.ResourceMetrics{Resource: e.res, ScopeMetrics: []metricdata.ScopeMetrics{{Scope: e.scope, Metrics: ms}}}, next
}

// histogram returns the delta histogram point of m (buckets, count and
// sum since the last export), or false when nothing was observed.
func (e *Exporter) histogram(key string, m *dto.Metric, delta func(string, float64) float64) (metricdata.HistogramDataPoint[float64], bool) {
	h := m.GetHistogram()
	count := delta(key+"\xffc", float64(h.GetSampleCount()))
	sum := delta(key+"\xffs", h.GetSampleSum())
	var bounds []float64
	var cum []float64
	for _, b := range h.GetBucket() {
		ub := b.GetUpperBound()
		c := delta(fmt.Sprintf("%s\xffb%g", key, ub), float64(b.GetCumulativeCount()))
		if math.IsInf(ub, 1) {
			continue
		}
		bounds = append(bounds, ub)
		cum = append(cum, c)
	}
	if count == 0 {
		return metricdata.HistogramDataPoint[float64]{}, false
	}
	counts := make([]uint64, len(bounds)+1)
	var prev float64
	for i, c := range cum {
		counts[i] = uint64(max(c-prev, 0))
		prev = c
	}
	counts[len(bounds)] = uint64(max(count-prev, 0))
	return metricdata.HistogramDataPoint[float64]{Bounds: bounds, BucketCounts: counts, Count: uint64(count), Sum: sum}, true
}

// attrs returns m's labels as attributes, with function added when the
// registry does not label the series with it (as remote write does).
func (e *Exporter) attrs(m *dto.Metric) attribute.Set {
	kvs := make([]attribute.KeyValue, 0, len(m.GetLabel())+1)
	hasFunction := false
	for _, lp := range m.GetLabel() {
		hasFunction = hasFunction || lp.GetName() == "function"
		kvs = append(kvs, attribute.String(lp.GetName(), lp.GetValue()))
	}
	if !hasFunction && e.function != "" {
		kvs = append(kvs, attribute.String("function", e.function))
	}
	return attribute.NewSet(kvs...)
}

func labelKey(m *dto.Metric) string {
	ls := make([]string, 0, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		ls = append(ls, lp.GetName()+"="+lp.GetValue())
	}
	sort.Strings(ls)
	return strings.Join(ls, "\x00")
}
