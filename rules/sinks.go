package rules

// Sinks is the compiled sink policy.
type Sinks struct {
	policy *SinkPolicy
}

// compileSinks compiles p. base is the engine's mode (already forced);
// force, when set, caps the modes p names (see leastDisruptive).
func compileSinks(p *SinkPolicy, base Mode, force *Mode) (*Sinks, error) {
	_, _ = base, force
	return &Sinks{policy: p}, nil
}
