package policy

import "fmt"

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
