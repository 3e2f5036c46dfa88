package rasp

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
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
	// TenantID is the tenant the platform names for the invocation in
	// tenant isolation mode (aws-lambda-go's LambdaContext.TenantID);
	// empty otherwise. Security events and log lines carry it.
	TenantID string
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
// guards of one wrapped function: the compiled policy, where security
// events go, and the invocations in flight. Apart from inflight, it is
// immutable once built: a live policy update builds a new guard around
// the new engine, sharing out and inflight with the old one, and each
// invocation keeps the guard it started with, so its input inspection
// and its sink checks see one policy.
type guard struct {
	engine   *rules.Engine
	lim      adapter.Limits // the engine's, for the adapter
	out      emitter
	function string // AWS_LAMBDA_FUNCTION_NAME
	// inflight is the invocations in progress through the Protector's
	// wrapped handlers (the guard's own mutable part, safe for
	// concurrent use, shared by the guards of successive policies); nil
	// reads as empty.
	inflight *inflight
}

// withEngine returns a copy of g that applies e.
func (g *guard) withEngine(e *rules.Engine) *guard {
	return &guard{engine: e, lim: adapter.PolicyLimits(e.Limits()), out: g.out, function: g.function, inflight: g.inflight}
}

// inflight is the set of invocations in progress through one Protector:
// several at once on Lambda Managed Instances. A sink call made without
// an invocation's context (a goroutine the handler started with
// context.Background(), a client built at init) can be matched against
// the inputs of every invocation in flight.
//
// An invocation is added once inspected, before the handler runs, and
// removed when the handler returned (or the wrapper answered for it); its
// fields do not change in between. add and remove cost a lock and no
// allocation once the set has grown to the concurrency in use.
type inflight struct {
	mu  sync.RWMutex
	inv []*Invocation
}

// add records inv as in flight.
func (f *inflight) add(inv *Invocation) {
	f.mu.Lock()
	f.inv = append(f.inv, inv)
	f.mu.Unlock()
}

// remove forgets inv.
func (f *inflight) remove(inv *Invocation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.inv {
		if x == inv {
			last := len(f.inv) - 1
			f.inv[i] = f.inv[last]
			f.inv[last] = nil // no reference kept to a finished invocation
			f.inv = f.inv[:last]
			return
		}
	}
}

// each calls fn for every invocation in flight, in no particular order,
// until fn returns false. fn runs under the set's read lock: it must not
// block, nor add or remove invocations.
func (f *inflight) each(fn func(*Invocation) bool) {
	if f == nil {
		return
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	for _, inv := range f.inv {
		if !fn(inv) {
			return
		}
	}
}

// find returns the invocation in flight with request id id.
func (f *inflight) find(id string) (*Invocation, bool) {
	var found *Invocation
	f.each(func(inv *Invocation) bool {
		if inv.RequestID == id {
			found = inv
			return false
		}
		return true
	})
	return found, found != nil
}

// count returns how many invocations are in flight.
func (f *inflight) count() int {
	if f == nil {
		return 0
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return len(f.inv)
}

// processGuard is the guard installed by the first [New] (so [Wrap] and
// [Start]) of the process. Sink guards fall back to it outside an
// invocation, for example for clients created during init; before it
// exists, [Protect] and the egress guards apply only the baseline (the
// always-denied destinations).
// A live policy update replaces it when it is the updated Protector's.
var processGuard atomic.Pointer[guard]

// guardFor returns the guard for ctx: the invocation's when ctx comes from
// a wrapped handler, else the process-wide one, else nil.
func guardFor(ctx context.Context) *guard {
	if inv, ok := FromContext(ctx); ok && inv.g != nil {
		return inv.g
	}
	return processGuard.Load()
}
