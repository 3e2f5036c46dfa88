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
	EventInitStart         EventKind = "init.start"
	EventExtensionStart    EventKind = "extension.start"
	EventExtensionRegister EventKind = "extension.register"
	EventExtensionNext     EventKind = "extension.next"
	EventExtensionEvent    EventKind = "extension.event"
	EventExtensionError    EventKind = "extension.error"
	EventExtensionExit     EventKind = "extension.exit"
	EventExtensionKill     EventKind = "extension.kill"
	EventRuntimeStart      EventKind = "runtime.start"
	EventRuntimeNext       EventKind = "runtime.next"
	EventRuntimeResponse   EventKind = "runtime.response"
	EventRuntimeError      EventKind = "runtime.error"
	EventRuntimeInitError  EventKind = "runtime.initError"
	EventRuntimeSignal     EventKind = "runtime.signal"
	EventRuntimeExit       EventKind = "runtime.exit"
	EventInitDone          EventKind = "init.done"
	EventInitFailed        EventKind = "init.failed"
	EventInvokeStart       EventKind = "invoke.start"
	EventInvokeEnd         EventKind = "invoke.end"
	EventShutdownStart     EventKind = "shutdown.start"
	EventShutdownDone      EventKind = "shutdown.done"
	EventTelemetry         EventKind = "telemetry.subscribe"
	EventTelemetryDeliver  EventKind = "telemetry.deliver"
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

// ErrNotStarted is returned by Invoke before the listeners exist.
var ErrNotStarted = errors.New("lambdasim: simulator is not started")

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
