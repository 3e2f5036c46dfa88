package rules

import (
	_ "embed"
	"fmt"
)

// defaultPolicyYAML is the embedded default policy, see policies/default.yaml.
//
//go:embed policies/default.yaml
var defaultPolicyYAML []byte

// DefaultPolicyFile is the name the embedded default policy is parsed
// under; it appears in error messages and as the policy's File.
const DefaultPolicyFile = "embedded:policies/default.yaml"

// DefaultYAML returns a copy of the embedded default policy's source, a
// starting point for a custom policy.
func DefaultYAML() []byte { return append([]byte(nil), defaultPolicyYAML...) }

// Default returns the embedded default policy, parsed anew on each call,
// so callers may not affect each other. It panics only if the embedded
// policy is invalid, which the package's tests rule out for every build.
func Default() *Policy {
	p, err := Parse(DefaultPolicyFile, defaultPolicyYAML)
	if err != nil {
		panic(fmt.Sprintf("rules: embedded default policy is invalid: %v", err))
	}
	return p
}

// DefaultEngine compiles the embedded default policy.
func DefaultEngine() (*Engine, error) {
	p, err := Parse(DefaultPolicyFile, defaultPolicyYAML)
	if err != nil {
		return nil, fmt.Errorf("default policy: %w", err)
	}
	e, err := Compile(p)
	if err != nil {
		return nil, fmt.Errorf("default policy: %w", err)
	}
	e.source = "embedded default"
	return e, nil
}
