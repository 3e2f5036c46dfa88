package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Version is the current wire version, sent in every event's "v" field.
const Version = 1

// MaxDatagram is the largest datagram a sender writes and a receiver reads.
const MaxDatagram = 4096

// DefaultSocket is the default socket path, overridable with
// LAMBDA_RASP_SOCKET in both processes.
const DefaultSocket = "/tmp/lambda-rasp/events.sock"

// EnvSocket overrides the socket path, in both processes.
const EnvSocket = "LAMBDA_RASP_SOCKET"

// SocketPath is the socket both processes use: EnvSocket from getenv, else
// DefaultSocket.
func SocketPath(getenv func(string) string) string {
	if p := getenv(EnvSocket); p != "" {
		return p
	}
	return DefaultSocket
}

// Kind is the type of an Event.
type Kind string

// The event kinds.
const (
	// KindInspection: one per inspected invocation (input guard), with the
	// decision, event source and duration. Feeds inspections_total and
	// inspection_duration_seconds.
	KindInspection Kind = "inspection"
	// KindDetection: one per matched rule × field (input guard). Feeds
	// detections_total and one security log line.
	KindDetection Kind = "detection"
	// KindEgress: one per outbound connection decision that is not a plain
	// allow of a cached destination (deny, monitor, or first allow).
	// Feeds egress_total.
	KindEgress Kind = "egress"
	// KindSink: one per SQL/exec/file check that matched (or denied).
	// Feeds sink_checks_total and one security log line.
	KindSink Kind = "sink"
)

// Event is one datagram. Empty fields are omitted.
type Event struct {
	V        int       `json:"v"`
	Kind     Kind      `json:"kind"`
	Time     time.Time `json:"time"`
	Function string    `json:"fn,omitempty"`
	// RequestID is the Lambda request id of the invocation.
	RequestID string `json:"req,omitempty"`
	// TenantID is the invocation's tenant in tenant isolation mode
	// (Lambda-Runtime-Aws-Tenant-Id). It goes to logs, never to metric
	// labels: tenants are unbounded.
	TenantID string `json:"tenant,omitempty"`
	// EventSource is the detected Lambda event source: "apigw-v1",
	// "apigw-v2", "alb", "function-url", "websocket", "sqs", "sns",
	// "eventbridge", "s3", "kinesis", "dynamodb", "json".
	EventSource string `json:"src,omitempty"`
	// Action is "allow", "monitor" or "block" (input guard and sinks).
	Action string `json:"action,omitempty"`
	// RuleID and Category identify the matching rule.
	RuleID   string `json:"rule,omitempty"`
	Category string `json:"cat,omitempty"`
	// Source and Path locate the input field ("query", "query.id").
	Source string `json:"source,omitempty"`
	Path   string `json:"path,omitempty"`
	// Excerpt is a short redacted excerpt, never the raw payload.
	Excerpt string `json:"excerpt,omitempty"`
	// Sink is "sql", "exec", "file" or "egress" for sink events.
	Sink string `json:"sink,omitempty"`
	// Dest is the egress destination "host:port" (host as dialled).
	Dest string `json:"dest,omitempty"`
	// Class is the egress destination's class, a low-cardinality label:
	// "public", "private", "loopback", "link_local", "metadata",
	// "lambda_api", "unspecified" or "other".
	Class string `json:"class,omitempty"`
	// Reason explains a sink or egress decision ("metadata address",
	// "tautology", "input spans tokens").
	Reason string `json:"reason,omitempty"`
	// PolicyVersion identifies the policy that decided.
	PolicyVersion string `json:"policy,omitempty"`
	// DurationNS is the inspection time for inspection events.
	DurationNS int64 `json:"dur_ns,omitempty"`
	// Matches is the number of matches for inspection events.
	Matches int `json:"matches,omitempty"`
	// Truncated reports that inspection did not cover every input.
	Truncated bool `json:"truncated,omitempty"`
	// Dropped counts events the sender dropped (socket absent or full)
	// since its last successful send; the receiver adds it to
	// events_dropped_total.
	Dropped uint64 `json:"dropped,omitempty"`
}

// The reasons an inspection event gives (Event.Reason) when inspection
// could not complete; the receiver accepts no others as label values.
const (
	ReasonPanic     = "internal panic"
	ReasonMalformed = "malformed event"
	ReasonBudget    = "budget exceeded"
	ReasonCancelled = "cancelled"
	ReasonError     = "inspection error"
)

// ErrVersion is returned by Decode for an unknown wire version.
var ErrVersion = errors.New("wire: unsupported version")

// ErrTooLarge is returned by Decode for a datagram over MaxDatagram.
var ErrTooLarge = errors.New("wire: datagram too large")

// Decode parses one datagram into e, which it resets first. It rejects
// oversized datagrams, unknown versions and events without a known kind.
// Datagrams in the shape the wrapper writes are parsed without reflection
// (several times faster than encoding/json); anything else goes through
// encoding/json, with the same result.
func Decode(b []byte, e *Event) error {
	*e = Event{}
	if len(b) > MaxDatagram {
		return ErrTooLarge
	}
	if !fastDecode(b, e) {
		*e = Event{}
		if err := json.Unmarshal(b, e); err != nil {
			return fmt.Errorf("wire: decode: %w", err)
		}
	}
	if e.V != Version {
		return fmt.Errorf("%w %d", ErrVersion, e.V)
	}
	switch e.Kind {
	case KindInspection, KindDetection, KindEgress, KindSink:
	default:
		return fmt.Errorf("wire: unknown kind %q", e.Kind)
	}
	return nil
}

// Encode appends the JSON form of e to dst, setting e.V; it is Append
// without cutting: an error when the result would exceed MaxDatagram
// (callers cut excerpts first, see [Truncate]).
func Encode(dst []byte, e *Event) ([]byte, error) {
	e.V = Version
	start := len(dst)
	b := encodeEvent(dst, e, 0)
	if len(b)-start > MaxDatagram {
		return dst, ErrTooLarge
	}
	return b, nil
}

// Truncate returns s cut to at most n bytes on a UTF-8 boundary, with "…"
// appended when it was cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && i < len(s) && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}
