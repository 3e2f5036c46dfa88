package metrics

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// Other is the label value for anything outside a label's bounded set.
const Other = "other"

// None is the source label of a sink detection without a correlated input.
const None = "none"

// MaxExcerpt is the longest excerpt, in bytes, written to the security log.
const MaxExcerpt = wire.MaxLogExcerpt

// The invocation statuses of lambda_rasp_invocations_total.
const (
	StatusSuccess = "success"
	StatusError   = "error"
	StatusTimeout = "timeout"
	StatusFailure = "failure"
)

// Bounded label value sets of the extension's own; those of the wrapper's
// events are wire's (wire.Label).
var (
	statuses = set(StatusSuccess, StatusError, StatusTimeout, StatusFailure)
	// rejectReasons are the ingest's reasons for dropping a datagram.
	rejectReasons = set("malformed", "oversized", "version")
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

// bound returns v if allowed has it, else Other.
func bound(allowed map[string]bool, v string) string {
	if allowed[v] {
		return v
	}
	return Other
}

// label returns v if it is one of l's values, else Other.
func label(l wire.Label, v string) string {
	if l.Has(v) {
		return v
	}
	return Other
}

// DurationBuckets are the buckets of inspection_duration_seconds, 1 µs to 10 ms.
var DurationBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2}

// EventSink receives every security event the security log gets (each
// detection and each sink refusal), with the function's name: the OTLP log
// exporter and the OCSF security log. It must not block.
type EventSink interface {
	SecurityEvent(function string, e *wire.Event)
}

// Metrics owns the registry and the security log. Its methods are safe for
// concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	function string
	rules    atomic.Pointer[map[string]bool] // replaced whole by AddRules
	infoMu   sync.Mutex
	info     []string // policy_info's label values
	seclog   *zap.Logger
	sinks    []EventSink

	inspections  *prometheus.CounterVec
	detections   *prometheus.CounterVec
	egress       *prometheus.CounterVec
	sinkChecks   *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	dropped      prometheus.Counter
	invocations  *prometheus.CounterVec
	policyInfo   *prometheus.GaugeVec
	exportErrors *prometheus.CounterVec
	ingestErrors *prometheus.CounterVec
	incomplete   *prometheus.CounterVec
}

// New returns the metrics of function. ruleIDs are the rule ids allowed as
// label values (the policy's input rule ids and the fixed sink rule ids);
// securityLog receives security events (nil discards them).
func New(function string, ruleIDs []string, securityLog *zap.Logger) *Metrics {
	if securityLog == nil {
		securityLog = zap.NewNop()
	}
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		function: function,
		seclog:   securityLog,
		inspections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_inspections_total",
			Help: "Invocations inspected by the input guard, by event source and decision.",
		}, []string{"function", "source", "decision"}),
		detections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_detections_total",
			Help: "Rule matches of the input guard and sink guards.",
		}, []string{"function", "rule", "category", "action", "source"}),
		egress: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_egress_total",
			Help: "Outbound connection decisions by destination class.",
		}, []string{"function", "decision", "destination"}),
		sinkChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_sink_checks_total",
			Help: "Sink guard checks that reported (SQL, exec, file, egress), by decision.",
		}, []string{"function", "sink", "decision"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lambda_rasp_inspection_duration_seconds",
			Help:    "Time the input guard spent inspecting one event.",
			Buckets: DurationBuckets,
		}, []string{"function", "source"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "lambda_rasp_events_dropped_total",
			Help:        "Events the wrapper could not hand to the extension.",
			ConstLabels: prometheus.Labels{"function": function},
		}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_invocations_total",
			Help: "Invocations by status, from the Telemetry API.",
		}, []string{"function", "status"}),
		policyInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "lambda_rasp_policy_info",
			Help: "The loaded policy; always 1.",
		}, []string{"function", "policy", "version", "mode"}),
		exportErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_export_errors_total",
			Help: "Failed or timed-out exports by exporter.",
		}, []string{"exporter"}),
		ingestErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lambda_rasp_ingest_errors_total",
			Help: "Datagrams dropped by the extension, by reason.",
		}, []string{"reason"}),
	}
	m.incomplete = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lambda_rasp_incomplete_inspections_total",
		Help: "Inspections that did not cover every input (limits, malformed events, budget, panics); on_error decided them.",
	}, []string{"function", "reason"})
	m.reg.MustRegister(m.inspections, m.detections, m.egress, m.sinkChecks, m.duration,
		m.dropped, m.invocations, m.policyInfo, m.exportErrors, m.ingestErrors, m.incomplete)
	for r := range rejectReasons {
		m.ingestErrors.WithLabelValues(r)
	}
	r := set(ruleIDs...)
	m.rules.Store(&r)
	return m
}

// AddRules allows the rule ids of a policy loaded live as label values,
// besides those already allowed (events decided by the previous policy
// may still arrive).
func (m *Metrics) AddRules(ids []string) {
	old := *m.rules.Load()
	r := make(map[string]bool, len(old)+len(ids))
	for id := range old {
		r[id] = true
	}
	for _, id := range ids {
		r[id] = true
	}
	m.rules.Store(&r)
}

// AddSink adds s to the receivers of security events. It must be called
// before events are handled.
func (m *Metrics) AddSink(s EventSink) { m.sinks = append(m.sinks, s) }

// Registry returns the registry to gather from.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Function returns the function label value.
func (m *Metrics) Function() string { return m.function }

// SetPolicy sets lambda_rasp_policy_info for the active policy, replacing
// the previous one's series (a scrape sees one or the other, never none).
func (m *Metrics) SetPolicy(name, version, mode string) {
	m.infoMu.Lock()
	defer m.infoMu.Unlock()
	info := []string{m.function, name, version, mode}
	m.policyInfo.WithLabelValues(info...).Set(1)
	if m.info != nil && !slices.Equal(m.info, info) {
		m.policyInfo.DeleteLabelValues(m.info...)
	}
	m.info = info
}

// Reject counts a datagram the ingest dropped; reason is "malformed",
// "oversized" or "version" (else "other").
func (m *Metrics) Reject(reason string) {
	m.ingestErrors.WithLabelValues(bound(rejectReasons, reason)).Inc()
}

// ExportError counts a failed export of exporter.
func (m *Metrics) ExportError(exporter string) {
	m.exportErrors.WithLabelValues(exporter).Inc()
}

// InitExporter makes exporter's error counter visible at zero.
func (m *Metrics) InitExporter(exporter string) {
	m.exportErrors.WithLabelValues(exporter)
}

// Invocation counts one finished invocation with status "success",
// "error", "timeout" or "failure" (anything else is "other").
func (m *Metrics) Invocation(status string) {
	m.invocations.WithLabelValues(m.function, bound(statuses, strings.ToLower(status))).Inc()
}

// Handle counts e and writes its security log line, if any.
func (m *Metrics) Handle(e *wire.Event) {
	if e.Dropped > 0 {
		m.dropped.Add(float64(e.Dropped))
	}
	action := label(wire.LabelAction, e.Action)
	switch e.Kind {
	case wire.KindInspection:
		src := label(wire.LabelEventSource, e.EventSource)
		m.inspections.WithLabelValues(m.function, src, action).Inc()
		if e.DurationNS > 0 {
			m.duration.WithLabelValues(m.function, src).Observe(time.Duration(e.DurationNS).Seconds())
		}
		if e.Truncated || e.Reason != "" {
			reason := wire.ReasonLimits
			if e.Reason != "" {
				reason = label(wire.LabelReason, e.Reason)
			}
			m.incomplete.WithLabelValues(m.function, reason).Inc()
		}
	case wire.KindDetection:
		m.detections.WithLabelValues(m.function, m.rule(e.RuleID), label(wire.LabelCategory, e.Category), action, label(wire.LabelFieldSource, e.Source)).Inc()
		m.log(e)
	case wire.KindEgress, wire.KindSink:
		sink := label(wire.LabelSink, e.Sink)
		if e.Kind == wire.KindEgress {
			sink = "egress"
			m.egress.WithLabelValues(m.function, action, label(wire.LabelClass, e.Class)).Inc()
		}
		m.sinkChecks.WithLabelValues(m.function, sink, action).Inc()
		if action != "allow" {
			src := None
			if e.Source != "" {
				src = label(wire.LabelFieldSource, e.Source)
			}
			m.detections.WithLabelValues(m.function, m.rule(e.RuleID), label(wire.LabelCategory, e.Category), action, src).Inc()
			m.log(e)
		}
	}
}

// rule bounds a rule id to the policy's and the sink guards' ids.
func (m *Metrics) rule(id string) string {
	if (*m.rules.Load())[id] {
		return id
	}
	return Other
}

// log writes the security log line of e (wire.Event.LogFields), with
// the extension's function name, and hands e to the sinks.
func (m *Metrics) log(e *wire.Event) {
	for _, s := range m.sinks {
		s.SecurityEvent(m.function, e)
	}
	if ce := m.seclog.Check(zap.WarnLevel, wire.LogMessage); ce != nil {
		ev := *e
		ev.Function = m.function
		var buf [16]wire.LogField
		lf := ev.LogFields(buf[:0])
		fields := make([]zap.Field, len(lf))
		for i, f := range lf {
			fields[i] = zap.String(f.Key, f.Value)
		}
		ce.Write(fields...)
	}
}
