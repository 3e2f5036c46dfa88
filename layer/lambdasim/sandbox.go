package lambdasim

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// phase of a sandbox generation.
type phase int

const (
	phaseInit phase = iota
	phaseReady
	phaseShutdown
)

// Shutdown reasons sent in SHUTDOWN events.
const (
	// ReasonSpindown is a normal shutdown (Close, SIGTERM of the CLI).
	ReasonSpindown = "spindown"
	// ReasonTimeout is a reset after a function timeout.
	ReasonTimeout = "timeout"
	// ReasonFailure is a reset after a runtime crash or an extension failure.
	ReasonFailure = "failure"
)

// Extension event types.
const (
	eventInvoke   = "INVOKE"
	eventShutdown = "SHUTDOWN"
)

// extension is one registered (or, for external ones, launched) extension.
type extension struct {
	name     string
	internal bool
	proc     *process // nil for internal extensions

	// Set at registration, read-only afterwards.
	id     string
	events []string

	registered chan struct{} // closed at registration
	ready      chan struct{} // closed at the first event/next
	exitLogged chan struct{} // closed once the process's exit is logged
	regOnce    sync.Once
	readyOnce  sync.Once

	mu      sync.Mutex
	queue   []*delivery
	current *delivery
	wake    chan struct{}
	failed  bool          // init/error or exit/error was reported
	errType string        // the type it reported
	errored chan struct{} // closed when failed is set
}

// delivery is one event handed to an extension; done closes when the
// extension calls next again after receiving it.
type delivery struct {
	body []byte
	kind string
	done chan struct{}
}

func newExtension(name string, internal bool) *extension {
	return &extension{
		name:       name,
		internal:   internal,
		registered: make(chan struct{}),
		ready:      make(chan struct{}),
		exitLogged: make(chan struct{}),
		wake:       make(chan struct{}, 1),
		errored:    make(chan struct{}),
	}
}

// fail records an init/error or exit/error call; it reports false if one
// was already recorded.
func (e *extension) fail(typ string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failed {
		return false
	}
	e.failed, e.errType = true, typ
	close(e.errored)
	return true
}

func (e *extension) reportedError() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.errType
}

func (e *extension) subscribed(kind string) bool { return slices.Contains(e.events, kind) }

// push queues an event and returns its delivery.
func (e *extension) push(kind string, body []byte) *delivery {
	d := &delivery{body: body, kind: kind, done: make(chan struct{})}
	e.mu.Lock()
	e.queue = append(e.queue, d)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return d
}

// next acknowledges the current event and waits for the following one.
func (e *extension) next(ctx context.Context) (*delivery, error) {
	e.mu.Lock()
	if e.current != nil {
		close(e.current.done)
		e.current = nil
	}
	e.mu.Unlock()
	e.readyOnce.Do(func() { close(e.ready) })
	for {
		e.mu.Lock()
		if len(e.queue) > 0 {
			d := e.queue[0]
			e.queue = e.queue[1:]
			e.current = d
			e.mu.Unlock()
			return d, nil
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// exited returns a channel closed when the extension's process exits; nil
// (never ready) for internal extensions.
func (e *extension) exited() <-chan struct{} {
	if e.proc == nil {
		return nil
	}
	return e.proc.exited
}

// invocation is one request handed to the runtime.
type invocation struct {
	id            string
	payload       []byte
	deadline      time.Time
	traceID       string
	clientContext string
	cognito       string
	start         time.Time
	released      chan struct{}      // closed when the runtime called next again (classic mode)
	logTail       []byte             // classic mode: the runtime's output during the invoke; guarded by sandbox.mu
	result        chan runtimeResult // buffered 1
	resultOnce    sync.Once
}

// runtimeResult is what the runtime posted for an invocation.
type runtimeResult struct {
	body      []byte
	errorType string // empty on success
	at        time.Time
}

func (inv *invocation) post(r runtimeResult) bool {
	posted := false
	inv.resultOnce.Do(func() {
		inv.result <- r
		posted = true
	})
	return posted
}

// sandbox is one execution environment generation: its processes,
// registrations, invocations and telemetry subscribers.
type sandbox struct {
	sim *Sim
	gen int

	queue        chan *invocation // runtime next takes from it
	runtimeReady chan struct{}    // closed at the runtime's first next
	readyOnce    sync.Once
	initFailed   chan struct{} // closed by an init/error call
	dead         chan struct{} // closed when shutdown starts
	deadOnce     sync.Once
	shutOnce     sync.Once
	initStart    time.Time
	initDuration time.Duration
	coldStart    bool // true until the first invoke's report

	mu             sync.Mutex
	phase          phase
	runtimeStarted bool
	runtime        *process
	byName         map[string]*extension
	byID           map[string]*extension
	order          []*extension
	inflight       map[string]*invocation
	lastTaken      *invocation // classic mode: the invocation the runtime works on
	logTo          *invocation // classic mode: the invocation the runtime's output belongs to
	initErr        *InitError
	broken         string // set when the environment must be reset before the next invoke
	backlog        []TelemetryEvent
	subs           []*subscriber
	frozen         bool
	thawed         chan struct{} // closed while not frozen; replaced at each freeze
}

func newSandbox(s *Sim, gen int) *sandbox {
	return &sandbox{
		sim:          s,
		gen:          gen,
		queue:        make(chan *invocation),
		runtimeReady: make(chan struct{}),
		initFailed:   make(chan struct{}),
		dead:         make(chan struct{}),
		coldStart:    true,
		byName:       map[string]*extension{},
		byID:         map[string]*extension{},
		inflight:     map[string]*invocation{},
		thawed:       closedChan(),
	}
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// processes returns the live processes of the environment.
func (sb *sandbox) processes() []*process {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []*process
	if sb.runtime != nil {
		out = append(out, sb.runtime)
	}
	for _, e := range sb.order {
		if e.proc != nil {
			out = append(out, e.proc)
		}
	}
	return out
}

// freeze stops every process of the environment when Config.Freeze is set,
// like the service freezes an idle sandbox.
func (sb *sandbox) freeze() {
	if !sb.sim.cfg.Freeze || sb.sim.cfg.ManagedInstances {
		return
	}
	sb.mu.Lock()
	if sb.frozen || sb.phase == phaseShutdown {
		sb.mu.Unlock()
		return
	}
	sb.frozen = true
	sb.thawed = make(chan struct{})
	sb.mu.Unlock()
	for _, p := range sb.processes() {
		p.signal(syscall.SIGSTOP)
	}
	sb.log(Event{Kind: EventFreeze})
}

// thaw continues the processes stopped by freeze.
func (sb *sandbox) thaw() {
	sb.mu.Lock()
	if !sb.frozen {
		sb.mu.Unlock()
		return
	}
	sb.frozen = false
	thawed := sb.thawed
	sb.mu.Unlock()
	for _, p := range sb.processes() {
		p.signal(syscall.SIGCONT)
	}
	close(thawed)
	sb.log(Event{Kind: EventThaw})
}

// whenThawed returns a channel that is closed while the environment runs.
func (sb *sandbox) whenThawed() <-chan struct{} {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.thawed
}

func (sb *sandbox) log(e Event) {
	e.Generation = sb.gen
	sb.sim.events.add(e)
}

// emit records a telemetry event and hands it to the subscribers.
func (sb *sandbox) emit(typ string, record any) {
	e := TelemetryEvent{Time: isoTime(time.Now()), Type: typ, Record: record}
	sb.mu.Lock()
	if sb.phase == phaseInit && len(sb.backlog) < maxBacklogRecords {
		sb.backlog = append(sb.backlog, e)
	}
	subs := slices.Clone(sb.subs)
	sb.mu.Unlock()
	for _, s := range subs {
		s.add(e)
	}
}

// failInit records the first init failure.
func (sb *sandbox) failInit(typ, msg string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.initErr == nil && sb.phase == phaseInit {
		sb.initErr = &InitError{Type: typ, Message: msg}
		close(sb.initFailed)
	}
}

func (sb *sandbox) markBroken(reason string) {
	sb.mu.Lock()
	if sb.broken == "" {
		sb.broken = reason
	}
	sb.mu.Unlock()
}

func (sb *sandbox) isBroken() bool {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if sb.broken != "" {
		return true
	}
	return sb.runtime != nil && sb.runtime.done()
}

// extensionFiles lists the executable regular files of dir, sorted.
func extensionFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read extensions dir: %w", err)
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p) // follows symlinks like the platform does
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			continue
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// initialize runs the Init phase: extensions, then the runtime, then waits
// until everything called next.
func (sb *sandbox) initialize() error {
	s := sb.sim
	sb.initStart = time.Now()
	deadline := time.NewTimer(s.cfg.InitTimeout)
	defer deadline.Stop()
	sb.log(Event{Kind: EventInitStart})
	sb.emit("platform.initStart", map[string]any{
		"initializationType": s.initType(),
		"phase":              "init",
		"runtimeVersion":     "provided:al2023.simulated",
		"runtimeVersionArn":  "arn:aws:lambda:" + s.cfg.Region + "::runtime:lambdasim",
		"functionName":       s.cfg.FunctionName,
		"functionVersion":    "$LATEST",
	})

	files, err := extensionFiles(s.cfg.ExtensionsDir)
	if err != nil {
		return sb.initFailure("Extension.LaunchError", err.Error())
	}
	if len(files) > MaxExtensions {
		return sb.initFailure("Extension.TooManyExtensions", fmt.Sprintf("%d extensions, the limit is %d", len(files), MaxExtensions))
	}
	extEnv := s.environment(false)
	for _, path := range files {
		name := filepath.Base(path)
		ext := newExtension(name, false)
		// Known before it starts: it may register at once.
		sb.mu.Lock()
		sb.byName[name] = ext
		sb.order = append(sb.order, ext)
		sb.mu.Unlock()
		p, err := startProcess(name, path, filepath.Dir(s.bootstrap), extEnv, s.out, func(line string) {
			sb.emit("extension", line)
		})
		if err != nil {
			return sb.initFailure("Extension.LaunchError", err.Error())
		}
		sb.mu.Lock()
		ext.proc = p
		dead := sb.phase == phaseShutdown
		sb.mu.Unlock()
		if dead { // a concurrent Shutdown took its snapshot before p existed
			p.kill()
			return sb.initFailure("Sandbox.Shutdown", "the environment was shut down during init")
		}
		sb.log(Event{Kind: EventExtensionStart, Name: name, Detail: "pid " + strconv.Itoa(p.pid())})
		go sb.watchExtension(ext)
	}

	// Every external extension registers before the runtime starts.
	for _, ext := range sb.externals() {
		select {
		case <-ext.registered:
		case <-ext.proc.exited:
			return sb.initFailure("Extension.Crash", fmt.Sprintf("extension %s exited before registering: %s", ext.name, ext.proc.exitStatus()))
		case <-sb.initFailed:
			return sb.initFailure("", "")
		case <-sb.dead:
			return sb.initFailure("Sandbox.Shutdown", "the environment was shut down during init")
		case <-deadline.C:
			return sb.initFailure("Sandbox.Timedout", fmt.Sprintf("extension %s did not register within %v", ext.name, s.cfg.InitTimeout))
		}
	}

	// Set first: the runtime may register internal extensions at once.
	sb.mu.Lock()
	sb.runtimeStarted = true
	sb.mu.Unlock()
	rt, err := startProcess("runtime", s.bootstrap, filepath.Dir(s.bootstrap), s.environment(true), s.out, func(line string) {
		sb.emit("function", line)
		sb.appendLog(line)
	})
	if err != nil {
		return sb.initFailure("Runtime.InvalidEntrypoint", err.Error())
	}
	sb.mu.Lock()
	sb.runtime = rt
	dead := sb.phase == phaseShutdown
	sb.mu.Unlock()
	if dead {
		rt.kill()
		return sb.initFailure("Sandbox.Shutdown", "the environment was shut down during init")
	}
	sb.log(Event{Kind: EventRuntimeStart, Name: "runtime", Detail: "pid " + strconv.Itoa(rt.pid())})
	go sb.watchRuntime(rt)

	select {
	case <-sb.runtimeReady:
	case <-rt.exited:
		return sb.initFailure("Runtime.ExitError", "runtime exited during init: "+rt.exitStatus())
	case <-sb.initFailed:
		return sb.initFailure("", "")
	case <-sb.dead:
		return sb.initFailure("Sandbox.Shutdown", "the environment was shut down during init")
	case <-deadline.C:
		return sb.initFailure("Sandbox.Timedout", fmt.Sprintf("runtime did not call next within %v", s.cfg.InitTimeout))
	}
	rt.syncOutput()
	sb.emit("platform.initRuntimeDone", map[string]any{
		"initializationType": s.initType(), "phase": "init", "status": "success",
	})

	// Init ends when the runtime and every extension called next.
	for _, ext := range sb.extensions() {
		select {
		case <-ext.ready:
		case <-ext.exited():
			return sb.initFailure("Extension.Crash", fmt.Sprintf("extension %s exited during init: %s", ext.name, ext.proc.exitStatus()))
		case <-rt.exited:
			return sb.initFailure("Runtime.ExitError", "runtime exited during init: "+rt.exitStatus())
		case <-sb.initFailed:
			return sb.initFailure("", "")
		case <-sb.dead:
			return sb.initFailure("Sandbox.Shutdown", "the environment was shut down during init")
		case <-deadline.C:
			return sb.initFailure("Sandbox.Timedout", fmt.Sprintf("extension %s did not call next within %v", ext.name, s.cfg.InitTimeout))
		}
	}

	sb.mu.Lock()
	sb.phase = phaseReady
	sb.backlog = nil
	sb.mu.Unlock()
	for _, ext := range sb.extensions() {
		sb.emit("platform.extension", map[string]any{"name": ext.name, "state": "Ready", "events": nonNil(ext.events)})
	}
	sb.initDuration = time.Since(sb.initStart)
	sb.emit("platform.initReport", map[string]any{
		"initializationType": s.initType(), "phase": "init", "status": "success",
		"metrics": map[string]any{"durationMs": ms(sb.initDuration)},
	})
	sb.log(Event{Kind: EventInitDone, Detail: sb.initDuration.Round(time.Millisecond).String()})
	sb.freeze()
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// initFailure records the failure (typ empty: an init/error call already
// did), emits the failed init telemetry and tears the environment down.
func (sb *sandbox) initFailure(typ, msg string) error {
	if typ != "" {
		sb.failInit(typ, msg)
	}
	sb.mu.Lock()
	ie := sb.initErr
	sb.mu.Unlock()
	if ie == nil { // the phase moved on concurrently; report what we saw
		ie = &InitError{Type: typ, Message: msg}
	}
	status := "failure"
	if ie.Type == "Sandbox.Timedout" {
		status = "timeout"
	}
	sb.emit("platform.initRuntimeDone", map[string]any{
		"initializationType": sb.sim.initType(), "phase": "init", "status": status, "errorType": ie.Type,
	})
	sb.emit("platform.initReport", map[string]any{
		"initializationType": sb.sim.initType(), "phase": "init", "status": status, "errorType": ie.Type,
		"metrics": map[string]any{"durationMs": ms(time.Since(sb.initStart))},
	})
	sb.log(Event{Kind: EventInitFailed, Detail: ie.Type + ": " + ie.Message})
	sb.shutdown(ReasonFailure, sb.sim.cfg.ShutdownBudget)
	return ie
}

func (sb *sandbox) externals() []*extension {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []*extension
	for _, e := range sb.order {
		if !e.internal {
			out = append(out, e)
		}
	}
	return out
}

// extensions returns the registered extensions in registration order.
func (sb *sandbox) extensions() []*extension {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []*extension
	for _, e := range sb.order {
		if e.id != "" {
			out = append(out, e)
		}
	}
	return out
}

func (sb *sandbox) watchExtension(ext *extension) {
	<-ext.proc.exited
	detail := ext.proc.exitStatus()
	if ext.proc.wasKilled() {
		detail += " (killed)"
	}
	sb.log(Event{Kind: EventExtensionExit, Name: ext.name, Detail: detail})
	close(ext.exitLogged)
	select {
	case <-sb.dead:
	default:
		sb.markBroken("extension " + ext.name + " exited: " + detail)
	}
}

func (sb *sandbox) watchRuntime(rt *process) {
	<-rt.exited
	detail := rt.exitStatus()
	if rt.wasKilled() {
		detail += " (killed)"
	}
	sb.log(Event{Kind: EventRuntimeExit, Name: "runtime", Detail: detail})
}

// shutdown runs the Shutdown phase within budget: the runtime gets SIGTERM
// and a share of the budget, then SIGKILL; extensions registered for
// SHUTDOWN get the event and the rest of the budget; all others are killed.
// Concurrent and later calls wait for the first one and do nothing else.
func (sb *sandbox) shutdown(reason string, budget time.Duration) {
	sb.shutOnce.Do(func() { sb.doShutdown(reason, budget) })
}

func (sb *sandbox) doShutdown(reason string, budget time.Duration) {
	sb.deadOnce.Do(func() { close(sb.dead) })
	// Registration is closed from here on, so the snapshot is final.
	type member struct {
		ext        *extension
		proc       *process // nil for internal extensions
		registered bool
		shutdown   bool // registered for SHUTDOWN
	}
	var members []member
	internal, external := 0, 0
	sb.mu.Lock()
	sb.phase = phaseShutdown
	rt := sb.runtime
	for _, e := range sb.order {
		m := member{ext: e, proc: e.proc, registered: e.id != "", shutdown: e.id != "" && e.subscribed(eventShutdown)}
		members = append(members, m)
		switch {
		case !m.registered:
		case e.internal:
			internal++
		default:
			external++
		}
	}
	subs := slices.Clone(sb.subs)
	sb.mu.Unlock()
	sb.thaw() // stopped processes could not handle SIGTERM or SHUTDOWN; no freeze follows
	start := time.Now()
	end := start.Add(budget)
	sb.log(Event{Kind: EventShutdownStart, Detail: reason})

	// The budget depends on who registered: nobody → the runtime is killed
	// at once; internal extensions only → the runtime gets SIGTERM and at
	// most internalShutdownBudget; external extensions → the runtime gets
	// SIGTERM and its share, the extensions the rest.
	if rt != nil && !rt.done() {
		share := time.Duration(float64(budget) * runtimeShutdownShare)
		if external == 0 {
			share = min(budget, internalShutdownBudget)
		}
		if internal+external == 0 {
			share = 0
		} else {
			sb.log(Event{Kind: EventRuntimeSignal, Name: "runtime", Detail: "SIGTERM"})
			rt.signal(syscall.SIGTERM)
		}
		select {
		case <-rt.exited:
		case <-time.After(share):
			sb.log(Event{Kind: EventRuntimeSignal, Name: "runtime", Detail: "SIGKILL"})
			rt.kill()
		}
	}

	// Telemetry still pending is delivered before extensions shut down.
	flushCtx, cancel := context.WithDeadline(context.Background(), start.Add(budget/2))
	for _, sub := range subs {
		sub.close(flushCtx)
	}
	cancel()

	body, _ := json.Marshal(map[string]any{ // a map of strings and ints always marshals
		"eventType":      eventShutdown,
		"shutdownReason": reason,
		"deadlineMs":     end.UnixMilli(),
	})
	var waiting []member
	for _, m := range members {
		if m.proc == nil || m.proc.done() {
			continue
		}
		if m.shutdown {
			m.ext.push(eventShutdown, body)
			sb.log(Event{Kind: EventExtensionEvent, Name: m.ext.name, Detail: eventShutdown + " " + reason})
			waiting = append(waiting, m)
			continue
		}
		detail := "not registered for SHUTDOWN"
		if !m.registered {
			detail = "never registered"
		}
		sb.log(Event{Kind: EventExtensionKill, Name: m.ext.name, Detail: detail})
		m.proc.kill()
	}
	timer := time.NewTimer(time.Until(end))
	defer timer.Stop()
	for _, m := range waiting {
		select {
		case <-m.proc.exited:
		case <-timer.C:
			timer.Reset(0)
			sb.log(Event{Kind: EventExtensionKill, Name: m.ext.name, Detail: "shutdown deadline reached"})
			m.proc.kill()
		}
	}
	// Anything left (including a runtime that ignored the first kill) goes now.
	for _, m := range members {
		if m.proc != nil && !m.proc.done() {
			m.proc.kill()
		}
	}
	if rt != nil && !rt.done() {
		rt.kill()
	}
	// Every exit is in the event log before the shutdown is reported done.
	logged := time.NewTimer(time.Second)
	defer logged.Stop()
	for _, m := range members {
		if m.proc == nil {
			continue
		}
		select {
		case <-m.ext.exitLogged:
		case <-logged.C:
			logged.Reset(0)
		}
	}
	sb.log(Event{Kind: EventShutdownDone, Detail: reason})
}

// ms converts d to fractional milliseconds with microsecond precision.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// ExtensionState is where an extension is in its lifecycle.
type ExtensionState string

// Extension states reported by Sim.Extensions.
const (
	// ExtensionLaunched is an external extension started but not registered.
	ExtensionLaunched ExtensionState = "Launched"
	// ExtensionRegistered has registered but not called next yet.
	ExtensionRegistered ExtensionState = "Registered"
	// ExtensionReady waits in event/next.
	ExtensionReady ExtensionState = "Ready"
	// ExtensionProcessing received an event and has not called next again.
	ExtensionProcessing ExtensionState = "Processing"
	// ExtensionFailed reported init/error or exit/error.
	ExtensionFailed ExtensionState = "Failed"
	// ExtensionExited is an external extension whose process ended.
	ExtensionExited ExtensionState = "Exited"
)

// ExtensionInfo describes one extension of the current environment.
type ExtensionInfo struct {
	// Name is the registered name (the file name for external extensions).
	Name string
	// ID is the Lambda-Extension-Identifier; empty before registration.
	ID string
	// Internal is true for extensions registered from the runtime process.
	Internal bool
	// Events lists the events it registered for.
	Events []string
	// State is its lifecycle state.
	State ExtensionState
}

func (sb *sandbox) extensionInfos() []ExtensionInfo {
	sb.mu.Lock()
	exts := slices.Clone(sb.order)
	sb.mu.Unlock()
	out := make([]ExtensionInfo, 0, len(exts))
	for _, e := range exts {
		sb.mu.Lock()
		info := ExtensionInfo{Name: e.name, ID: e.id, Internal: e.internal, Events: slices.Clone(e.events)}
		proc := e.proc
		sb.mu.Unlock()
		e.mu.Lock()
		processing, failed := e.current != nil || len(e.queue) > 0, e.failed
		e.mu.Unlock()
		ready := false
		select {
		case <-e.ready:
			ready = true
		default:
		}
		switch {
		case proc != nil && proc.done():
			info.State = ExtensionExited
		case failed:
			info.State = ExtensionFailed
		case info.ID == "":
			info.State = ExtensionLaunched
		case processing:
			info.State = ExtensionProcessing
		case ready:
			info.State = ExtensionReady
		default:
			info.State = ExtensionRegistered
		}
		out = append(out, info)
	}
	return out
}

// maxLogTail is how much of an invoke's output X-Amz-Log-Type: Tail returns.
const maxLogTail = 4096

// appendLog adds a runtime output line to the current invocation's tail.
func (sb *sandbox) appendLog(line string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	inv := sb.logTo
	if inv == nil {
		return
	}
	inv.logTail = append(append(inv.logTail, line...), '\n')
	if n := len(inv.logTail); n > 2*maxLogTail {
		inv.logTail = append([]byte(nil), inv.logTail[n-maxLogTail:]...)
	}
}
