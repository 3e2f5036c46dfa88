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
	if c.Sink == sinkEgress {
		e.Kind = wire.KindEgress
	}
	inv, _ := FromContext(ctx)
	if inv != nil {
		e.RequestID = inv.RequestID
		e.TenantID = inv.TenantID
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
	return c.blocked(inv)
}

// blocked is the error a call refused by c fails with, attributed to inv
// when there is one.
func (c *sinkCheck) blocked(inv *Invocation) *BlockedError {
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

// The sink names of the guards.
const (
	sinkSQL    = "sql"
	sinkExec   = "exec"
	sinkFile   = "file"
	sinkEgress = "egress"
)

// sinkInputs returns the guard for ctx and the inputs of the invocation
// ctx belongs to (nil outside a wrapped handler).
func sinkInputs(ctx context.Context) (*guard, []rules.Field) {
	g := guardFor(ctx)
	if g == nil {
		return nil, nil
	}
	if inv, ok := FromContext(ctx); ok {
		return g, inv.Inputs
	}
	return g, nil
}

// runSinkCheck runs check, turning a panic into what the policy's
// on_error asks for: nothing (allow), or a finding without a rule that
// monitors or blocks. A bug in a check never takes the guarded call's
// goroutine down.
func runSinkCheck(g *guard, check func() rules.SinkResult) (r rules.SinkResult) {
	defer func() {
		if recover() != nil {
			r = rules.SinkResult{Action: g.engine.OnError(), Reason: "sink check failed"}
		}
	}()
	return check()
}

// decideSink reports r (when it found something) and returns the error
// the guarded call must fail with: a *BlockedError when r blocks, else
// nil.
func decideSink(ctx context.Context, g *guard, sink, dest string, r rules.SinkResult) error {
	if !r.Matched() {
		return nil
	}
	c := sinkCheck{
		Sink:     sink,
		Action:   r.Action,
		RuleID:   r.RuleID,
		Category: sinkCategory(r.RuleID),
		Input:    r.Input,
		Dest:     dest,
		Reason:   r.Reason,
		Excerpt:  r.Excerpt,
	}
	return reportSink(ctx, g, &c)
}

// sinkCategory maps a sink rule id to its event category, the input
// detectors' names where there is one.
func sinkCategory(ruleID string) string {
	switch ruleID {
	case rules.RuleSQLiSink:
		return "sqli"
	case rules.RuleCmdiSink, rules.RuleArgiSink:
		return "cmdi"
	case rules.RuleTraversalSink:
		return "traversal"
	case rules.RuleExecDeny:
		return "exec"
	case rules.RuleFileDeny:
		return "file"
	case rules.RuleEgressDeny:
		return "egress"
	case rules.RuleSSRFSink:
		return "ssrf"
	}
	return ""
}
