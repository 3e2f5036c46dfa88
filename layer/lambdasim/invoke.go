package lambdasim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"time"
)

// ErrorTypeUnavailable is the error type of an invoke refused in
// managed-instances mode because no runtime worker was waiting for one
// (status 400, like AWS's emulator): callers retry it.
const ErrorTypeUnavailable = "Runtime.Unavailable"

// Result is the outcome of one invoke as the caller sees it.
type Result struct {
	// StatusCode is the HTTP status of the invoke endpoint: 200 for a
	// response or a function error, 502 when the runtime or Init failed,
	// 400 for an invoke refused with ErrorTypeUnavailable.
	StatusCode int
	// Body is the function's response, or the error JSON
	// {"errorMessage","errorType"[,"stackTrace"]}. It is empty when the
	// response is in Stream.
	Body []byte
	// Stream is the function's response as the runtime posts it, when the
	// invoke asked for a stream (InvokeOptions.Stream) and the runtime
	// posted a response; the caller reads it to the end or closes it. An
	// error the runtime reports midway (aws-lambda-go sends it in HTTP
	// trailers) ends it with a *StreamError.
	Stream io.ReadCloser
	// ContentType is the content type the runtime posted its response
	// with ("application/vnd.awslambda.http-integration-response" for
	// Function URL and API Gateway streams), else empty.
	ContentType string
	// FunctionError is "Unhandled" when the function failed (the
	// X-Amz-Function-Error header), else empty.
	FunctionError string
	// ErrorType is the error's type (e.g. "Runtime.ExitError"), else empty.
	ErrorType string
	// RequestID is the invocation's request id.
	RequestID string
	// Duration is the time from the invoke to the response being available.
	Duration time.Duration
	// LogResult is the base64 of the last 4 KB of the function's output
	// during the invoke when InvokeOptions.LogTail was set (the
	// X-Amz-Log-Result header), else empty.
	LogResult string
}

// StreamError ends a Result.Stream whose function failed after it began
// to respond.
type StreamError struct {
	// Type is the error type the runtime reported.
	Type string
	// Body is the error JSON the runtime reported, if any.
	Body []byte
}

func (e *StreamError) Error() string { return "function error in a response stream: " + e.Type }

// InvokeOptions carries optional invoke request metadata.
type InvokeOptions struct {
	// ClientContext is the decoded client context JSON, passed to the
	// runtime as Lambda-Runtime-Client-Context.
	ClientContext string
	// CognitoIdentity is passed as Lambda-Runtime-Cognito-Identity.
	CognitoIdentity string
	// TraceID is an X-Ray trace header; one is generated when empty.
	TraceID string
	// TenantID is the tenant of a function in tenant isolation mode,
	// passed to the runtime as Lambda-Runtime-Aws-Tenant-Id.
	TenantID string
	// LogTail asks for the last 4 KB of the function's output during the
	// invoke in Result.LogResult (X-Amz-Log-Type: Tail). Classic mode only.
	LogTail bool
	// Stream asks for the response as a stream (InvokeWithResponseStream):
	// Result.Stream delivers what the runtime posts as it arrives.
	Stream bool
}

// Invoke sends payload to the function and returns its result. It starts
// the environment if needed (a cold start). The response is returned as
// soon as the runtime posts it; the invoke phase goes on in the background
// until the runtime and every INVOKE-registered extension called next
// again, and the next classic invoke waits for it.
func (s *Sim) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	return s.InvokeWithOptions(ctx, payload, InvokeOptions{})
}

// InvokeWithOptions is Invoke with request metadata.
func (s *Sim) InvokeWithOptions(ctx context.Context, payload []byte, opts InvokeOptions) (*Result, error) {
	if len(payload) > MaxPayloadBytes {
		return errorResult(413, "RequestEntityTooLarge", fmt.Sprintf("request payload of %d bytes exceeds the %d byte limit", len(payload), MaxPayloadBytes), ""), nil
	}
	if s.cfg.ManagedInstances {
		return s.invokeManaged(ctx, payload, opts)
	}
	if err := s.lockPhase(ctx); err != nil {
		return nil, err
	}
	sb, err := s.ensureSandbox(ctx)
	if err != nil {
		s.phase.Unlock()
		return initResult(err)
	}
	return s.startInvoke(ctx, sb, payload, opts, s.phase.Unlock)
}

// startInvoke runs the invoke in the background (its phase may outlive
// the response) and returns its result; release runs when the phase ends.
func (s *Sim) startInvoke(ctx context.Context, sb *sandbox, payload []byte, opts InvokeOptions, release func()) (*Result, error) {
	resCh := make(chan *Result, 1)
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		defer release()
		s.runInvoke(sb, payload, opts, resCh)
	}()
	select {
	case r := <-resCh:
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lockPhase takes s.phase for writing unless ctx ends first (the previous
// invoke phase may last up to the function timeout).
func (s *Sim) lockPhase(ctx context.Context) error {
	got := make(chan struct{})
	go func() {
		s.phase.Lock()
		close(got)
	}()
	select {
	case <-got:
		return nil
	case <-ctx.Done():
		go func() {
			<-got
			s.phase.Unlock()
		}()
		return ctx.Err()
	}
}

// invokeManaged runs a managed-instances invoke: invokes share the phase,
// and Init runs (exclusively) when no ready environment exists.
func (s *Sim) invokeManaged(ctx context.Context, payload []byte, opts InvokeOptions) (*Result, error) {
	for {
		s.phase.RLock()
		s.mu.Lock()
		sb, closed := s.current, s.closed
		s.mu.Unlock()
		if closed {
			s.phase.RUnlock()
			return nil, ErrClosed
		}
		if sb != nil && !sb.isBroken() {
			return s.startInvoke(ctx, sb, payload, opts, s.phase.RUnlock)
		}
		s.phase.RUnlock()
		s.phase.Lock()
		_, err := s.ensureSandbox(ctx)
		s.phase.Unlock()
		if err != nil {
			return initResult(err)
		}
	}
}

// initResult turns an Init failure into the 502 the invoke endpoint returns.
func initResult(err error) (*Result, error) {
	var ie *InitError
	if errors.As(err, &ie) {
		return errorResult(http.StatusBadGateway, ie.Type, ie.Message, newUUID()), nil
	}
	return nil, err
}

func errorResult(status int, typ, msg, id string) *Result {
	body, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": typ}) // strings always marshal
	r := &Result{StatusCode: status, Body: body, ErrorType: typ, RequestID: id}
	if status == http.StatusOK {
		r.FunctionError = "Unhandled"
	}
	return r
}

// unavailableResult is the answer to an invoke no runtime worker waited
// for, as AWS's emulator gives it.
func unavailableResult() *Result {
	return &Result{StatusCode: http.StatusBadRequest, Body: []byte(`{"errorType":"` + ErrorTypeUnavailable + `"}`), ErrorType: ErrorTypeUnavailable}
}

// Outcomes of waiting for the runtime's result, besides a result.
const (
	outcomeExit     = "exit"
	outcomeTimeout  = "timeout"
	outcomeShutdown = "shutdown"
)

// invokeRun is the state of one invoke phase as runInvoke's steps see it.
type invokeRun struct {
	sb       *sandbox
	inv      *invocation
	opts     InvokeOptions
	rt       *process
	cold     bool
	deadline context.Context
	tracing  map[string]any
	acks     []*extension // extensions sent INVOKE
	dels     []*delivery  // their deliveries, in the same order
	rr       runtimeResult
	status   string // success, error, timeout or failure
	errType  string
}

// runInvoke drives one invocation through sb; the result goes to resCh as
// soon as it is known, and the function returns when the invoke phase
// ends.
func (s *Sim) runInvoke(sb *sandbox, payload []byte, opts InvokeOptions, resCh chan<- *Result) {
	inv := s.newInvocation(payload, opts)
	run := &invokeRun{sb: sb, inv: inv, opts: opts, status: "success"}
	run.cold = sb.track(inv)
	defer sb.untrack(inv)
	if s.cfg.ManagedInstances && !sb.offer(inv) {
		sb.log(Event{Kind: EventInvokeRefused, RequestID: inv.id, Detail: ErrorTypeUnavailable})
		resCh <- unavailableResult()
		return
	}
	var cancel context.CancelFunc
	run.deadline, cancel = context.WithDeadline(context.Background(), inv.deadline)
	defer cancel()
	sb.mu.Lock()
	run.rt = sb.runtime
	sb.mu.Unlock()

	s.beginInvoke(run)
	s.sendInvokeEvents(run)
	outcome := s.awaitResult(run)
	resCh <- s.result(run, outcome)
	s.emitRuntimeDone(run)
	s.awaitPhaseEnd(run)
	s.endInvoke(run)
}

// newInvocation builds the invocation of payload.
func (s *Sim) newInvocation(payload []byte, opts InvokeOptions) *invocation {
	start := time.Now()
	inv := &invocation{
		id:            newUUID(),
		payload:       payload,
		deadline:      start.Add(s.cfg.Timeout),
		traceID:       opts.TraceID,
		clientContext: opts.ClientContext,
		cognito:       opts.CognitoIdentity,
		tenantID:      opts.TenantID,
		streaming:     opts.Stream,
		start:         start,
		released:      make(chan struct{}),
		result:        make(chan runtimeResult, 1),
		streamDone:    make(chan struct{}),
	}
	if inv.traceID == "" {
		inv.traceID = newTraceID(start)
	}
	return inv
}

// beginInvoke thaws the environment and records the invoke's start.
func (s *Sim) beginInvoke(run *invokeRun) {
	sb, inv := run.sb, run.inv
	sb.thaw()
	if !s.cfg.ManagedInstances {
		sb.mu.Lock()
		sb.logTo = inv
		sb.mu.Unlock()
		sb.appendLog("START RequestId: " + inv.id + " Version: $LATEST")
	}
	sb.log(Event{Kind: EventInvokeStart, RequestID: inv.id})
	run.tracing = map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.traceID}
	sb.emit("platform.start", map[string]any{"requestId": inv.id, "version": "$LATEST", "tracing": run.tracing})
}

// sendInvokeEvents sends INVOKE to the extensions registered for it; they
// go out with the request to the runtime.
func (s *Sim) sendInvokeEvents(run *invokeRun) {
	sb, inv := run.sb, run.inv
	body, _ := json.Marshal(map[string]any{ // strings, ints and a map of strings always marshal
		"eventType":          eventInvoke,
		"deadlineMs":         inv.deadline.UnixMilli(),
		"requestId":          inv.id,
		"invokedFunctionArn": s.functionARN(),
		"tracing":            run.tracing,
	})
	for _, ext := range sb.extensions() {
		if ext.subscribed(eventInvoke) {
			run.dels = append(run.dels, ext.push(eventInvoke, body))
			run.acks = append(run.acks, ext)
			sb.log(Event{Kind: EventExtensionEvent, Name: ext.name, RequestID: inv.id, Detail: eventInvoke})
		}
	}
}

// awaitResult hands the invocation to the runtime (classic mode: waits
// for it to call next; managed mode: offer already did) and waits for its
// result. It returns "" with run.rr set, or the outcome that came first.
func (s *Sim) awaitResult(run *invokeRun) string {
	sb, inv, rt := run.sb, run.inv, run.rt
	if !s.cfg.ManagedInstances {
		select {
		case sb.queue <- inv:
		case <-rt.exited:
		case <-run.deadline.Done():
		case <-sb.dead:
		}
	}
	outcome := ""
	select {
	case run.rr = <-inv.result:
	case <-rt.exited:
		outcome = outcomeExit
	case <-run.deadline.Done():
		outcome = outcomeTimeout
	case <-sb.dead:
		outcome = outcomeShutdown
	}
	if outcome != "" {
		// A response posted just before the runtime exited still counts.
		select {
		case run.rr = <-inv.result:
			outcome = ""
		default:
		}
	}
	return outcome
}

// result is the caller's Result for outcome; it sets the phase's status.
func (s *Sim) result(run *invokeRun, outcome string) *Result {
	inv, rr, start := run.inv, run.rr, run.inv.start
	var res *Result
	switch outcome {
	case "":
		res = &Result{StatusCode: http.StatusOK, Body: rr.body, Stream: rr.stream, ContentType: rr.contentType, RequestID: inv.id, Duration: rr.at.Sub(start)}
		if rr.errorType != "" {
			run.status, run.errType = "error", rr.errorType
			res.FunctionError, res.ErrorType = "Unhandled", rr.errorType
		}
	case outcomeExit:
		run.status, run.errType = "failure", "Runtime.ExitError"
		res = errorResult(http.StatusBadGateway, run.errType, fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", inv.id, run.rt.exitStatus()), inv.id)
	case outcomeTimeout:
		run.status, run.errType = "timeout", "Sandbox.Timedout"
		res = errorResult(http.StatusOK, run.errType, fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, s.cfg.Timeout.Seconds()), inv.id)
	default:
		run.status, run.errType = "failure", "Runtime.ExitError"
		res = errorResult(http.StatusBadGateway, run.errType, fmt.Sprintf("RequestId: %s Error: the execution environment was shut down", inv.id), inv.id)
	}
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	run.rt.syncOutput()
	if run.opts.LogTail && !s.cfg.ManagedInstances {
		sb := run.sb
		sb.mu.Lock()
		tail := inv.logTail[max(0, len(inv.logTail)-maxLogTail):]
		res.LogResult = base64.StdEncoding.EncodeToString(tail)
		sb.mu.Unlock()
	}
	if run.rr.at.IsZero() {
		run.rr.at = time.Now()
	}
	return res
}

// emitRuntimeDone sends platform.runtimeDone (classic mode only).
func (s *Sim) emitRuntimeDone(run *invokeRun) {
	if s.cfg.ManagedInstances {
		return
	}
	inv, rr, start := run.inv, run.rr, run.inv.start
	rd := map[string]any{
		"requestId": inv.id, "status": run.status,
		"metrics": map[string]any{"durationMs": ms(rr.at.Sub(start)), "producedBytes": len(rr.body)},
		"spans": []map[string]any{
			{"name": "responseLatency", "start": isoTime(start), "durationMs": ms(rr.at.Sub(start))},
			{"name": "responseDuration", "start": isoTime(rr.at), "durationMs": 0.0},
		},
		"tracing": run.tracing,
	}
	if run.errType != "" {
		rd["errorType"] = run.errType
	}
	run.sb.emit("platform.runtimeDone", rd)
}

// awaitPhaseEnd waits for the end of the invoke phase: a streamed
// response posted to the end, the runtime (classic mode: its one worker)
// and every INVOKE extension calling next again. An extension that exits
// or reports exit/error meanwhile fails it.
func (s *Sim) awaitPhaseEnd(run *invokeRun) {
	failed := make(chan *extension, len(run.acks))
	stop := make(chan struct{})
	defer close(stop)
	for _, e := range run.acks {
		go func() {
			select {
			case <-e.exited():
				failed <- e
			case <-e.errored:
				failed <- e
			case <-stop:
			}
		}()
	}
	if !run.ok() {
		return
	}
	s.awaitStream(run)
	if run.ok() && !s.cfg.ManagedInstances {
		s.awaitRuntimeNext(run, failed)
	}
	if run.ok() {
		s.awaitExtensions(run, failed)
	}
}

// ok reports whether the phase has not failed or timed out so far.
func (run *invokeRun) ok() bool { return run.status == "success" || run.status == "error" }

// extFailure sets the status for extension e's failure.
func (run *invokeRun) extFailure(e *extension) {
	run.status, run.errType = "failure", "Extension.Crash"
	if t := e.reportedError(); t != "" {
		run.errType = t
	}
}

// awaitStream waits until a streamed response is posted to the end.
func (s *Sim) awaitStream(run *invokeRun) {
	if run.rr.stream == nil {
		return
	}
	select {
	case <-run.inv.streamDone:
	case <-run.rt.exited:
		run.status, run.errType = "failure", "Runtime.ExitError"
	case <-run.deadline.Done():
		run.status, run.errType = "timeout", "Sandbox.Timedout"
	case <-run.sb.dead:
	}
}

// awaitRuntimeNext waits for the runtime's one worker to call next again
// (classic mode).
func (s *Sim) awaitRuntimeNext(run *invokeRun, failed <-chan *extension) {
	select {
	case <-run.inv.released:
	case <-run.rt.exited:
		run.status, run.errType = "failure", "Runtime.ExitError"
	case e := <-failed:
		run.extFailure(e)
	case <-run.deadline.Done():
		run.status, run.errType = "timeout", "Sandbox.Timedout"
	case <-run.sb.dead:
	}
}

// awaitExtensions waits for every INVOKE extension to call next again.
func (s *Sim) awaitExtensions(run *invokeRun, failed <-chan *extension) {
	for i, d := range run.dels {
		select {
		case <-d.done:
			run.sb.log(Event{Kind: EventExtensionNext, Name: run.acks[i].name, RequestID: run.inv.id})
		case e := <-failed:
			run.extFailure(e)
			return
		case <-run.deadline.Done():
			run.status, run.errType = "timeout", "Sandbox.Timedout"
			return
		case <-run.sb.dead:
			return
		}
	}
}

// endInvoke reports the invoke phase and freezes or resets the
// environment as its status requires.
func (s *Sim) endInvoke(run *invokeRun) {
	sb, inv := run.sb, run.inv
	sb.mu.Lock()
	if sb.logTo == inv {
		sb.logTo = nil
	}
	sb.mu.Unlock()
	s.report(run, time.Now())
	sb.log(Event{Kind: EventInvokeEnd, RequestID: inv.id, Detail: run.status})

	switch run.status {
	case "success", "error":
		sb.freeze()
	case "timeout":
		if !s.cfg.ManagedInstances {
			s.reset(sb, ReasonTimeout)
		}
	case "failure":
		sb.markBroken(run.errType)
		if !s.cfg.ManagedInstances {
			s.reset(sb, ReasonFailure)
		}
	}
}

// report sends platform.report for the invoke phase ending at end.
func (s *Sim) report(run *invokeRun, end time.Time) {
	sb, inv := run.sb, run.inv
	d := end.Sub(inv.start)
	metrics := map[string]any{"durationMs": ms(d)}
	if !s.cfg.ManagedInstances {
		metrics["billedDurationMs"] = int64(math.Ceil(ms(d)))
		metrics["memorySizeMB"] = s.cfg.MemoryMB
		metrics["maxMemoryUsedMB"] = sb.maxMemoryMB()
		if run.cold {
			metrics["initDurationMs"] = ms(sb.initDuration)
		}
	}
	rec := map[string]any{
		"requestId": inv.id, "status": run.status, "metrics": metrics,
		"tracing": map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.traceID},
		"spans":   []map[string]any{{"name": "invocation", "start": isoTime(inv.start), "durationMs": ms(d)}},
	}
	if run.errType != "" {
		rec["errorType"] = run.errType
	}
	sb.emit("platform.report", rec)
}
