package policy

import (
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Policy is a parsed, validated policy file. It is plain data: the rules
// package compiles it into an engine. Treat a Policy handed to the engine
// as read-only.
type Policy struct {
	// File is the name the policy was parsed under (usually its path).
	File string
	// Name is the optional policy id ("name:"), shown in metrics.
	Name string
	// Version is the format version; only 1 exists.
	Version int
	// Mode is the global enforcement mode; rules may override it.
	Mode Mode
	// OnError is what a failed check does where no reason applies (a
	// sink check that panicked): [ActionBlock] (fail closed, the default)
	// or [ActionAllow]; the scalar on_error sets it, the mapping form sets
	// it to the panic reason's action.
	OnError Action
	// OnErrorBy is what an incomplete inspection does, per reason; every
	// reason blocks unless on_error says otherwise, so that no request an
	// attacker shapes (too many fields, too costly, undecodable) is let
	// through uninspected.
	OnErrorBy OnErrorActions
	// Limits bound what the adapters extract and how long inspection runs.
	Limits Limits
	// Inputs are the input rules, in file order.
	Inputs []InputRule
	// Exclusions switch rules off for given field paths and routes.
	Exclusions []Exclusion
	// Egress is the outbound-connection policy.
	Egress EgressPolicy
	// Sinks configures the SQL, exec and file guards.
	Sinks SinkPolicy
	// Tests are the policy's own test cases, run by "raspctl test".
	Tests []PolicyTest

	// Origin says where the policy was loaded from ("url https://...",
	// "file /opt/lambda-rasp/policy.yaml", "embedded default"); [Load]
	// and [Default] set it.
	Origin string
	// ForcedMode is the mode LAMBDA_RASP_MODE forces, or nil; [Load] sets
	// it. The engine applies it when it compiles the policy.
	ForcedMode *Mode

	hash string // short content hash, see Engine.Version
}

// DisplayName is the policy's name, else its file's base name without
// the extension, else "policy". Metrics and logs show it.
func (p *Policy) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	if p.File != "" {
		base := filepath.Base(p.File)
		return strings.TrimSuffix(base, filepath.Ext(base))
	}
	return "policy"
}

// ContentVersion is a short hash of the policy's source, followed by "+mode"
// when LAMBDA_RASP_MODE forces a mode; "unhashed" for a Policy that
// [Parse] did not produce. The wrapper and the extension report it, so
// both must agree.
func (p *Policy) ContentVersion() string {
	v := p.hash
	if v == "" {
		v = "unhashed"
	}
	if p.ForcedMode != nil {
		v += "+" + p.ForcedMode.String()
	}
	return v
}

// EffectiveMode is the global mode after LAMBDA_RASP_MODE: ForcedMode if
// set, else Mode.
func (p *Policy) EffectiveMode() Mode {
	if p.ForcedMode != nil {
		return *p.ForcedMode
	}
	return p.Mode
}

// RuleIDs returns every rule id an engine compiled from p can report: the
// input rules' ids and the fixed sink rule ids, sorted. The extension
// accepts exactly these as metric labels.
func (p *Policy) RuleIDs() []string {
	ids := SinkRuleIDs()
	for _, in := range p.Inputs {
		ids = append(ids, in.ID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Limits bound the work done per event.
type Limits struct {
	// MaxBodyBytes is the largest body the adapters decode (default 1 MiB).
	MaxBodyBytes int64
	// MaxDepth is the deepest JSON nesting walked (default 32).
	MaxDepth int
	// MaxFields is the most fields extracted from one event (default 2048).
	MaxFields int
	// Budget is the target inspection time per event (default 2ms); an
	// overrun is reported (rules.Decision.OverBudget), never a reason to stop.
	Budget time.Duration
}

// DefaultLimits returns the limits of a policy that sets none.
func DefaultLimits() Limits {
	return Limits{MaxBodyBytes: 1 << 20, MaxDepth: 32, MaxFields: 2048, Budget: 2 * time.Millisecond}
}

// InputRule is one entry of "inputs:". Exactly one of Detector and Match
// is set.
type InputRule struct {
	// ID is unique within the policy; it names the rule in matches,
	// exclusions, logs and metrics.
	ID string
	// Detector names a built-in detector ("sqli", "xss", ...).
	Detector string
	// Match is a user matcher.
	Match *MatchSpec
	// Targets lists the sources the rule inspects; all when empty.
	Targets []Source
	// Paths restricts the rule to field paths matching one of these
	// globs; all paths when empty. See [Exclusion] for the glob syntax.
	Paths []string
	// Action is what a match asks for: [ActionBlock] (default) or
	// [ActionMonitor].
	Action Action
	// Mode overrides the policy's mode for this rule; nil means the
	// policy's.
	Mode *Mode
	// MinConfidence is the least confidence at which a finding takes
	// Action (YAML min_confidence: high, the default, or low); findings
	// below it are reported as monitor.
	MinConfidence Confidence
	Pos           Pos
}

// MatchSpec is a user matcher: exactly one of Regex, Phrases, Equals and
// Prefix is set.
type MatchSpec struct {
	// Regex is an RE2 expression searched in the value.
	Regex string
	// Phrases are literals searched in the value, all in one pass.
	Phrases []string
	// Equals are values the whole field must equal.
	Equals []string
	// Prefix are values the field must start with.
	Prefix []string
	// CaseInsensitive folds case.
	CaseInsensitive bool
}

// Exclusion switches rules off for some field paths, optionally only on
// one route.
//
// Path globs match field paths such as "body.user.name": "*" matches any
// run of characters except ".", "**" any run including ".", "?" one
// character except ".", and "\" escapes the next character. Route globs
// match "METHOD /path" the same way with "/" as the separator.
type Exclusion struct {
	// Rules are the rule ids excluded; "*" excludes every rule.
	Rules []string
	// Paths are field-path globs; all paths when empty.
	Paths []string
	// Route is a route glob ("POST /posts"); any route when empty.
	Route string
	Pos   Pos
}

// PolicyTest is one entry of "tests:": an event file and the decision
// the policy must reach on it.
type PolicyTest struct {
	// Name describes the case.
	Name string
	// Event is the event file, relative to the policy file.
	Event string
	// Want is the expected decision.
	Want TestWant
	Pos  Pos
}

// TestWant is the expected outcome of a [PolicyTest].
type TestWant struct {
	// Action is the expected decision action.
	Action Action
	// Rules are the rule ids expected to match (each at least once); no
	// other rule may match.
	Rules []string
}

// The reasons an inspection is incomplete, the keys of on_error.
const (
	ReasonLimits    = "limits"    // a limit (fields, depth, body bytes) cut the event
	ReasonBudget    = "budget"    // the invocation's deadline ended inspection
	ReasonMalformed = "malformed" // the event or a body could not be decoded
	ReasonPanic     = "panic"     // inspection failed (a recovered panic)
)

// OnErrorActions is what an incomplete inspection does, per reason:
// [ActionAllow] (fail open) or [ActionBlock] (fail closed).
type OnErrorActions struct {
	Limits, Budget, Malformed, Panic Action
}

// For returns the action for reason (one of the Reason constants); an
// unknown reason gets the most disruptive action of the four.
func (o OnErrorActions) For(reason string) Action {
	switch reason {
	case ReasonLimits:
		return o.Limits
	case ReasonBudget:
		return o.Budget
	case ReasonMalformed:
		return o.Malformed
	case ReasonPanic:
		return o.Panic
	}
	return max(o.Limits, o.Budget, o.Malformed, o.Panic)
}

// failClosed blocks on every reason: the default.
func failClosed() OnErrorActions {
	return OnErrorActions{Limits: ActionBlock, Budget: ActionBlock, Malformed: ActionBlock, Panic: ActionBlock}
}
