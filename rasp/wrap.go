package rasp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// errPanic marks a panic recovered in the adapter or the engine.
var errPanic = errors.New("lambda-rasp: inspection panicked")

// EnvSocket overrides the extension's socket path, in both processes.
const EnvSocket = wire.EnvSocket

// Protector is a configured input guard: a compiled policy, the block
// responses and the reporter. Build one with [New] and wrap handlers with
// [Protector.Wrap]; it is safe for concurrent use.
type Protector struct {
	// cur is the guard of the active policy; each invocation loads it
	// once, and a live policy update stores a new one.
	cur          atomic.Pointer[guard]
	rep          *reporter
	log          *zap.Logger
	parse        func([]byte, adapter.Limits) (*adapter.Event, error)
	stopPoll     func()        // stops the live policy poller; nil without one
	pollFailures func() uint64 // the poller's failed polls; nil without one
	partialBatch bool
	status       int
	bodyTemplate string

	invocations    atomic.Uint64
	blocked        atomic.Uint64
	internalErrors atomic.Uint64
}

// Stats are counters of a [Protector] since it was built.
type Stats struct {
	// Invocations is the number of wrapped invocations.
	Invocations uint64
	// Blocked is the number of invocations refused (wholly or partly).
	Blocked uint64
	// InternalErrors counts malformed events, recovered panics and
	// inspection errors; each was handled as the policy's on_error says.
	InternalErrors uint64
	// Dropped is the number of security events not yet delivered to the
	// extension (socket absent or full); it resets when one gets through.
	Dropped uint64
	// PolicyFailures counts live policy polls that failed (fetch, parse
	// or compile); each kept the active policy.
	PolicyFailures uint64
}

// Stats returns the protector's counters.
func (p *Protector) Stats() Stats {
	return Stats{
		Invocations:    p.invocations.Load(),
		Blocked:        p.blocked.Load(),
		InternalErrors: p.internalErrors.Load(),
		Dropped:        p.rep.Dropped(),
		PolicyFailures: p.policyFailures(),
	}
}

// policyFailures returns the live policy poller's failed polls.
func (p *Protector) policyFailures() uint64 {
	if p.pollFailures == nil {
		return 0
	}
	return p.pollFailures()
}

// Engine returns the protector's compiled policy.
func (p *Protector) Engine() *rules.Engine { return p.cur.Load().engine }

// New builds a Protector. Without [WithEngine] it loads the policy the
// environment selects
// ([rules.LoadEnv]: LAMBDA_RASP_POLICY_URL, LAMBDA_RASP_POLICY,
// /opt/lambda-rasp/policy.yaml, else the embedded default, then
// LAMBDA_RASP_MODE); the loader's precise error is wrapped. The first
// Protector built becomes the process-wide guard that sink guards use
// outside an invocation.
func New(opts ...Option) (*Protector, error) {
	o := options{status: 403, bodyTemplate: DefaultBlockBody, getenv: os.Getenv}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.logger == nil {
		o.logger = zap.NewNop()
	}
	if o.function == "" {
		o.function = o.getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	eng := o.engine
	if eng == nil {
		var err error
		eng, err = rules.LoadEnv(context.Background(), o.getenv)
		if err != nil {
			return nil, fmt.Errorf("lambda-rasp: policy: %w", err)
		}
		o.logger.Info("policy loaded", zap.String("source", eng.Policy().Origin), zap.String("version", eng.Version()), zap.String("mode", eng.Mode().String()))
	}
	path := o.socket
	if path == "" {
		path = wire.SocketPath(o.getenv)
	}
	p := &Protector{
		rep:          newReporter(path, o.securityLog),
		log:          o.logger,
		parse:        adapter.Parse,
		partialBatch: o.partialBatch,
		status:       o.status,
		bodyTemplate: o.bodyTemplate,
	}
	g := (&guard{out: p.rep, function: o.function, inflight: &inflight{}}).withEngine(eng)
	p.cur.Store(g)
	processGuard.CompareAndSwap(nil, g)
	if o.engine == nil {
		if err := p.startPolling(o.getenv, eng); err != nil {
			return nil, fmt.Errorf("lambda-rasp: policy: %w", err)
		}
	}
	return p, nil
}

// Close stops the live policy poller, if any, and releases the
// protector's socket. Wrapped handlers keep working with the policy
// active when it was called.
func (p *Protector) Close() error {
	if p.stopPoll != nil {
		p.stopPoll()
	}
	return p.rep.Close()
}

// Wrap protects h: each event is inspected before h runs, blocked events
// get a response in their source's shape (or a [*BlockedError]), and h
// receives a context carrying the [Invocation]. h's own errors and panics
// pass through untouched.
//
// The returned handler's Invoke returns bytes that belong to the caller
// alone, even for a handler built by lambda.NewHandler (whose own Invoke
// returns a pooled buffer another invocation may already be reusing), so
// it is safe to invoke concurrently, as Lambda Managed Instances do. It
// answers with bytes: a streaming response is read to the end first. Use
// [Start] to keep streams streaming.
func (p *Protector) Wrap(h lambda.Handler) lambda.Handler {
	return p.wrap(h)
}

// wrap builds the wrapped handler around h.
func (p *Protector) wrap(h lambda.Handler) *handler {
	w := &handler{p: p, next: h}
	if fn, lib := respondPath(h); lib {
		w.call = fn
		if fn == nil {
			p.log.Warn("aws-lambda-go's handler function not found: invocations of this handler run one at a time")
			w.call = serialized(h)
		}
	}
	return w
}

// Wrap protects h with a [Protector] built from opts. It works at
// aws-lambda-go's byte-level seam, so any handler signature can be
// wrapped: rasp.Wrap(lambda.NewHandler(fn)).
//
// Wrap cannot return an error: when the policy is invalid, the returned
// handler fails every invocation with the loader's message. Use [New] to
// see the error at init, or [Start], which exits init with it.
func Wrap(h lambda.Handler, opts ...Option) lambda.Handler {
	p, err := New(opts...)
	if err != nil {
		return errorHandler{err: err}
	}
	return p.Wrap(h)
}

// WrapFunc is [Wrap] for a typed handler function, checked at compile
// time.
func WrapFunc[TIn, TOut any](fn func(context.Context, TIn) (TOut, error), opts ...Option) lambda.Handler {
	return Wrap(lambda.NewHandler(fn), opts...)
}

// Start wraps handler (any signature lambda.Start accepts) and starts the
// Lambda runtime loop; it does not return. Before the loop starts it
// installs the egress guard in http.DefaultTransport and
// http.DefaultClient ([Protect]) unless [WithDefaultTransport](false) is
// given. An invalid policy is written to stderr and the process exits
// with status 1 during init, so Lambda reports an init error and a
// deployment fails loudly.
//
// A handler whose response can be a reader (an io.Reader, a Function URL
// or API Gateway streaming response, an interface type) keeps it: the
// runtime loop streams it and posts its content type, as without the
// wrapper. Such handlers cost one more pass over the event, made by
// aws-lambda-go to hand the wrapper the payload.
func Start(handler any, opts ...Option) {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	if !o.keepDefaultTransport {
		Protect()
	}
	p, err := New(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	lambda.Start(p.entry(handler))
}

// entry is what [Start] gives lambda.Start for handler: the wrapped
// handler itself (its Invoke returns bytes of its own) or, for a handler
// that may answer with a reader, a function returning the reader, which
// the runtime loop posts as it is and closes afterwards.
func (p *Protector) entry(handler any) any {
	h := p.wrap(lambda.NewHandler(handler))
	may, httpStream := mayStream(handler)
	if !may {
		return h
	}
	h.httpStream = httpStream
	return h.stream
}

// errorHandler fails every invocation with err.
type errorHandler struct{ err error }

func (h errorHandler) Invoke(context.Context, []byte) ([]byte, error) { return nil, h.err }

// handler is a wrapped lambda.Handler.
type handler struct {
	p    *Protector
	next lambda.Handler
	// call is next's reader-returning function when next was built by
	// lambda.NewHandler; nil for other handlers, whose Invoke is called.
	call respondFunc
	// httpStream is set when next answers HTTP requests with response
	// streams: a block response is then a stream too.
	httpStream bool
}

// Invoke inspects payload, then blocks or calls the wrapped handler. The
// bytes returned are the caller's alone.
func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	restoreRuntimeAPI() // the runtime client has its alias by now
	if h.call == nil {
		// Neither next's response nor a block response is shared.
		return h.invokeBytes(ctx, payload)
	}
	r, inv, err := h.respond(ctx, payload)
	defer h.p.end(inv)
	if err != nil {
		return nil, err
	}
	return ownBytes(r)
}

// stream is the function [Start] hands to lambda.Start for handlers that
// may answer with a reader: the response reaches the runtime loop as the
// handler returned it.
func (h *handler) stream(ctx context.Context, ev rawEvent) (io.Reader, error) {
	restoreRuntimeAPI() // the runtime client has its alias by now
	r, inv, err := h.respond(ctx, ev)
	if err != nil {
		h.p.end(inv)
		return nil, err
	}
	// A streaming handler may go on writing its body after it returned:
	// the invocation stays in flight until the runtime loop closes the
	// response.
	return &passedOn{r: r, done: func() { h.p.end(inv) }}, nil
}

// invokeBytes is Invoke for a next that returns bytes of its own.
func (h *handler) invokeBytes(ctx context.Context, payload []byte) ([]byte, error) {
	p := h.p
	g := p.cur.Load() // the one policy this invocation sees
	if g.engine.Mode() == rules.ModeOff {
		return h.next.Invoke(ctx, payload)
	}
	inv, ev := p.begin(ctx, g, payload)
	defer p.end(inv)
	if !inv.Decision.Blocked() {
		return h.next.Invoke(newContext(ctx, inv), payload)
	}
	p.blocked.Add(1)
	return p.block(ctx, h.next, payload, ev, inv)
}

// respond inspects payload, then calls next or answers in its place. The
// response is the caller's to read and then close (when an io.Closer);
// the caller ends inv (nil when protection is off) once next is done
// with it ([Protector.end]).
func (h *handler) respond(ctx context.Context, payload []byte) (io.Reader, *Invocation, error) {
	p := h.p
	g := p.cur.Load() // the one policy this invocation sees
	if g.engine.Mode() == rules.ModeOff {
		r, err := h.call(ctx, payload)
		return r, nil, err
	}
	inv, ev := p.begin(ctx, g, payload)
	if !inv.Decision.Blocked() {
		r, err := h.call(newContext(ctx, inv), payload)
		return r, inv, err
	}
	p.blocked.Add(1)
	if h.httpStream && ev != nil && isHTTP(ev.Source) {
		return p.streamResponse(inv.RequestID), inv, nil
	}
	b, err := p.block(ctx, ownedNext{h}, payload, ev, inv)
	if err != nil {
		return nil, inv, err
	}
	return newJSONResponse(b), inv, nil
}

// ownedNext is next seen through its reader-returning function, with
// bytes of its own: what a partial batch response is merged into.
type ownedNext struct{ h *handler }

// Invoke calls next and reads its response into bytes of its own.
func (o ownedNext) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r, err := o.h.call(ctx, payload)
	if err != nil {
		return nil, err
	}
	return ownBytes(r)
}

// begin counts and inspects an invocation with g's policy and reports the
// decision.
func (p *Protector) begin(ctx context.Context, g *guard, payload []byte) (*Invocation, *adapter.Event) {
	p.invocations.Add(1)
	inv := &Invocation{g: g}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		inv.RequestID, inv.TenantID = lc.AwsRequestID, lc.TenantID
	}
	ev := p.inspect(ctx, payload, inv)
	p.report(inv)
	g.inflight.add(inv)
	return inv, ev
}

// end takes inv (nil: none) out of the invocations in flight.
func (p *Protector) end(inv *Invocation) {
	if inv != nil {
		inv.g.inflight.remove(inv)
	}
}

// inspect runs the adapter and the engine, filling inv. Its own panics
// (adapter, engine) are recovered and handled as on_error says; it
// returns nil when the event could not be parsed.
func (p *Protector) inspect(ctx context.Context, payload []byte, inv *Invocation) (ev *adapter.Event) {
	defer func() {
		if r := recover(); r != nil {
			p.internalError(inv, fmt.Errorf("%w: %v", errPanic, r))
			ev = nil
		}
	}()
	start := time.Now()
	ev, err := p.parse(payload, inv.g.lim)
	if err != nil {
		p.internalError(inv, err)
		return nil
	}
	inv.EventSource = ev.Source
	inv.Route = ev.Request.Route
	inv.Inputs = ev.Request.Fields
	inv.Decision = inv.g.engine.Inspect(ctx, &ev.Request)
	// The input guard's time is the adapter's plus the engine's.
	inv.Decision.Elapsed = time.Since(start)
	if inv.Decision.Err != nil {
		p.internalErrors.Add(1)
	}
	return ev
}

// internalError records an inspection that could not run: the decision
// is the policy's on_error.
func (p *Protector) internalError(inv *Invocation, err error) {
	p.internalErrors.Add(1)
	why := incompleteReason(err)
	inv.Decision = rules.Decision{Action: inv.g.engine.OnErrorFor(why), Truncated: true, Err: err, Incomplete: why}
	p.log.Warn("inspection error", zap.Error(err), zap.String("request_id", inv.RequestID), zap.String("tenant_id", inv.TenantID))
}

// report emits the inspection event and one detection per match.
func (p *Protector) report(inv *Invocation) {
	g, d := inv.g, &inv.Decision
	ver := g.engine.Version()
	e := wire.Event{
		Kind:          wire.KindInspection,
		Function:      g.function,
		RequestID:     inv.RequestID,
		TenantID:      inv.TenantID,
		EventSource:   inv.EventSource,
		Action:        d.Action.String(),
		PolicyVersion: ver,
		DurationNS:    int64(d.Elapsed),
		Matches:       len(d.Matches),
		Truncated:     d.Truncated,
	}
	if d.Err != nil {
		e.Reason = reason(d.Err)
	}
	g.out.Emit(&e)
	for i := range d.Matches {
		m := &d.Matches[i]
		g.out.Emit(&wire.Event{
			Kind:          wire.KindDetection,
			Function:      g.function,
			RequestID:     inv.RequestID,
			TenantID:      inv.TenantID,
			EventSource:   inv.EventSource,
			Action:        m.Action.String(),
			RuleID:        m.RuleID,
			Category:      m.Category,
			Source:        m.Source.String(),
			Path:          m.Path,
			Excerpt:       m.Excerpt,
			PolicyVersion: ver,
		})
	}
}

// incompleteReason is the on_error reason of an inspection that could
// not run: malformed for an event the adapter could not decode, panic for
// a recovered panic, else as the engine says.
func incompleteReason(err error) string {
	switch {
	case errors.Is(err, adapter.ErrMalformed):
		return policy.ReasonMalformed
	case errors.Is(err, errPanic):
		return policy.ReasonPanic
	}
	return rules.IncompleteReason(err)
}

// reason is a short, payload-free description of an inspection error.
func reason(err error) string {
	var pe *rules.PanicError
	switch {
	case errors.As(err, &pe), errors.Is(err, errPanic):
		return wire.ReasonPanic
	case errors.Is(err, adapter.ErrMalformed):
		return wire.ReasonMalformed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return wire.ReasonCancelled
	}
	return wire.ReasonError
}
