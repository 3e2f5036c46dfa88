package rules

// Egress is the compiled egress policy.
type Egress struct {
	policy *EgressPolicy
	mode   Mode
}

// compileEgress compiles p. base is the engine's mode (already forced);
// force, when set, caps any mode p names itself (see leastDisruptive).
func compileEgress(p *EgressPolicy, base Mode, force *Mode) (*Egress, error) {
	mode := base
	if p.Mode != nil {
		mode = *p.Mode
		if force != nil {
			mode = leastDisruptive(mode, *force)
		}
	}
	return &Egress{policy: p, mode: mode}, nil
}
