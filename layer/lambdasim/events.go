package lambdasim

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// EventKind names a lifecycle event recorded by the Sim.
type EventKind string

// Lifecycle event kinds, in the order they typically occur.
const (
	// EventInitStart begins an Init phase (a new generation).
	EventInitStart EventKind = "init.start"
	// EventExtensionStart is an external extension process started (Detail: pid).
	EventExtensionStart EventKind = "extension.start"
	// EventExtensionRegister is a successful register (Detail: kind, events, id).
	EventExtensionRegister EventKind = "extension.register"
	// EventExtensionNext is an extension calling next: with RequestID it
	// acknowledges that invoke; without, Detail names the event it received.
	EventExtensionNext EventKind = "extension.next"
	// EventExtensionEvent is an INVOKE or SHUTDOWN queued for an extension.
	EventExtensionEvent EventKind = "extension.event"
	// EventExtensionError is an init/error or exit/error call (Detail: call and type).
	EventExtensionError EventKind = "extension.error"
	// EventExtensionExit is an external extension process ending (Detail: status).
	EventExtensionExit EventKind = "extension.exit"
	// EventExtensionKill is the simulator killing an extension (Detail: why).
	EventExtensionKill EventKind = "extension.kill"
	// EventRuntimeStart is the runtime process started (Detail: pid).
	EventRuntimeStart EventKind = "runtime.start"
	// EventRuntimeNext is the runtime's first next call, which ends its init.
	EventRuntimeNext EventKind = "runtime.next"
	// EventRuntimeResponse is a posted invocation response (Detail: size).
	EventRuntimeResponse EventKind = "runtime.response"
	// EventRuntimeError is a posted invocation error (Detail: error type).
	EventRuntimeError EventKind = "runtime.error"
	// EventRuntimeInitError is a runtime init/error call (Detail: error type).
	EventRuntimeInitError EventKind = "runtime.initError"
	// EventRuntimeSignal is SIGTERM or SIGKILL sent to the runtime.
	EventRuntimeSignal EventKind = "runtime.signal"
	// EventRuntimeExit is the runtime process ending (Detail: status).
	EventRuntimeExit EventKind = "runtime.exit"
	// EventInitDone ends a successful Init (Detail: duration).
	EventInitDone EventKind = "init.done"
	// EventInitFailed ends a failed Init (Detail: error type and message).
	EventInitFailed EventKind = "init.failed"
	// EventInvokeStart begins an invoke phase.
	EventInvokeStart EventKind = "invoke.start"
	// EventInvokeRefused is an invoke no runtime worker waited for
	// (managed-instances mode; Detail: Runtime.Unavailable).
	EventInvokeRefused EventKind = "invoke.refused"
	// EventInvokeEnd ends an invoke phase (Detail: success, error, timeout or failure).
	EventInvokeEnd EventKind = "invoke.end"
	// EventShutdownStart begins a Shutdown phase or reset (Detail: reason).
	EventShutdownStart EventKind = "shutdown.start"
	// EventShutdownDone ends it: every process of the generation is gone.
	EventShutdownDone EventKind = "shutdown.done"
	// EventTelemetry is a Telemetry API subscription (Detail: types and destination).
	EventTelemetry EventKind = "telemetry.subscribe"
	// EventTelemetryDeliver is a batch delivered or dropped (Detail: count, status).
	EventTelemetryDeliver EventKind = "telemetry.deliver"
	// EventFreeze is the environment's processes being stopped (Config.Freeze).
	EventFreeze EventKind = "sandbox.freeze"
	// EventThaw is the environment's processes being continued.
	EventThaw EventKind = "sandbox.thaw"
)

// Event is one entry of the lifecycle log, kept for tests and diagnostics.
type Event struct {
	// Time is when the simulator observed the event.
	Time time.Time
	// Generation counts environment initialisations, starting at 1; a reset
	// starts a new generation.
	Generation int
	// Kind says what happened.
	Kind EventKind
	// Name is the extension name, "runtime", or empty.
	Name string
	// RequestID is the invocation the event belongs to, if any.
	RequestID string
	// Detail is a short human-readable description (event type, exit status,
	// shutdown reason, error type). It never holds payloads.
	Detail string
}

// String formats the event on one line.
func (e Event) String() string {
	return fmt.Sprintf("%s gen=%d %s name=%s req=%s %s",
		e.Time.UTC().Format("15:04:05.000"), e.Generation, e.Kind, e.Name, e.RequestID, e.Detail)
}

// maxEvents bounds the lifecycle log; older entries are discarded.
const maxEvents = 10000

// eventLog is a bounded, concurrency-safe lifecycle log.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	hook   func(Event)
}

func (l *eventLog) add(e Event) {
	e.Time = time.Now()
	l.mu.Lock()
	if len(l.events) >= maxEvents {
		l.events = append(l.events[:0], l.events[len(l.events)-maxEvents/2:]...)
	}
	l.events = append(l.events, e)
	hook := l.hook
	l.mu.Unlock()
	if hook != nil {
		hook(e)
	}
}

func (l *eventLog) snapshot() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// ErrClosed is returned by calls on a Sim after Shutdown.
var ErrClosed = errors.New("lambdasim: simulator is shut down")

// InitError is a failed Init phase: an extension crashed or reported
// init/error, the runtime reported init/error or exited, or the phase timed out.
type InitError struct {
	// Type is the platform error type, e.g. "Extension.Crash",
	// "Runtime.ExitError", "Sandbox.Timedout" or the type an init/error call gave.
	Type string
	// Message describes the failure.
	Message string
}

// Error implements error.
func (e *InitError) Error() string {
	return fmt.Sprintf("init failed: %s: %s", e.Type, e.Message)
}
