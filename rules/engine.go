package rules

// Engine is a compiled, immutable policy, safe for concurrent use.
type Engine struct {
	policy *Policy
}

// Policy is a parsed, validated policy file.
type Policy struct {
	Version int
	Egress  EgressPolicy
	Sinks   SinkPolicy
}
