package rules

import (
	"fmt"
	"time"
)

// Source says where in an event a [Field] was found. The names are part of
// the policy format (rule targets) and of the telemetry contract.
type Source uint8

// The sources of attacker-controllable input.
const (
	SourceUnknown    Source = iota
	SourceQuery             // query string parameters
	SourcePath              // the request path, whole and per segment
	SourceHeaders           // header names and values
	SourceCookies           // cookie names and values
	SourceBody              // decoded body: JSON keys and values, form and multipart fields
	SourcePathParams        // API Gateway path parameters
	SourceRecord            // queue, stream and notification records (SQS, SNS, S3, ...)
	numSources
)

var sourceNames = [numSources]string{
	SourceUnknown:    "unknown",
	SourceQuery:      "query",
	SourcePath:       "path",
	SourceHeaders:    "headers",
	SourceCookies:    "cookies",
	SourceBody:       "body",
	SourcePathParams: "pathParams",
	SourceRecord:     "record",
}

// String returns the policy name of s, for example "query".
func (s Source) String() string {
	if s < numSources {
		return sourceNames[s]
	}
	return "unknown"
}

// ParseSource returns the Source named name ("query", "path", "headers",
// "cookies", "body", "pathParams" or "record").
func ParseSource(name string) (Source, error) {
	for i := SourceQuery; i < numSources; i++ {
		if sourceNames[i] == name {
			return i, nil
		}
	}
	return SourceUnknown, fmt.Errorf("unknown source %q", name)
}

// Field is one attacker-controllable value extracted from an event.
type Field struct {
	// Source is where the value was found.
	Source Source
	// Path is stable and readable: "body.user.name", "headers.user-agent",
	// "record[3].body.order.note". For a key, Path names the key itself.
	Path string
	// Value is the decoded value (or the key's name when Key is set).
	Value string
	// Key reports that Value is a name (JSON key, header or cookie name,
	// form field name) rather than a value.
	Key bool
}

// Request is what the engine inspects: the fields of one event.
type Request struct {
	// Route identifies an HTTP route as "METHOD /path" (for example
	// "POST /posts"); it is empty for non-HTTP sources. Exclusions match it.
	Route string
	// Fields are the extracted inputs.
	Fields []Field
	// Truncated reports that the event adapter stopped at a limit, so
	// Fields is incomplete. The engine then applies the policy's on_error.
	Truncated bool
}

// Action is the outcome of an inspection.
type Action uint8

// The actions, from least to most disruptive.
const (
	ActionAllow   Action = iota // nothing matched, or the rule is off
	ActionMonitor               // matched; recorded, not disrupted
	ActionBlock                 // matched; the request is refused
)

// String returns "allow", "monitor" or "block".
func (a Action) String() string {
	switch a {
	case ActionMonitor:
		return "monitor"
	case ActionBlock:
		return "block"
	default:
		return "allow"
	}
}

// Mode is a policy's (or rule's) enforcement mode.
type Mode uint8

// The modes. The zero value is ModeBlock.
const (
	ModeBlock   Mode = iota // matches block
	ModeMonitor             // matches are recorded only
	ModeOff                 // the rule or policy does nothing
)

// String returns "block", "monitor" or "off".
func (m Mode) String() string {
	switch m {
	case ModeMonitor:
		return "monitor"
	case ModeOff:
		return "off"
	default:
		return "block"
	}
}

// ParseMode parses "block", "monitor" or "off".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "block":
		return ModeBlock, nil
	case "monitor":
		return ModeMonitor, nil
	case "off":
		return ModeOff, nil
	}
	return ModeBlock, fmt.Errorf("unknown mode %q (want block, monitor or off)", s)
}

// Confidence is how sure a match is. Built-in detectors mark findings
// whose syntax also occurs in ordinary text as [ConfidenceLow]; user
// match rules are [ConfidenceHigh].
type Confidence uint8

// The confidences, from most to least sure. The zero value is high.
const (
	ConfidenceHigh Confidence = iota
	ConfidenceLow
)

// String returns "high" or "low".
func (c Confidence) String() string {
	if c == ConfidenceLow {
		return "low"
	}
	return "high"
}

// Match is one rule that matched one field.
type Match struct {
	RuleID   string // the policy rule id, e.g. "sqli"
	Category string // the detector category, e.g. "sqli"; "custom" for user match rules
	Source   Source
	Path     string // the field path
	Excerpt  string // short, redacted excerpt of the decoded value around the hit; never the whole value
	Action   Action // what this rule alone asks for (monitor or block), after its min_confidence
	// Confidence of the finding; a match below its rule's min_confidence
	// is reported (monitor) instead of taking the rule's action.
	Confidence Confidence
}

// Decision is the result of one inspection. The zero value allows.
type Decision struct {
	// Action is the most disruptive action of all matches, after the
	// policy's mode; or what on_error asks for when Err is set.
	Action Action
	// Matches lists every rule that matched, in field order.
	Matches []Match
	// Elapsed is the wall time the inspection took.
	Elapsed time.Duration
	// Truncated reports that inspection did not cover every input
	// (adapter limits or the time budget).
	Truncated bool
	// Err is an internal inspection error (recovered panic, budget
	// overrun); Action then reflects the policy's on_error.
	Err error
}

// Blocked reports whether d refuses the request.
func (d *Decision) Blocked() bool { return d.Action == ActionBlock }
