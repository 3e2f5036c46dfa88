package lambdasim

import (
	"context"
	"slices"
	"sync"
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
