package rasp

import (
	"context"
	"sync/atomic"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Invocation is what the wrapper knows about the invocation in progress:
// its inspected inputs and the input guard's decision. Sink guards use the
// inputs to tell an injection from a benign call. Handlers read it with
// [FromContext]; it must not be modified.
type Invocation struct {
	// RequestID is the Lambda request id.
	RequestID string
	// EventSource is the detected event source ("apigw-v2", "sqs", ...).
	EventSource string
	// Route is "METHOD /path" for HTTP sources, empty otherwise.
	Route string
	// Inputs are the fields extracted from the event.
	Inputs []rules.Field
	// Decision is the input guard's decision.
	Decision rules.Decision

	g *guard
}

type invocationKey struct{}

// FromContext returns the invocation that ctx belongs to, when the handler
// was wrapped by [Wrap].
func FromContext(ctx context.Context) (*Invocation, bool) {
	inv, ok := ctx.Value(invocationKey{}).(*Invocation)
	return inv, ok && inv != nil
}

// newContext returns a copy of ctx carrying inv.
func newContext(ctx context.Context, inv *Invocation) context.Context {
	return context.WithValue(ctx, invocationKey{}, inv)
}

// emitter sends security events; implementations never block.
type emitter interface {
	Emit(e *wire.Event)
}

// guard is the protection state shared by the input guard and the sink
// guards of one wrapped function: the compiled policy and where security
// events go. It is immutable once built.
type guard struct {
	engine   *rules.Engine
	out      emitter
	function string // AWS_LAMBDA_FUNCTION_NAME
}

// processGuard is the guard installed by the first [New] (so [Wrap] and
// [Start]) of the process. Sink guards fall back to it outside an
// invocation, for example for clients created during init; before it
// exists, [Protect] and the egress guards apply only the baseline (the
// always-denied destinations).
var processGuard atomic.Pointer[guard]

// guardFor returns the guard for ctx: the invocation's when ctx comes from
// a wrapped handler, else the process-wide one, else nil.
func guardFor(ctx context.Context) *guard {
	if inv, ok := FromContext(ctx); ok && inv.g != nil {
		return inv.g
	}
	return processGuard.Load()
}
