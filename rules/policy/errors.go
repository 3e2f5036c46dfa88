package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem in a policy file, with its position.
// Loaders return several of them at once as [Errors].
type Error struct {
	// File is the policy's name as given to [Parse] (usually its path).
	File string
	// Line and Col are 1-based; they point at the offending YAML node.
	Line, Col int
	// RuleID is the id of the input rule the problem belongs to, if any.
	RuleID string
	// Msg describes the problem.
	Msg string
	// Err is an underlying error, if any (for example [ErrTooLarge]).
	Err error
}

// Error formats e as "file:line:col: rule: message", leaving out the rule
// when there is none.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Col)
	if e.RuleID != "" {
		b.WriteString(e.RuleID)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Errors lists every problem found in a policy, in file order.
type Errors []*Error

// Error joins the errors, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors, for [errors.As] and [errors.Is].
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// ErrTooLarge is wrapped by the [Error] reported for a policy
// that exceeds a size bound (file size, number of rules, YAML nodes).
var ErrTooLarge = errors.New("policy too large")

// FetchError is returned by [LoadEnv] when the policy cannot be fetched
// from LAMBDA_RASP_POLICY_URL.
type FetchError struct {
	// URL is the policy URL without its query string.
	URL string
	// Status is the HTTP status code, 0 when no response was received.
	Status int
	// Err is the underlying error, if any.
	Err error
}

// Error describes the failed fetch.
func (e *FetchError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("fetch policy %s: %v", e.URL, e.Err)
	default:
		return fmt.Sprintf("fetch policy %s: HTTP status %d", e.URL, e.Status)
	}
}

// Unwrap returns the underlying error.
func (e *FetchError) Unwrap() error { return e.Err }
