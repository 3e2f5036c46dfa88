package policy

import (
	_ "embed"
	"fmt"
)

// defaultYAML is the embedded default policy, see default.yaml.
//
//go:embed default.yaml
var defaultYAML []byte

// DefaultFile is the name the embedded default policy is parsed under; it
// appears in error messages and as the policy's File.
const DefaultFile = "embedded:policies/default.yaml"

// Default returns the embedded default policy, parsed anew on each call,
// so callers may not affect each other. It panics only if the embedded
// policy is invalid, which the package's tests rule out for every build.
func Default() *Policy {
	p, err := Parse(DefaultFile, defaultYAML)
	if err != nil {
		panic(fmt.Sprintf("policy: embedded default policy is invalid: %v", err))
	}
	p.Origin = "embedded default"
	return p
}
