package rasp

import (
	"context"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// sinkCheck is the outcome of one sink guard check (egress, SQL, exec or
// file) that found something to say: a deny, a monitored match or a
// correlated injection.
type sinkCheck struct {
	// Sink is "egress", "sql", "exec" or "file".
	Sink string
	// Action is what the policy asks for (block or monitor).
	Action rules.Action
	// RuleID and Category name what fired ("egress", "sqli-sink",
	// "cmdi-sink", "file-deny", "traversal-sink", ...).
	RuleID, Category string
	// Input is the correlated request input, when one was involved.
	Input *rules.Field
	// Dest is the destination ("host:port", a cleaned path, a program).
	Dest string
	// Class is the egress destination class (see wire.Event.Class).
	Class string
	// Reason is a short, payload-free explanation.
	Reason string
	// Excerpt is a short redacted excerpt of the offending input.
	Excerpt string
}

// reportSink emits the security event for c on g's emitter, attributed to
// the invocation ctx belongs to, and returns the error the guarded call
// must fail with: a *BlockedError when c blocks, else nil (monitor lets the
// call through). A nil g (nothing wrapped or protected yet) reports
// nothing and never blocks.
func reportSink(ctx context.Context, g *guard, c *sinkCheck) error {
	if g == nil {
		return nil
	}
	e := wire.Event{
		Kind:          wire.KindSink,
		Function:      g.function,
		Action:        c.Action.String(),
		RuleID:        c.RuleID,
		Category:      c.Category,
		Sink:          c.Sink,
		Dest:          c.Dest,
		Class:         c.Class,
		Reason:        c.Reason,
		Excerpt:       c.Excerpt,
		PolicyVersion: g.engine.Version(),
	}
	if c.Sink == "egress" {
		e.Kind = wire.KindEgress
	}
	inv, _ := FromContext(ctx)
	if inv != nil {
		e.RequestID = inv.RequestID
		e.EventSource = inv.EventSource
	}
	if c.Input != nil {
		e.Source = c.Input.Source.String()
		e.Path = c.Input.Path
	}
	g.out.Emit(&e)
	if c.Action != rules.ActionBlock {
		return nil
	}
	be := &BlockedError{Sink: c.Sink, Dest: c.Dest, Reason: c.Reason}
	if c.RuleID != "" {
		be.RuleIDs = []string{c.RuleID}
	}
	if c.Category != "" {
		be.Categories = []string{c.Category}
	}
	if c.Input != nil {
		be.Paths = []string{c.Input.Path}
	}
	if inv != nil {
		be.RequestID = inv.RequestID
		be.EventSource = inv.EventSource
	}
	return be
}
