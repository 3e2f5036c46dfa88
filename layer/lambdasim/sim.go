package lambdasim

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Sim is a local Lambda execution environment. Create it with New, call
// Start (or just Invoke, which initialises lazily like a cold start) and
// Shutdown when done. A Sim is safe for concurrent use.
type Sim struct {
	cfg       Config
	bootstrap string // absolute path
	out       outputs
	events    eventLog

	apiLn, invokeLn   net.Listener
	apiSrv, invokeSrv *http.Server
	serveWG           sync.WaitGroup
	bgWG              sync.WaitGroup // invoke phases that outlive their response

	// phase serialises Init, classic invokes, resets and Shutdown; managed
	// invokes share it for reading.
	phase sync.RWMutex

	// testOnlyNoDelivery makes telemetry subscribers drop batches instead of
	// sending them (handler fuzzing must not dial arbitrary local ports).
	testOnlyNoDelivery bool

	mu      sync.Mutex
	current *sandbox
	gen     int
	closed  bool
}

// New validates cfg and binds the two loopback listeners. It starts no
// process; see Start.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap: %w", ErrInvalidConfig, err)
	}
	s := &Sim{cfg: cfg, bootstrap: abs, out: outputs{stdout: cfg.Stdout, stderr: cfg.Stderr, mu: &sync.Mutex{}}}
	s.events.hook = cfg.OnEvent
	s.apiLn, err = net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("listen runtime api: %w", err)
	}
	s.invokeLn, err = net.Listen("tcp", cfg.InvokeAddr)
	if err != nil {
		_ = s.apiLn.Close() // already failing; the listen error is the one to report
		return nil, fmt.Errorf("listen invoke endpoint: %w", err)
	}
	s.apiSrv = &http.Server{Handler: s.apiHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.invokeSrv = &http.Server{Handler: s.invokeHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.serveWG.Add(2)
	go func() { defer s.serveWG.Done(); _ = s.apiSrv.Serve(s.apiLn) }()       // returns ErrServerClosed on Shutdown
	go func() { defer s.serveWG.Done(); _ = s.invokeSrv.Serve(s.invokeLn) }() // returns ErrServerClosed on Shutdown
	return s, nil
}

// RuntimeAPI returns the host:port exported to children as AWS_LAMBDA_RUNTIME_API.
func (s *Sim) RuntimeAPI() string { return s.apiLn.Addr().String() }

// InvokeURL returns the URL of the invoke endpoint
// (POST /2015-03-31/functions/function/invocations).
func (s *Sim) InvokeURL() string {
	return "http://" + s.invokeLn.Addr().String() + "/2015-03-31/functions/function/invocations"
}

// Events returns a copy of the lifecycle log.
func (s *Sim) Events() []Event { return s.events.snapshot() }

// Extensions describes the extensions of the current environment, in
// launch and registration order; it is empty when no environment exists.
func (s *Sim) Extensions() []ExtensionInfo {
	sb := s.sandbox()
	if sb == nil {
		return nil
	}
	return sb.extensionInfos()
}

// Start runs the Init phase. It returns an *InitError when an extension or
// the runtime fails to initialise; the next Invoke then retries Init. ctx is
// checked before Init begins; Init itself is bounded by Config.InitTimeout,
// as on the service, where a caller going away does not stop an Init.
func (s *Sim) Start(ctx context.Context) error {
	s.phase.Lock()
	defer s.phase.Unlock()
	_, err := s.ensureSandbox(ctx)
	return err
}

// ensureSandbox returns the ready environment, resetting a broken one and
// initialising a new one if needed. The caller holds s.phase for writing.
func (s *Sim) ensureSandbox(ctx context.Context) (*sandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	sb := s.current
	s.mu.Unlock()
	if sb != nil && sb.isBroken() {
		s.reset(sb, ReasonFailure)
		sb = nil
	}
	if sb != nil {
		return sb, nil
	}
	s.mu.Lock()
	s.gen++
	sb = newSandbox(s, s.gen)
	s.current = sb
	s.mu.Unlock()
	if err := sb.initialize(); err != nil {
		s.mu.Lock()
		if s.current == sb {
			s.current = nil
		}
		s.mu.Unlock()
		return nil, err
	}
	return sb, nil
}

// reset shuts sb down with reason; the next invoke initialises a new
// environment. sb stays current while it shuts down so that its extensions
// can still fetch their SHUTDOWN event.
func (s *Sim) reset(sb *sandbox, reason string) {
	sb.shutdown(reason, s.cfg.ShutdownBudget)
	s.mu.Lock()
	if s.current == sb {
		s.current = nil
	}
	s.mu.Unlock()
}

// Shutdown runs the Shutdown phase with reason (ReasonSpindown if empty),
// waits for in-flight invokes, closes the listeners and stops every child.
// Later calls return ErrClosed.
func (s *Sim) Shutdown(ctx context.Context, reason string) error {
	if reason == "" {
		reason = ReasonSpindown
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()

	locked := make(chan struct{})
	go func() { s.phase.Lock(); close(locked) }()
	select {
	case <-locked:
	case <-ctx.Done():
		// In-flight invokes hold the phase; their environment is torn down
		// anyway, which ends them.
	}
	s.mu.Lock()
	sb := s.current
	s.mu.Unlock()
	if sb != nil {
		s.reset(sb, reason)
	}
	<-locked
	s.phase.Unlock()
	s.bgWG.Wait()

	shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := errors.Join(s.apiSrv.Shutdown(shutCtx), s.invokeSrv.Shutdown(shutCtx))
	if err != nil {
		err = errors.Join(s.apiSrv.Close(), s.invokeSrv.Close())
	}
	s.serveWG.Wait()
	if err != nil {
		return fmt.Errorf("close listeners: %w", err)
	}
	return nil
}

// Close is Shutdown with ReasonSpindown and no deadline beyond the
// Shutdown phase's own budget.
func (s *Sim) Close() error {
	return s.Shutdown(context.Background(), ReasonSpindown)
}

func (s *Sim) initType() string {
	if s.cfg.ManagedInstances {
		return InitTypeManagedInstances
	}
	return InitTypeOnDemand
}

func (s *Sim) functionARN() string {
	return "arn:aws:lambda:" + s.cfg.Region + ":" + s.cfg.AccountID + ":function:" + s.cfg.FunctionName
}

// runtimeOnly lists variables extensions do not get.
var runtimeOnly = map[string]bool{
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true,
	"AWS_XRAY_CONTEXT_MISSING": true, "AWS_XRAY_DAEMON_ADDRESS": true, "LAMBDA_RUNTIME_DIR": true,
	"LAMBDA_TASK_ROOT": true, "_AWS_XRAY_DAEMON_ADDRESS": true, "_AWS_XRAY_DAEMON_PORT": true,
	"_HANDLER": true, "AWS_LAMBDA_MAX_CONCURRENCY": true,
}

// environment builds a child's environment: customer variables, then the
// reserved ones (which win). Extensions do not get the runtime-only ones.
func (s *Sim) environment(runtime bool) []string {
	env := map[string]string{}
	for k, v := range s.cfg.Env {
		env[k] = v
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	defaults := map[string]string{
		"PATH":            path + ":/opt/bin",
		"LANG":            "en_US.UTF-8",
		"TZ":              ":UTC",
		"LD_LIBRARY_PATH": "/lib64:/usr/lib64:/opt/lib",
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	taskRoot := filepath.Dir(s.bootstrap)
	reserved := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          s.RuntimeAPI(),
		"AWS_LAMBDA_FUNCTION_NAME":        s.cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(s.cfg.MemoryMB),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  s.initType(),
		"AWS_REGION":                      s.cfg.Region,
		"AWS_DEFAULT_REGION":              s.cfg.Region,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + s.cfg.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_XRAY_CONTEXT_MISSING":        "LOG_ERROR",
		"AWS_XRAY_DAEMON_ADDRESS":         "169.254.79.129:2000",
		"_AWS_XRAY_DAEMON_ADDRESS":        "169.254.79.129",
		"_AWS_XRAY_DAEMON_PORT":           "2000",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"_HANDLER":                        s.cfg.Handler,
	}
	if s.cfg.ManagedInstances {
		reserved["AWS_LAMBDA_MAX_CONCURRENCY"] = strconv.Itoa(s.cfg.MaxConcurrency)
	}
	for k, v := range reserved {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		if !runtime && runtimeOnly[k] {
			continue
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Result is the outcome of one invoke as the caller sees it.
type Result struct {
	// StatusCode is the HTTP status of the invoke endpoint: 200 for a
	// response or a function error, 502 when the runtime or Init failed.
	StatusCode int
	// Body is the function's response, or the error JSON
	// {"errorMessage","errorType"[,"stackTrace"]}.
	Body []byte
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

// InvokeOptions carries optional invoke request metadata.
type InvokeOptions struct {
	// ClientContext is the decoded client context JSON, passed to the
	// runtime as Lambda-Runtime-Client-Context.
	ClientContext string
	// CognitoIdentity is passed as Lambda-Runtime-Cognito-Identity.
	CognitoIdentity string
	// TraceID is an X-Ray trace header; one is generated when empty.
	TraceID string
	// LogTail asks for the last 4 KB of the function's output during the
	// invoke in Result.LogResult (X-Amz-Log-Type: Tail). Classic mode only.
	LogTail bool
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
	resCh := make(chan *Result, 1)
	s.bgWG.Add(1)
	go func() {
		defer s.bgWG.Done()
		defer s.phase.Unlock()
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
			resCh := make(chan *Result, 1)
			s.bgWG.Add(1)
			go func() {
				defer s.bgWG.Done()
				defer s.phase.RUnlock()
				s.runInvoke(sb, payload, opts, resCh)
			}()
			select {
			case r := <-resCh:
				return r, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
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

// runInvoke drives one invocation through sb; the result goes to resCh as
// soon as it is known, and the function returns when the invoke phase ends.
func (s *Sim) runInvoke(sb *sandbox, payload []byte, opts InvokeOptions, resCh chan<- *Result) {
	start := time.Now()
	inv := &invocation{
		id:            newUUID(),
		payload:       payload,
		deadline:      start.Add(s.cfg.Timeout),
		traceID:       opts.TraceID,
		clientContext: opts.ClientContext,
		cognito:       opts.CognitoIdentity,
		start:         start,
		released:      make(chan struct{}),
		result:        make(chan runtimeResult, 1),
	}
	if inv.traceID == "" {
		inv.traceID = newTraceID(start)
	}
	sb.mu.Lock()
	sb.inflight[inv.id] = inv
	cold := sb.coldStart
	sb.coldStart = false
	sb.mu.Unlock()
	defer func() {
		sb.mu.Lock()
		delete(sb.inflight, inv.id)
		sb.mu.Unlock()
	}()
	sb.thaw()
	if !s.cfg.ManagedInstances {
		sb.mu.Lock()
		sb.logTo = inv
		sb.mu.Unlock()
		sb.appendLog("START RequestId: " + inv.id + " Version: $LATEST")
	}
	sb.log(Event{Kind: EventInvokeStart, RequestID: inv.id})
	tracing := map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.traceID}
	sb.emit("platform.start", map[string]any{"requestId": inv.id, "version": "$LATEST", "tracing": tracing})

	// INVOKE events go out with the request to the runtime.
	body, _ := json.Marshal(map[string]any{ // strings, ints and a map of strings always marshal
		"eventType":          eventInvoke,
		"deadlineMs":         inv.deadline.UnixMilli(),
		"requestId":          inv.id,
		"invokedFunctionArn": s.functionARN(),
		"tracing":            tracing,
	})
	var acks []*extension
	var dels []*delivery
	for _, ext := range sb.extensions() {
		if ext.subscribed(eventInvoke) {
			dels = append(dels, ext.push(eventInvoke, body))
			acks = append(acks, ext)
			sb.log(Event{Kind: EventExtensionEvent, Name: ext.name, RequestID: inv.id, Detail: eventInvoke})
		}
	}

	deadline, cancel := context.WithDeadline(context.Background(), inv.deadline)
	defer cancel()
	status, errType := "success", ""
	var res *Result
	var rr runtimeResult
	sb.mu.Lock()
	rt := sb.runtime
	sb.mu.Unlock()

	select {
	case sb.queue <- inv:
	case <-rt.exited:
	case <-deadline.Done():
	case <-sb.dead:
	}
	outcome := ""
	select {
	case rr = <-inv.result:
	case <-rt.exited:
		outcome = "exit"
	case <-deadline.Done():
		outcome = "timeout"
	case <-sb.dead:
		outcome = "shutdown"
	}
	if outcome != "" {
		// A response posted just before the runtime exited still counts.
		select {
		case rr = <-inv.result:
			outcome = ""
		default:
		}
	}
	switch outcome {
	case "":
		res = &Result{StatusCode: http.StatusOK, Body: rr.body, RequestID: inv.id, Duration: rr.at.Sub(start)}
		if rr.errorType != "" {
			status, errType = "error", rr.errorType
			res.FunctionError, res.ErrorType = "Unhandled", rr.errorType
		}
	case "exit":
		status, errType = "failure", "Runtime.ExitError"
		res = errorResult(http.StatusBadGateway, errType, fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", inv.id, rt.exitStatus()), inv.id)
	case "timeout":
		status, errType = "timeout", "Sandbox.Timedout"
		res = errorResult(http.StatusOK, errType, fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.id, s.cfg.Timeout.Seconds()), inv.id)
	default:
		status, errType = "failure", "Runtime.ExitError"
		res = errorResult(http.StatusBadGateway, errType, fmt.Sprintf("RequestId: %s Error: the execution environment was shut down", inv.id), inv.id)
	}
	if res.Duration == 0 {
		res.Duration = time.Since(start)
	}
	rt.syncOutput()
	if opts.LogTail && !s.cfg.ManagedInstances {
		sb.mu.Lock()
		tail := inv.logTail[max(0, len(inv.logTail)-maxLogTail):]
		res.LogResult = base64.StdEncoding.EncodeToString(tail)
		sb.mu.Unlock()
	}
	resCh <- res
	if rr.at.IsZero() {
		rr.at = time.Now()
	}
	if !s.cfg.ManagedInstances {
		rd := map[string]any{
			"requestId": inv.id, "status": status,
			"metrics": map[string]any{"durationMs": ms(rr.at.Sub(start)), "producedBytes": len(rr.body)},
			"spans": []map[string]any{
				{"name": "responseLatency", "start": isoTime(start), "durationMs": ms(rr.at.Sub(start))},
				{"name": "responseDuration", "start": isoTime(rr.at), "durationMs": 0.0},
			},
			"tracing": tracing,
		}
		if errType != "" {
			rd["errorType"] = errType
		}
		sb.emit("platform.runtimeDone", rd)
	}

	// The invoke phase lasts until the runtime (classic mode: one worker)
	// and every INVOKE extension called next again; an extension that exits
	// or reports exit/error meanwhile fails it.
	failed := make(chan *extension, len(acks))
	stop := make(chan struct{})
	defer close(stop)
	for _, e := range acks {
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
	extFailure := func(e *extension) (string, string) {
		if t := e.reportedError(); t != "" {
			return "failure", t
		}
		return "failure", "Extension.Crash"
	}
	if (status == "success" || status == "error") && !s.cfg.ManagedInstances {
		select {
		case <-inv.released:
		case <-rt.exited:
			status, errType = "failure", "Runtime.ExitError"
		case e := <-failed:
			status, errType = extFailure(e)
		case <-deadline.Done():
			status, errType = "timeout", "Sandbox.Timedout"
		case <-sb.dead:
		}
	}
	if status == "success" || status == "error" {
	wait:
		for i, d := range dels {
			select {
			case <-d.done:
				sb.log(Event{Kind: EventExtensionNext, Name: acks[i].name, RequestID: inv.id})
			case e := <-failed:
				status, errType = extFailure(e)
				break wait
			case <-deadline.Done():
				status, errType = "timeout", "Sandbox.Timedout"
				break wait
			case <-sb.dead:
				break wait
			}
		}
	}
	sb.mu.Lock()
	if sb.logTo == inv {
		sb.logTo = nil
	}
	sb.mu.Unlock()
	end := time.Now()
	s.report(sb, inv, status, errType, start, end, cold)
	sb.log(Event{Kind: EventInvokeEnd, RequestID: inv.id, Detail: status})

	switch status {
	case "success", "error":
		sb.freeze()
	case "timeout":
		if !s.cfg.ManagedInstances {
			s.reset(sb, ReasonTimeout)
		}
	case "failure":
		sb.markBroken(errType)
		if !s.cfg.ManagedInstances {
			s.reset(sb, ReasonFailure)
		}
	}
}

func (s *Sim) report(sb *sandbox, inv *invocation, status, errType string, start, end time.Time, cold bool) {
	d := end.Sub(start)
	metrics := map[string]any{"durationMs": ms(d)}
	if !s.cfg.ManagedInstances {
		metrics["billedDurationMs"] = int64(math.Ceil(ms(d)))
		metrics["memorySizeMB"] = s.cfg.MemoryMB
		metrics["maxMemoryUsedMB"] = sb.maxMemoryMB()
		if cold {
			metrics["initDurationMs"] = ms(sb.initDuration)
		}
	}
	rec := map[string]any{
		"requestId": inv.id, "status": status, "metrics": metrics,
		"tracing": map[string]any{"type": "X-Amzn-Trace-Id", "value": inv.traceID},
		"spans":   []map[string]any{{"name": "invocation", "start": isoTime(start), "durationMs": ms(d)}},
	}
	if errType != "" {
		rec["errorType"] = errType
	}
	sb.emit("platform.report", rec)
}

// maxMemoryMB sums the peak RSS of the environment's processes.
func (sb *sandbox) maxMemoryMB() int {
	sb.mu.Lock()
	procs := []*process{sb.runtime}
	for _, e := range sb.order {
		procs = append(procs, e.proc)
	}
	sb.mu.Unlock()
	total := 0
	for _, p := range procs {
		if p != nil {
			total += p.maxRSSMB()
		}
	}
	return total
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)[:n]
}

// newTraceID returns an X-Ray trace header for an unsampled request.
func newTraceID(t time.Time) string {
	return "Root=1-" + strconv.FormatInt(t.Unix(), 16) + "-" + randomHex(24) + ";Parent=" + randomHex(16) + ";Sampled=0;Lineage=1:" + randomHex(8) + ":0"
}
