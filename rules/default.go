package rules

import (
	"fmt"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// DefaultEngine compiles the embedded default policy ([policy.Default]).
func DefaultEngine() (*Engine, error) {
	e, err := Compile(policy.Default())
	if err != nil {
		return nil, fmt.Errorf("default policy: %w", err)
	}
	return e, nil
}
