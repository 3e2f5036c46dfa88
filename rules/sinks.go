package rules

// Sinks is the compiled sink policy.
type Sinks struct {
	policy *SinkPolicy
}

func compileSinks(p *SinkPolicy) (*Sinks, error) { return &Sinks{policy: p}, nil }
