package export

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Namespace is the CloudWatch namespace of EMF lines.
const Namespace = "LambdaRASP"

// EMF writes one CloudWatch Embedded Metric Format JSON line per metric
// family and flush. Each line has the single dimension set [function] and
// the family's value summed over its label sets, so the number of
// CloudWatch metrics stays bounded whatever the labels. Counters are written
// as the delta since the previous flush, because CloudWatch sums EMF values;
// histograms become <name>_count (delta) and <name>_sum (delta).
// Summaries are skipped.
type EMF struct {
	w        io.Writer
	function string
	// Now returns the line timestamp; nil means time.Now.
	Now func() time.Time

	mu   sync.Mutex
	last map[string]float64
}

// NewEMF returns an EMF exporter writing to w.
func NewEMF(w io.Writer, function string) *EMF {
	return &EMF{w: w, function: function, last: make(map[string]float64)}
}

// Name returns "emf".
func (e *EMF) Name() string { return "emf" }

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Export writes the lines for mfs. It does not block on ctx beyond the
// writer's own behaviour; it checks ctx before writing.
func (e *EMF) Export(ctx context.Context, mfs []*dto.MetricFamily) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("export: emf: %w", err)
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	ts := now().UnixMilli()
	e.mu.Lock()
	defer e.mu.Unlock()
	var buf []byte
	for _, mf := range mfs {
		values := e.values(mf)
		if len(values) == 0 {
			continue
		}
		names := make([]string, 0, len(values))
		for n := range values {
			names = append(names, n)
		}
		sort.Strings(names)
		metrics := make([]emfMetric, 0, len(names))
		line := map[string]any{"function": e.function}
		for _, n := range names {
			metrics = append(metrics, emfMetric{Name: n, Unit: unitOf(n)})
			line[n] = values[n]
		}
		line["_aws"] = map[string]any{
			"Timestamp": ts,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"function"}},
				"Metrics":    metrics,
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("export: emf: %w", err)
		}
		buf = append(buf, b...)
		buf = append(buf, '\n')
	}
	if len(buf) == 0 {
		return nil
	}
	if _, err := e.w.Write(buf); err != nil {
		return fmt.Errorf("export: emf: %w", err)
	}
	return nil
}

// values returns the metric values of one family, by EMF metric name.
func (e *EMF) values(mf *dto.MetricFamily) map[string]float64 {
	name := mf.GetName()
	out := make(map[string]float64, 2)
	for _, m := range mf.GetMetric() {
		key := name + "\xff" + labelKey(m)
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			out[name] += e.delta(key, m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			out[name] += m.GetGauge().GetValue()
		case dto.MetricType_UNTYPED:
			out[name] += m.GetUntyped().GetValue()
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			out[name+"_count"] += e.delta(key+"\xffc", float64(h.GetSampleCount()))
			out[name+"_sum"] += e.delta(key+"\xffs", h.GetSampleSum())
		}
	}
	return out
}

// delta returns v minus the previous value under key, or v after a reset.
func (e *EMF) delta(key string, v float64) float64 {
	prev, ok := e.last[key]
	e.last[key] = v
	if !ok || v < prev {
		return v
	}
	return v - prev
}

func labelKey(m *dto.Metric) string {
	var sb strings.Builder
	for _, lp := range m.GetLabel() {
		sb.WriteString(lp.GetName())
		sb.WriteByte('=')
		sb.WriteString(lp.GetValue())
		sb.WriteByte(0)
	}
	return sb.String()
}

func unitOf(name string) string {
	if strings.HasSuffix(name, "_seconds_sum") || strings.HasSuffix(name, "_seconds") {
		return "Seconds"
	}
	return "Count"
}
