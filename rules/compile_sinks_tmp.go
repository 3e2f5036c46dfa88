package rules

// Egress is the compiled egress policy.
type Egress struct {
	policy *EgressPolicy
}

// Sinks is the compiled sink policy.
type Sinks struct {
	policy *SinkPolicy
}

func compileEgress(p *EgressPolicy) (*Egress, error) { return &Egress{policy: p}, nil }

func compileSinks(p *SinkPolicy) (*Sinks, error) { return &Sinks{policy: p}, nil }
