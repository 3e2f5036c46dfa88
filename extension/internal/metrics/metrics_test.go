package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/logging"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

var testRules = []string{"sqli", "xss", "no-admin-probe", "sqli-sink", "egress-deny", "file-deny"}

func TestHandleCounts(t *testing.T) {
	tests := []struct {
		name   string
		events []wire.Event
		metric string // family to compare
		want   string // its expected exposition
	}{
		{
			name: "inspections bounded by event source and decision",
			events: []wire.Event{
				{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "allow", DurationNS: 1500},
				{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "block", DurationNS: 20000},
				{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "allow"},
				{Kind: wire.KindInspection, EventSource: "my-own-source", Action: "shrug", Function: "someone-else"},
			},
			metric: "lambda_rasp_inspections_total",
			want: `
# HELP lambda_rasp_inspections_total Invocations inspected by the input guard, by event source and decision.
# TYPE lambda_rasp_inspections_total counter
lambda_rasp_inspections_total{decision="allow",function="orders",source="apigw-v2"} 2
lambda_rasp_inspections_total{decision="block",function="orders",source="apigw-v2"} 1
lambda_rasp_inspections_total{decision="other",function="orders",source="other"} 1
`,
		},
		{
			name: "incomplete inspections by bounded reason",
			events: []wire.Event{
				{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "allow", Truncated: true},
				{Kind: wire.KindInspection, EventSource: "apigw-v2", Action: "allow", Truncated: true, Reason: "malformed event"},
				{Kind: wire.KindInspection, EventSource: "sqs", Action: "block", Truncated: true, Reason: "budget exceeded"},
				{Kind: wire.KindInspection, EventSource: "sqs", Action: "allow", Truncated: true, Reason: "a reason nobody sends"},
				{Kind: wire.KindInspection, EventSource: "sqs", Action: "allow"},
			},
			metric: "lambda_rasp_incomplete_inspections_total",
			want: `
# HELP lambda_rasp_incomplete_inspections_total Inspections that did not cover every input (limits, malformed events, budget, panics); on_error decided them.
# TYPE lambda_rasp_incomplete_inspections_total counter
lambda_rasp_incomplete_inspections_total{function="orders",reason="budget exceeded"} 1
lambda_rasp_incomplete_inspections_total{function="orders",reason="limits"} 1
lambda_rasp_incomplete_inspections_total{function="orders",reason="malformed event"} 1
lambda_rasp_incomplete_inspections_total{function="orders",reason="other"} 1
`,
		},
		{
			name: "detections: policy rule ids, sink ids, other; sink source none",
			events: []wire.Event{
				{Kind: wire.KindDetection, RuleID: "sqli", Category: "sqli", Action: "block", Source: "query"},
				{Kind: wire.KindDetection, RuleID: "sqli", Category: "sqli", Action: "block", Source: "query"},
				{Kind: wire.KindDetection, RuleID: "no-admin-probe", Category: "custom", Action: "monitor", Source: "path"},
				{Kind: wire.KindDetection, RuleID: "rule-from-elsewhere", Category: "made-up", Action: "block", Source: "body.x"},
				{Kind: wire.KindSink, Sink: "sql", RuleID: "sqli-sink", Category: "sqli", Action: "block", Source: "body"},
				{Kind: wire.KindSink, Sink: "file", RuleID: "file-deny", Category: "file", Action: "block"},
				{Kind: wire.KindSink, Sink: "exec", Action: "allow"},
				{Kind: wire.KindEgress, RuleID: "egress-deny", Category: "egress", Action: "block", Class: "metadata"},
			},
			metric: "lambda_rasp_detections_total",
			want: `
# HELP lambda_rasp_detections_total Rule matches of the input guard and sink guards.
# TYPE lambda_rasp_detections_total counter
lambda_rasp_detections_total{action="block",category="egress",function="orders",rule="egress-deny",source="none"} 1
lambda_rasp_detections_total{action="block",category="file",function="orders",rule="file-deny",source="none"} 1
lambda_rasp_detections_total{action="block",category="other",function="orders",rule="other",source="other"} 1
lambda_rasp_detections_total{action="block",category="sqli",function="orders",rule="sqli",source="query"} 2
lambda_rasp_detections_total{action="block",category="sqli",function="orders",rule="sqli-sink",source="body"} 1
lambda_rasp_detections_total{action="monitor",category="custom",function="orders",rule="no-admin-probe",source="path"} 1
`,
		},
		{
			name: "egress by class, never the host",
			events: []wire.Event{
				{Kind: wire.KindEgress, Sink: "egress", Action: "block", Class: "metadata", Dest: "169.254.169.254:80"},
				{Kind: wire.KindEgress, Action: "allow", Class: "public", Dest: "example.com:443"},
				{Kind: wire.KindEgress, Action: "monitor", Class: "internal.corp", Dest: "10.0.0.1:80"},
			},
			metric: "lambda_rasp_egress_total",
			want: `
# HELP lambda_rasp_egress_total Outbound connection decisions by destination class.
# TYPE lambda_rasp_egress_total counter
lambda_rasp_egress_total{decision="allow",destination="public",function="orders"} 1
lambda_rasp_egress_total{decision="block",destination="metadata",function="orders"} 1
lambda_rasp_egress_total{decision="monitor",destination="other",function="orders"} 1
`,
		},
		{
			name: "sink checks include egress",
			events: []wire.Event{
				{Kind: wire.KindSink, Sink: "sql", Action: "block"},
				{Kind: wire.KindSink, Sink: "ldap", Action: "monitor"},
				{Kind: wire.KindEgress, Sink: "egress", Action: "allow", Class: "public"},
			},
			metric: "lambda_rasp_sink_checks_total",
			want: `
# HELP lambda_rasp_sink_checks_total Sink guard checks that reported (SQL, exec, file, egress), by decision.
# TYPE lambda_rasp_sink_checks_total counter
lambda_rasp_sink_checks_total{decision="allow",function="orders",sink="egress"} 1
lambda_rasp_sink_checks_total{decision="block",function="orders",sink="sql"} 1
lambda_rasp_sink_checks_total{decision="monitor",function="orders",sink="other"} 1
`,
		},
		{
			name: "dropped counts ride on any event",
			events: []wire.Event{
				{Kind: wire.KindInspection, Action: "allow", Dropped: 3},
				{Kind: wire.KindSink, Sink: "sql", Action: "allow", Dropped: 2},
			},
			metric: "lambda_rasp_events_dropped_total",
			want: `
# HELP lambda_rasp_events_dropped_total Events the wrapper could not hand to the extension.
# TYPE lambda_rasp_events_dropped_total counter
lambda_rasp_events_dropped_total{function="orders"} 5
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New("orders", testRules, nil)
			for i := range tt.events {
				m.Handle(&tt.events[i])
			}
			if err := gatherAndCompare(m.Registry(), strings.NewReader(tt.want), tt.metric); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestDurationHistogram(t *testing.T) {
	m := New("orders", nil, nil)
	for _, ns := range []int64{800, 3000, 40_000, 20_000_000} {
		m.Handle(&wire.Event{Kind: wire.KindInspection, EventSource: "sqs", Action: "allow", DurationNS: ns})
	}
	want := `
# HELP lambda_rasp_inspection_duration_seconds Time the input guard spent inspecting one event.
# TYPE lambda_rasp_inspection_duration_seconds histogram
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="1e-06"} 1
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="2.5e-06"} 1
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="5e-06"} 2
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="1e-05"} 2
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="2.5e-05"} 2
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="5e-05"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.0001"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.00025"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.0005"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.001"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.0025"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.005"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="0.01"} 3
lambda_rasp_inspection_duration_seconds_bucket{function="orders",source="sqs",le="+Inf"} 4
lambda_rasp_inspection_duration_seconds_sum{function="orders",source="sqs"} 0.0200438
lambda_rasp_inspection_duration_seconds_count{function="orders",source="sqs"} 4
`
	if err := gatherAndCompare(m.Registry(), strings.NewReader(want), "lambda_rasp_inspection_duration_seconds"); err != nil {
		t.Error(err)
	}
}

func TestOperationalCounters(t *testing.T) {
	m := New("orders", nil, nil)
	m.SetPolicy("payments-api", "payments-api@1a2b", "block")
	m.SetPolicy("payments-api", "payments-api@3c4d", "monitor") // replaces, never two series
	for _, r := range []string{"malformed", "malformed", "oversized", "bogus"} {
		m.Reject(r)
	}
	m.InitExporter("pushgateway")
	m.ExportError("remote_write")
	for _, s := range []string{"success", "success", "error", "Timeout", "failure", "weird"} {
		m.Invocation(s)
	}
	want := `
# HELP lambda_rasp_export_errors_total Failed or timed-out exports by exporter.
# TYPE lambda_rasp_export_errors_total counter
lambda_rasp_export_errors_total{exporter="pushgateway"} 0
lambda_rasp_export_errors_total{exporter="remote_write"} 1
# HELP lambda_rasp_ingest_errors_total Datagrams dropped by the extension, by reason.
# TYPE lambda_rasp_ingest_errors_total counter
lambda_rasp_ingest_errors_total{reason="malformed"} 2
lambda_rasp_ingest_errors_total{reason="other"} 1
lambda_rasp_ingest_errors_total{reason="oversized"} 1
lambda_rasp_ingest_errors_total{reason="version"} 0
# HELP lambda_rasp_invocations_total Invocations by status, from the Telemetry API.
# TYPE lambda_rasp_invocations_total counter
lambda_rasp_invocations_total{function="orders",status="error"} 1
lambda_rasp_invocations_total{function="orders",status="failure"} 1
lambda_rasp_invocations_total{function="orders",status="other"} 1
lambda_rasp_invocations_total{function="orders",status="success"} 2
lambda_rasp_invocations_total{function="orders",status="timeout"} 1
# HELP lambda_rasp_policy_info The loaded policy; always 1.
# TYPE lambda_rasp_policy_info gauge
lambda_rasp_policy_info{function="orders",mode="monitor",policy="payments-api",version="payments-api@3c4d"} 1
`
	if err := gatherAndCompare(m.Registry(), strings.NewReader(want),
		"lambda_rasp_export_errors_total", "lambda_rasp_ingest_errors_total", "lambda_rasp_invocations_total", "lambda_rasp_policy_info"); err != nil {
		t.Error(err)
	}
}

func TestSecurityLog(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	tests := []struct {
		name  string
		event wire.Event
		want  map[string]string // nil: no line
	}{
		{
			name: "detection",
			event: wire.Event{Kind: wire.KindDetection, Function: "spoofed", RequestID: "r-1", EventSource: "apigw-v2",
				RuleID: "sqli", Category: "sqli", Action: "block", Source: "query", Path: "query.search",
				Excerpt: "x' UNION SELECT name--", PolicyVersion: "default@3f2a"},
			want: map[string]string{"function": "orders", "request_id": "r-1", "event_source": "apigw-v2", "rule": "sqli",
				"category": "sqli", "action": "block", "source": "query", "path": "query.search",
				"excerpt": "x' UNION SELECT name--", "policy_version": "default@3f2a"},
		},
		{
			name: "egress deny",
			event: wire.Event{Kind: wire.KindEgress, RequestID: "r-2", Sink: "egress", RuleID: "egress-deny", Category: "egress",
				Action: "block", Dest: "169.254.169.254:80", Class: "metadata", Reason: "metadata address"},
			want: map[string]string{"function": "orders", "request_id": "r-2", "rule": "egress-deny", "category": "egress",
				"action": "block", "sink": "egress", "dest": "169.254.169.254:80", "class": "metadata", "reason": "metadata address"},
		},
		{
			name:  "long excerpt is cut to 200 bytes",
			event: wire.Event{Kind: wire.KindSink, Sink: "sql", Action: "monitor", Excerpt: long},
			want: map[string]string{"function": "orders", "sink": "sql", "action": "monitor",
				"excerpt": wire.Truncate(long, MaxExcerpt-3)},
		},
		{name: "plain egress allow", event: wire.Event{Kind: wire.KindEgress, Action: "allow", Class: "public", Dest: "a:443"}},
		{name: "inspection", event: wire.Event{Kind: wire.KindInspection, Action: "block", EventSource: "alb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			m := New("orders", testRules, logging.Security(&buf))
			m.Handle(&tt.event)
			if tt.want == nil {
				if buf.Len() != 0 {
					t.Errorf("logged %q, want nothing", buf.String())
				}
				return
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1: %q", len(lines), buf.String())
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatal(err)
			}
			if got["logger"] != "security" || got["msg"] != "security event" || got["level"] != "warn" {
				t.Errorf("envelope = %v", got)
			}
			for _, k := range []string{"logger", "msg", "level", "ts"} {
				delete(got, k)
			}
			if len(got) != len(tt.want) {
				t.Errorf("keys = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if ex, _ := got["excerpt"].(string); len(ex) > MaxExcerpt {
				t.Errorf("excerpt is %d bytes", len(ex))
			}
		})
	}
}

// A policy loaded live adds its rule ids to the allowed label values and
// keeps the previous ones (events it decided may still arrive).
func TestAddRules(t *testing.T) {
	m := New("orders", []string{"old"}, nil)
	m.AddRules([]string{"new"})
	for _, tt := range []struct{ give, want string }{
		{"old", "old"}, {"new", "new"}, {"unknown", Other},
	} {
		if got := m.rule(tt.give); got != tt.want {
			t.Errorf("rule(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}
