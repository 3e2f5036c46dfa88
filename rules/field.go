package rules

import "time"

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
	// (adapter limits, or the invocation's deadline).
	Truncated bool
	// OverBudget reports that inspection ran past limits.budget. It was
	// completed all the same: its cost is bounded by the size limits, and
	// a wall-clock budget that stopped it would let a caller choose which
	// fields escape (fail open) or make a throttled function refuse
	// ordinary requests (fail closed).
	OverBudget bool
	// Err is an internal inspection error (recovered panic, cancelled
	// context); Action then reflects the policy's on_error.
	Err error
	// Incomplete is why inspection did not cover every input, one of
	// policy.ReasonLimits, ReasonBudget, ReasonMalformed and ReasonPanic,
	// or "" when it did; on_error for that reason decided Action.
	Incomplete string
}

// Blocked reports whether d refuses the request.
func (d *Decision) Blocked() bool { return d.Action == ActionBlock }
