// Package metrics turns the wrapper's security events into the
// extension's Prometheus metrics and security log lines.
//
// Metrics live in the extension's own prometheus.Registry (never the
// global one) and every label has a bounded set of values: rule ids must
// belong to the loaded policy or be one of the fixed sink rule ids, and
// categories, sources, event sources, sinks, decisions, actions and
// destination classes come from fixed sets; anything else is "other". The
// function label is the function the extension runs for
// (AWS_LAMBDA_FUNCTION_NAME), whatever a datagram claims.
//
// The security log gets one JSON line per detection and per sink or
// egress event that is not a plain allow; excerpts (already redacted by
// the sender) are cut to 200 bytes and raw datagrams are never logged.
package metrics
