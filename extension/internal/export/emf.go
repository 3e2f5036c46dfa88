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

// EMFDimensions are the CloudWatch dimension sets of each metric family
// besides [function], which every family has. They make alarms possible on
// blocks (function × decision; function × action), on attack categories
// (function × category × action) and on sink refusals (function × sink ×
// decision). Every label named here has a bounded set of values (see the
// metrics package), so the number of CloudWatch metrics a function creates
// is bounded too; the README gives the formula. EMF allows 30 dimensions
// per set and 100 metrics per directive; no line here comes near either.
var EMFDimensions = map[string][][]string{
	"lambda_rasp_inspections_total":            {{"function", "decision"}},
	"lambda_rasp_detections_total":             {{"function", "action"}, {"function", "category", "action"}},
	"lambda_rasp_sink_checks_total":            {{"function", "sink", "decision"}},
	"lambda_rasp_incomplete_inspections_total": {{"function", "reason"}},
}

// EMF writes CloudWatch Embedded Metric Format JSON lines, one per metric
// family and combination of the family's dimension labels (EMFDimensions)
// per flush. Each line carries the dimension set [function] and the
// family's extra sets; its value is summed over the other labels, so the
// number of CloudWatch metrics stays bounded whatever the labels (CloudWatch
// sums the lines of one [function] metric). Counters are written as the
// delta since the previous flush, because CloudWatch sums EMF values;
// histograms become <name>_count (delta) and <name>_sum (delta), under
// [function] only. A counter line whose deltas are all zero is not written.
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

// emfGroup is one line: the values of the family's dimension labels and
// the metric values summed over everything else.
type emfGroup struct {
	dims   []string // label values, in the order of the family's label names
	values map[string]float64
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
		sets := EMFDimensions[mf.GetName()]
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			sets = nil
		}
		labels := dimLabels(sets)
		dimensions := append([][]string{{"function"}}, sets...)
		for _, g := range e.groups(mf, labels) {
			names := make([]string, 0, len(g.values))
			for n := range g.values {
				names = append(names, n)
			}
			sort.Strings(names)
			metrics := make([]emfMetric, 0, len(names))
			line := map[string]any{"function": e.function}
			for i, l := range labels {
				line[l] = g.dims[i]
			}
			for _, n := range names {
				metrics = append(metrics, emfMetric{Name: n, Unit: unitOf(n)})
				line[n] = g.values[n]
			}
			line["_aws"] = map[string]any{
				"Timestamp": ts,
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  Namespace,
					"Dimensions": dimensions,
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
	}
	if len(buf) == 0 {
		return nil
	}
	if _, err := e.w.Write(buf); err != nil {
		return fmt.Errorf("export: emf: %w", err)
	}
	return nil
}

// dimLabels returns the labels of sets other than function, sorted and
// without duplicates.
func dimLabels(sets [][]string) []string {
	var out []string
	for _, s := range sets {
		for _, l := range s {
			if l != "function" && !contains(out, l) {
				out = append(out, l)
			}
		}
	}
	sort.Strings(out)
	return out
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

// groups returns the metric values of one family grouped by the values of
// labels, in a stable order.
func (e *EMF) groups(mf *dto.MetricFamily, labels []string) []*emfGroup {
	name := mf.GetName()
	byKey := map[string]*emfGroup{}
	var keys []string
	for _, m := range mf.GetMetric() {
		dims := make([]string, len(labels))
		for i, l := range labels {
			dims[i] = labelValue(m, l)
		}
		gk := strings.Join(dims, "\x00")
		g := byKey[gk]
		if g == nil {
			g = &emfGroup{dims: dims, values: make(map[string]float64, 2)}
			byKey[gk] = g
			keys = append(keys, gk)
		}
		key := name + "\xff" + labelKey(m)
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			g.values[name] += e.delta(key, m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			g.values[name] += m.GetGauge().GetValue()
		case dto.MetricType_UNTYPED:
			g.values[name] += m.GetUntyped().GetValue()
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			g.values[name+"_count"] += e.delta(key+"\xffc", float64(h.GetSampleCount()))
			g.values[name+"_sum"] += e.delta(key+"\xffs", h.GetSampleSum())
		default:
			continue
		}
	}
	sort.Strings(keys)
	out := make([]*emfGroup, 0, len(keys))
	for _, k := range keys {
		g := byKey[k]
		if len(g.values) == 0 || (mf.GetType() != dto.MetricType_GAUGE && allZero(g.values)) {
			// Nothing happened since the last flush: CloudWatch reads a
			// missing datapoint of a Sum as zero, and log volume is billed.
			continue
		}
		out = append(out, g)
	}
	return out
}

func allZero(values map[string]float64) bool {
	for _, v := range values {
		if v != 0 {
			return false
		}
	}
	return true
}

func labelValue(m *dto.Metric, name string) string {
	for _, lp := range m.GetLabel() {
		if lp.GetName() == name {
			return lp.GetValue()
		}
	}
	return ""
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
