// Package rules is lambda-rasp's policy and inspection engine: the policy
// file format, its strict loader, the compiled [Engine] that inspects the
// fields of an event, and the embedded default policy.
//
// # Loading
//
// A policy is one YAML file (version 1). [Parse] and [LoadFile] validate
// it strictly: unknown keys, wrong types, bad regular expressions, CIDRs,
// ports or globs, duplicate or unknown rule ids and unknown detectors are
// all reported at once as [PolicyErrors], each a [*PolicyError] naming the
// file, line, column and rule. [Compile] turns a [Policy] into an
// [Engine]. [LoadEnv] does both from the environment (LAMBDA_RASP_POLICY_URL,
// LAMBDA_RASP_POLICY, /opt/lambda-rasp/policy.yaml, else [Default]) and
// applies LAMBDA_RASP_MODE.
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
// detector is recovered ([*PanicError]); the time budget (limits.budget)
// is checked every few fields and its overrun stops inspection
// ([ErrBudget]); a request the adapter truncated counts the same. In all
// three cases the policy's on_error decides: allow (fail open, the
// default) or block (fail closed). A request without matches does not
// allocate.
package rules
