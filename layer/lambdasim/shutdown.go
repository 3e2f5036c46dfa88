package lambdasim

import (
	"context"
	"encoding/json"
	"slices"
	"syscall"
	"time"
)

// shutdown runs the Shutdown phase within budget: the runtime gets SIGTERM
// and a share of the budget, then SIGKILL; extensions registered for
// SHUTDOWN get the event and the rest of the budget; all others are killed.
// Concurrent and later calls wait for the first one and do nothing else.
func (sb *sandbox) shutdown(reason string, budget time.Duration) {
	sb.shutOnce.Do(func() { sb.doShutdown(reason, budget) })
}

// member is an extension as the Shutdown phase found it.
type member struct {
	ext        *extension
	proc       *process // nil for internal extensions
	registered bool
	shutdown   bool // registered for SHUTDOWN
}

func (sb *sandbox) doShutdown(reason string, budget time.Duration) {
	sb.deadOnce.Do(func() { close(sb.dead) })
	members, rt, subs, internal, external := sb.closeRegistration()
	sb.thaw() // stopped processes could not handle SIGTERM or SHUTDOWN; no freeze follows
	start := time.Now()
	end := start.Add(budget)
	sb.log(Event{Kind: EventShutdownStart, Detail: reason})
	sb.stopRuntime(rt, budget, internal, external)

	// Telemetry still pending is delivered before extensions shut down.
	flushCtx, cancel := context.WithDeadline(context.Background(), start.Add(budget/2))
	for _, sub := range subs {
		sub.close(flushCtx)
	}
	cancel()

	waiting := sb.sendShutdown(members, reason, end)
	sb.awaitShutdown(waiting, end)
	// Anything left (including a runtime that ignored the first kill) goes now.
	for _, m := range members {
		if m.proc != nil && !m.proc.done() {
			m.proc.kill()
		}
	}
	if rt != nil && !rt.done() {
		rt.kill()
	}
	sb.awaitExitsLogged(members)
	sb.log(Event{Kind: EventShutdownDone, Detail: reason})
}

// closeRegistration enters the Shutdown phase: registration is closed
// from here on, so the snapshot it returns is final. internal and
// external count the registered extensions of each kind.
func (sb *sandbox) closeRegistration() (members []member, rt *process, subs []*subscriber, internal, external int) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.phase = phaseShutdown
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
	return members, sb.runtime, slices.Clone(sb.subs), internal, external
}

// stopRuntime ends the runtime within its part of the budget, which
// depends on who registered: nobody → killed at once; internal extensions
// only → SIGTERM and at most internalShutdownBudget; external extensions
// → SIGTERM and its share, the extensions get the rest.
func (sb *sandbox) stopRuntime(rt *process, budget time.Duration, internal, external int) {
	if rt == nil || rt.done() {
		return
	}
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

// sendShutdown sends SHUTDOWN to the live extensions registered for it
// and kills the others; it returns those it sent the event to.
func (sb *sandbox) sendShutdown(members []member, reason string, end time.Time) (waiting []member) {
	body, _ := json.Marshal(map[string]any{ // a map of strings and ints always marshals
		"eventType":      eventShutdown,
		"shutdownReason": reason,
		"deadlineMs":     end.UnixMilli(),
	})
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
	return waiting
}

// awaitShutdown waits for the extensions sent SHUTDOWN to exit, killing
// those still running at end.
func (sb *sandbox) awaitShutdown(waiting []member, end time.Time) {
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
}

// awaitExitsLogged waits (at most a second) until every extension's exit
// is in the event log, so the shutdown is reported done after them.
func (sb *sandbox) awaitExitsLogged(members []member) {
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
}
