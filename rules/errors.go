package rules

import (
	"fmt"
)

// PanicError is the [Decision] error of an inspection during which a
// detector or matcher panicked. The panic is recovered; the policy's
// on_error decides.
type PanicError struct {
	// RuleID is the rule whose detector panicked.
	RuleID string
	// Value is the recovered panic value.
	Value any
}

// Error describes the panic without the inspected value.
func (e *PanicError) Error() string {
	return fmt.Sprintf("rules: rule %q panicked: %v", e.RuleID, e.Value)
}
