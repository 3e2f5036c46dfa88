package rules

// Egress is the compiled egress policy.
type Egress struct {
	policy *EgressPolicy
}

func compileEgress(p *EgressPolicy) (*Egress, error) { return &Egress{policy: p}, nil }
