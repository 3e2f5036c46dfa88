// Package rules is lambda-rasp's inspection engine: it compiles a policy
// (see the policy package, which loads and validates policy files) into
// an immutable [Engine] that inspects the fields of an event and checks
// what reaches the sinks — outbound connections, SQL, commands, files.
//
// # Compiling
//
// [Compile] turns a [policy.Policy] into an [Engine]; [LoadEnv] loads the
// policy the environment selects ([policy.Load]) and compiles it;
// [DefaultEngine] compiles the embedded default. Every mode is resolved
// once, at compile time: the policy's global mode, LAMBDA_RASP_MODE (which
// [policy.Load] records as the policy's ForcedMode), and the modes rules,
// the egress section and the sinks name themselves.
//
// # Inspecting
//
// [Engine.Inspect] runs every applicable input rule over every field of a
// [Request]: a rule applies to a field when the field's source is among
// its targets, its path matches the rule's path globs, and no exclusion
// switches the rule off for that path and route. Built-in detectors share
// one pooled decoding scratch per inspection; user rules use RE2 regular
// expressions, phrase lists (one pass, Aho–Corasick), exact values or
// prefixes. A match records the rule, its category, the field and a short
// redacted excerpt. The decision's action is the most disruptive match
// after the rule's and the policy's mode: monitor never blocks, off skips.
//
// # Failure semantics
//
// An inspection never panics and never runs unbounded. A panicking
// detector is recovered ([*PanicError]); a cancelled context (the
// invocation's deadline) stops inspection; a request the adapter truncated
// counts the same. In these cases the policy's on_error decides, per
// reason. The time budget (limits.budget) never stops inspection, whose
// cost the size limits bound: an overrun sets Decision.OverBudget. A
// request without matches does not allocate.
package rules
