package lambdasim

import (
	"io"
	"slices"
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

// invocation is one request handed to the runtime.
type invocation struct {
	id            string
	payload       []byte
	deadline      time.Time
	traceID       string
	clientContext string
	cognito       string
	tenantID      string
	streaming     bool // the caller asked for the response as a stream
	start         time.Time
	released      chan struct{}      // closed when the runtime called next again (classic mode)
	logTail       []byte             // classic mode: the runtime's output during the invoke; guarded by sandbox.mu
	result        chan runtimeResult // buffered 1
	resultOnce    sync.Once
	streamDone    chan struct{} // closed when a streamed response was posted to the end
}

// runtimeResult is what the runtime posted for an invocation.
type runtimeResult struct {
	body        []byte
	stream      io.ReadCloser // the response as it is posted, when the caller asked for a stream
	contentType string
	errorType   string // empty on success
	at          time.Time
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
	holding        int           // telemetry deliveries under way (hold)
	drained        chan struct{} // closed when holding drops to 0 for a waiting freeze
	freezeMu       sync.Mutex    // serialises freeze and thaw
}

// track records inv as in flight, so that the runtime can post its
// result; it reports whether inv is the environment's first invoke.
func (sb *sandbox) track(inv *invocation) (cold bool) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.inflight[inv.id] = inv
	cold = sb.coldStart
	sb.coldStart = false
	return cold
}

// untrack forgets inv: a result posted from now on is refused.
func (sb *sandbox) untrack(inv *invocation) {
	sb.mu.Lock()
	delete(sb.inflight, inv.id)
	sb.mu.Unlock()
}

// offer hands inv to a runtime worker waiting in next, if there is one
// (managed-instances mode: the platform does not queue invokes).
func (sb *sandbox) offer(inv *invocation) bool {
	select {
	case sb.queue <- inv:
		return true
	default:
		return false
	}
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
// like the service freezes an idle sandbox. Telemetry deliveries already
// under way end first: a listener is never stopped mid-delivery.
func (sb *sandbox) freeze() {
	if !sb.sim.cfg.Freeze || sb.sim.cfg.ManagedInstances {
		return
	}
	sb.freezeMu.Lock()
	defer sb.freezeMu.Unlock()
	sb.mu.Lock()
	if sb.frozen || sb.phase == phaseShutdown {
		sb.mu.Unlock()
		return
	}
	sb.frozen = true
	sb.thawed = make(chan struct{})
	var drained chan struct{}
	if sb.holding > 0 {
		drained = make(chan struct{})
		sb.drained = drained
	}
	sb.mu.Unlock()
	if drained != nil {
		<-drained // each delivery attempt is bounded by its client timeout
	}
	for _, p := range sb.processes() {
		p.signal(syscall.SIGSTOP)
	}
	sb.log(Event{Kind: EventFreeze})
}

// thaw continues the processes stopped by freeze.
func (sb *sandbox) thaw() {
	sb.freezeMu.Lock()
	defer sb.freezeMu.Unlock()
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

// hold waits until the environment runs and keeps it running (freeze
// waits) until release. It reports false, holding nothing, when stop
// closes first.
func (sb *sandbox) hold(stop <-chan struct{}) bool {
	for {
		sb.mu.Lock()
		if !sb.frozen {
			sb.holding++
			sb.mu.Unlock()
			return true
		}
		thawed := sb.thawed
		sb.mu.Unlock()
		select {
		case <-thawed:
		case <-stop:
			return false
		}
	}
}

// release ends a hold.
func (sb *sandbox) release() {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.holding--
	if sb.holding == 0 && sb.drained != nil {
		close(sb.drained)
		sb.drained = nil
	}
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

// ms converts d to fractional milliseconds with microsecond precision.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
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
