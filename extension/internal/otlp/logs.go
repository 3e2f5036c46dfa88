package otlp

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// EventName is the OTLP event name of a security event.
const EventName = "lambda_rasp.security_event"

// Attribute names without an OpenTelemetry semantic convention.
const (
	AttrAction        = "lambda_rasp.action"
	AttrEventSource   = "lambda_rasp.event_source"
	AttrInputSource   = "lambda_rasp.input.source"
	AttrInputPath     = "lambda_rasp.input.path"
	AttrExcerpt       = "lambda_rasp.excerpt"
	AttrSink          = "lambda_rasp.sink"
	AttrDestination   = "lambda_rasp.destination"
	AttrDestClass     = "lambda_rasp.destination.class"
	AttrReason        = "lambda_rasp.reason"
	AttrPolicyVersion = "lambda_rasp.policy.version"
)

// maxExcerpt and maxField bound the free-text attributes, as in the
// security log.
const (
	maxExcerpt = 200
	maxField   = 512
)

// SecurityEvent buffers e (a detection or a sink refusal of function) as
// one log record until the next Export. Attributes follow the
// OpenTelemetry semantic conventions where one exists: security_rule.name
// (the rule id), security_rule.category, security_rule.ruleset.name (the
// policy name), faas.name and faas.invocation_id; the rest are named
// lambda_rasp.*. Excerpts are the wrapper's redacted ones, bounded.
func (e *Exporter) SecurityEvent(function string, ev *wire.Event) {
	if e.logger == nil {
		return
	}
	var r log.Record
	r.SetEventName(EventName)
	t := ev.Time
	if t.IsZero() {
		t = time.Now()
	}
	r.SetTimestamp(t)
	r.SetObservedTimestamp(time.Now())
	r.SetSeverity(log.SeverityWarn)
	r.SetSeverityText("WARN")
	r.SetBody(attribute.StringValue("security event"))
	attrs := make([]attribute.KeyValue, 0, 16)
	add := func(k, v string, n int) {
		if v != "" {
			attrs = append(attrs, attribute.String(k, wire.Truncate(v, n)))
		}
	}
	add(string(semconv.FaaSNameKey), function, maxField)
	add(string(semconv.FaaSInvocationIDKey), ev.RequestID, 128)
	add(string(semconv.SecurityRuleNameKey), ev.RuleID, 128)
	add(string(semconv.SecurityRuleCategoryKey), ev.Category, 64)
	if ev.PolicyVersion != "" {
		name, _, _ := strings.Cut(ev.PolicyVersion, "@")
		add(string(semconv.SecurityRuleRulesetNameKey), name, 128)
	}
	add(AttrPolicyVersion, ev.PolicyVersion, 128)
	add(AttrAction, ev.Action, 32)
	add(AttrEventSource, ev.EventSource, 64)
	add(AttrInputSource, ev.Source, 32)
	add(AttrInputPath, ev.Path, maxField-3)
	add(AttrExcerpt, ev.Excerpt, maxExcerpt-3)
	add(AttrSink, ev.Sink, 32)
	add(AttrDestination, ev.Dest, maxField-3)
	add(AttrDestClass, ev.Class, 32)
	add(AttrReason, ev.Reason, maxField-3)
	r.AddAttributes(attrs...)
	e.logger.Emit(context.Background(), r)
}

// buffer is a log processor that keeps records until flush, so that they
// are sent on the extension's flush path only.
type buffer struct {
	exp sdklog.Exporter
	max int

	mu      sync.Mutex
	records []sdklog.Record
	dropped uint64
	// sending serialises flushes, so a record is never sent twice.
	sending sync.Mutex
}

// Enabled reports true: every security event is kept.
func (b *buffer) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit keeps a copy of r, or drops it when the buffer is full.
func (b *buffer) OnEmit(_ context.Context, r *sdklog.Record) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.records) >= b.max {
		b.dropped++
		return nil
	}
	b.records = append(b.records, r.Clone())
	return nil
}

// flush exports the buffered records; on failure they are put back in
// front of those emitted meanwhile, within the bound.
func (b *buffer) flush(ctx context.Context) error {
	b.sending.Lock()
	defer b.sending.Unlock()
	b.mu.Lock()
	rs := b.records
	b.records = nil
	b.mu.Unlock()
	if len(rs) == 0 {
		return nil
	}
	err := b.exp.Export(ctx, rs)
	if err == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := append(rs, b.records...)
	if len(keep) > b.max {
		b.dropped += uint64(len(keep) - b.max)
		keep = keep[:b.max]
	}
	b.records = keep
	return err
}

func (b *buffer) droppedCount() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.dropped
}

// ForceFlush does nothing: records are sent by Exporter.Export only.
func (b *buffer) ForceFlush(context.Context) error { return nil }

// Shutdown shuts the exporter down; buffered records are not sent.
func (b *buffer) Shutdown(ctx context.Context) error { return b.exp.Shutdown(ctx) }
