package wire

import "slices"

// Label names a bounded field of [Event]: the wrapper sends only the
// values listed here, and the extension accepts only these as metric label
// values (anything else is counted as "other"). Tests in the producing
// packages (the event adapter, the rules engine and its detectors, the
// sink guards) hold what they send to these sets.
type Label uint8

// The bounded fields.
const (
	LabelEventSource Label = iota // Event.EventSource: the Lambda event source
	LabelFieldSource              // Event.Source: where in the event the input was found
	LabelCategory                 // Event.Category: the attack category
	LabelAction                   // Event.Action
	LabelSink                     // Event.Sink
	LabelClass                    // Event.Class: the egress destination class
	LabelReason                   // Event.Reason of an incomplete inspection, and ReasonLimits
	numLabels
)

// ReasonLimits is the reason the receiver counts for an inspection the
// wrapper reports as truncated without a reason: the policy's limits cut
// the event short (no error).
const ReasonLimits = "limits"

// labelValues are the values of each label, in a stable order. They are
// never written.
var labelValues = [numLabels][]string{
	LabelEventSource: {"apigw-v1", "apigw-v2", "alb", "function-url", "websocket", "sqs", "sns",
		"eventbridge", "s3", "kinesis", "dynamodb", "json"},
	LabelFieldSource: {"query", "path", "headers", "cookies", "body", "pathParams", "record", "unknown"},
	LabelCategory: {"sqli", "xss", "cmdi", "traversal", "ssrf", "jndi", "nosql", "ssti", "proto", "crlf",
		"custom", "egress", "exec", "file"},
	LabelAction: {"allow", "monitor", "block"},
	LabelSink:   {"sql", "exec", "file", "egress"},
	LabelClass:  {"public", "private", "loopback", "link_local", "metadata", "lambda_api", "unspecified", "other"},
	LabelReason: {ReasonLimits, ReasonMalformed, ReasonBudget, ReasonPanic, ReasonCancelled, ReasonError},
}

// Values returns a copy of l's values.
func (l Label) Values() []string {
	if l >= numLabels {
		return nil
	}
	return slices.Clone(labelValues[l])
}

// Has reports whether v is one of l's values.
func (l Label) Has(v string) bool {
	return l < numLabels && slices.Contains(labelValues[l], v)
}
