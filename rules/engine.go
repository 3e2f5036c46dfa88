package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/detect"
	"github.com/lambda-rasp/lambda-rasp/rules/internal/glob"
	"github.com/lambda-rasp/lambda-rasp/rules/internal/match"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

const (
	// budgetEvery is how many fields are inspected between two checks of
	// the time budget and of the context.
	budgetEvery = 16
	// maxMatches bounds the matches recorded in one decision; the action
	// still accounts for every match.
	maxMatches = 64
	// customCategory is the category of user match rules.
	customCategory = "custom"
)

// Engine is a compiled, immutable policy. It is safe for concurrent use.
type Engine struct {
	policy  *policy.Policy
	name    string // policy.DisplayName, computed once
	version string // policy.ContentVersion, computed once
	mode    Mode
	onError Action // after the policy mode: never more than mode allows
	// onErrorBy is on_error per reason, after the policy mode.
	onErrorBy policy.OnErrorActions

	rules    []compiledRule
	bySource [numSources][]int32 // rule indexes per source, in policy order

	egress *Egress
	sinks  *Sinks

	scratch sync.Pool // *detect.Scratch
	now     func() time.Time
}

// compiledRule is an input rule ready to run.
type compiledRule struct {
	id       string
	category string
	det      detect.Detector // nil for user rules
	m        match.Matcher   // nil for detector rules
	paths    glob.List       // nil: every path
	excl     []*compiledExclusion
	action   Action // what a match does, after rule and policy modes
	minConf  Confidence
}

// compiledExclusion is one exclusion as it applies to one rule.
type compiledExclusion struct {
	paths    glob.List // nil: every path
	route    glob.Glob
	hasRoute bool
}

// Compile compiles p into an [Engine]. p must come from the policy
// package ([policy.Parse], [policy.LoadFile], [policy.Load] or
// [policy.Default]) and must not be modified afterwards.
//
// Every mode is resolved here, once: the global mode is p's, unless
// LAMBDA_RASP_MODE forced one ([policy.Policy.ForcedMode]); a rule, the
// egress section or a sink that names its own mode keeps it, capped by
// the forced mode; nothing runs when the global mode is off.
func Compile(p *policy.Policy) (*Engine, error) {
	return compile(p, builtinDetectors())
}

// compile is Compile with a given detector set.
func compile(p *policy.Policy, dets detectorSet) (*Engine, error) {
	if p == nil {
		return nil, fmt.Errorf("compile policy: nil policy")
	}
	e := &Engine{
		policy:  p,
		name:    p.DisplayName(),
		version: p.ContentVersion(),
		mode:    p.EffectiveMode(),
		now:     time.Now,
	}
	e.onError = capAction(p.OnError, e.mode)
	e.onErrorBy = policy.OnErrorActions{
		Limits:    capAction(p.OnErrorBy.Limits, e.mode),
		Budget:    capAction(p.OnErrorBy.Budget, e.mode),
		Malformed: capAction(p.OnErrorBy.Malformed, e.mode),
		Panic:     capAction(p.OnErrorBy.Panic, e.mode),
	}
	e.scratch.New = func() any { return detect.NewScratch() }

	var errs policy.Errors
	fail := func(pos policy.Pos, id string, err error) {
		errs = append(errs, &policy.Error{File: p.File, Line: max(pos.Line, 1), Col: max(pos.Col, 1), RuleID: id, Msg: err.Error(), Err: err})
	}
	// Each exclusion is compiled once and shared by the rules it names.
	excl := make([]*compiledExclusion, len(p.Exclusions))
	for i, x := range p.Exclusions {
		cx, err := compileExclusion(x)
		if err != nil {
			fail(x.Pos, "", err)
			continue
		}
		excl[i] = &cx
	}
	for _, r := range p.Inputs {
		mode := resolveMode(p, r.Mode)
		if mode == ModeOff {
			continue
		}
		cr := compiledRule{id: r.ID, action: capAction(r.Action, mode), minConf: r.MinConfidence}
		switch {
		case r.Match != nil:
			m, err := match.New(matchSpec(r.Match))
			if err != nil {
				fail(r.Pos, r.ID, fmt.Errorf("match: %w", err))
				continue
			}
			cr.m, cr.category = m, customCategory
		default:
			d, ok := dets[r.Detector]
			if !ok || d == nil {
				fail(r.Pos, r.ID, fmt.Errorf("unknown detector %q", r.Detector))
				continue
			}
			cr.det, cr.category = d, d.Category()
		}
		for _, g := range r.Paths {
			cg, err := glob.Compile(g, '.')
			if err != nil {
				fail(r.Pos, r.ID, fmt.Errorf("path glob %q: %w", g, err))
				continue
			}
			cr.paths = append(cr.paths, cg)
		}
		for i, x := range p.Exclusions {
			if excludes(x, r.ID) && excl[i] != nil {
				cr.excl = append(cr.excl, excl[i])
			}
		}
		idx := int32(len(e.rules))
		e.rules = append(e.rules, cr)
		targets := r.Targets
		if len(targets) == 0 {
			for s := SourceQuery; s < numSources; s++ {
				e.bySource[s] = append(e.bySource[s], idx)
			}
			continue
		}
		for _, s := range targets {
			if s > SourceUnknown && s < numSources {
				e.bySource[s] = append(e.bySource[s], idx)
			}
		}
	}
	var err error
	if e.egress, err = compileEgress(&p.Egress, resolveMode(p, p.Egress.Mode)); err != nil {
		fail(p.Egress.Pos, "", fmt.Errorf("egress: %w", err))
	}
	if e.sinks, err = compileSinks(p); err != nil {
		fail(p.Sinks.Pos, "", fmt.Errorf("sinks: %w", err))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return e, nil
}

func excludes(x policy.Exclusion, id string) bool {
	for _, r := range x.Rules {
		if r == "*" || r == id {
			return true
		}
	}
	return false
}

func compileExclusion(x policy.Exclusion) (compiledExclusion, error) {
	var cx compiledExclusion
	for _, g := range x.Paths {
		cg, err := glob.Compile(g, '.')
		if err != nil {
			return cx, fmt.Errorf("exclusion path glob %q: %w", g, err)
		}
		cx.paths = append(cx.paths, cg)
	}
	if x.Route != "" {
		cg, err := glob.Compile(x.Route, '/')
		if err != nil {
			return cx, fmt.Errorf("exclusion route %q: %w", x.Route, err)
		}
		cx.route, cx.hasRoute = cg, true
	}
	return cx, nil
}

// resolveMode is the mode of a rule, the egress section or a sink that
// names own (nil: the policy's), after LAMBDA_RASP_MODE: the global mode
// when own is nil, else own capped by the forced mode; off whenever the
// global mode is off.
func resolveMode(p *policy.Policy, own *Mode) Mode {
	global := p.EffectiveMode()
	switch {
	case global == ModeOff:
		return ModeOff
	case own == nil:
		return global
	case p.ForcedMode != nil:
		return leastDisruptive(*own, *p.ForcedMode)
	default:
		return *own
	}
}

// matchSpec converts a policy matcher for the match package.
func matchSpec(m *policy.MatchSpec) match.Spec {
	return match.Spec{Regex: m.Regex, Phrases: m.Phrases, Equals: m.Equals, Prefix: m.Prefix, CaseInsensitive: m.CaseInsensitive}
}

// capAction limits a to what mode allows.
func capAction(a Action, mode Mode) Action {
	switch mode {
	case ModeOff:
		return ActionAllow
	case ModeMonitor:
		return min(a, ActionMonitor)
	default:
		return a
	}
}

// leastDisruptive returns the less disruptive of two modes.
func leastDisruptive(a, b Mode) Mode {
	rank := func(m Mode) int {
		switch m {
		case ModeOff:
			return 0
		case ModeMonitor:
			return 1
		default:
			return 2
		}
	}
	if rank(a) < rank(b) {
		return a
	}
	return b
}

// Inspect inspects the fields of req and decides. It never panics: a
// panic in a detector is recovered into Decision.Err ([*PanicError]); then,
// and when req.Truncated is set, the policy's on_error decides
// (a match found so far still counts). A cancelled ctx stops inspection
// the same way with ctx's error. An overrun of the time budget does not
// stop inspection: it sets Decision.OverBudget.
//
// At most limits.max_fields fields are inspected; beyond them the
// decision is truncated. A request without matches does not allocate.
func (e *Engine) Inspect(ctx context.Context, req *Request) Decision {
	start := e.now()
	var d Decision
	if ctx == nil {
		ctx = context.Background()
	}
	if e.mode == ModeOff || req == nil {
		d.Elapsed = e.now().Sub(start)
		return d
	}
	sc, _ := e.scratch.Get().(*detect.Scratch)
	if sc == nil {
		sc = detect.NewScratch()
	}
	e.inspect(ctx, req, sc, &d, start)
	sc.Reset("")
	e.scratch.Put(sc)

	if req.Truncated {
		d.Truncated = true
	}
	if d.Truncated || d.Err != nil {
		d.Incomplete = IncompleteReason(d.Err)
		d.Action = max(d.Action, e.onErrorBy.For(d.Incomplete))
	}
	d.Elapsed = e.now().Sub(start)
	return d
}

// inspect runs the rules over the fields; it recovers panics into d.Err.
func (e *Engine) inspect(ctx context.Context, req *Request, sc *detect.Scratch, d *Decision, start time.Time) {
	var cur *compiledRule
	defer func() {
		if r := recover(); r != nil {
			id := ""
			if cur != nil {
				id = cur.id
			}
			d.Err = &PanicError{RuleID: id, Value: r}
			d.Truncated = true
		}
	}()
	budget := e.policy.Limits.Budget
	fields := req.Fields
	if limit := e.policy.Limits.MaxFields; limit > 0 && len(fields) > limit {
		// The adapter applies the same limit; a caller that did not is
		// treated like a truncated event.
		fields = fields[:limit]
		d.Truncated = true
	}
	for i := range fields {
		if i > 0 && i%budgetEvery == 0 {
			// Past the budget, inspection goes on to the last field
			// (its cost is bounded by the size limits): stopping would
			// hand the tail of the event to whoever pads its head.
			if budget > 0 && !d.OverBudget && e.now().Sub(start) > budget {
				d.OverBudget = true
			}
			if err := ctx.Err(); err != nil {
				d.Err, d.Truncated = err, true
				return
			}
		}
		f := &fields[i]
		if f.Source >= numSources || f.Value == "" {
			continue
		}
		// One value is inspected up to max_body_bytes: a 6 MB string in a
		// plain JSON event would otherwise cost tens of milliseconds, past
		// any time budget (which is checked between fields).
		value := f.Value
		if limit := e.policy.Limits.MaxBodyBytes; limit > 0 && int64(len(value)) > limit {
			value = value[:limit]
			d.Truncated = true
		}
		reset := false
		in := detect.Input{Value: value, Key: f.Key, Source: f.Source.String()}
		for _, ri := range e.bySource[f.Source] {
			r := &e.rules[ri]
			if r.paths != nil && !r.paths.Match(f.Path) {
				continue
			}
			if r.excluded(f.Path, req.Route) {
				continue
			}
			cur = r
			var (
				evidence   string
				start, end int
				hit        bool
				conf       Confidence
			)
			if r.det != nil {
				if !reset {
					sc.Reset(value)
					reset = true
				}
				var fd detect.Finding
				fd, hit = r.det.Detect(sc, in)
				evidence = fd.Evidence
				if fd.Confidence == detect.Low {
					conf = ConfidenceLow
				}
			} else {
				start, end, hit = r.m.Match(value)
			}
			if !hit {
				continue
			}
			action := r.action
			if conf > r.minConf {
				// Below the rule's confidence bar: reported, not blocked.
				action = min(action, ActionMonitor)
			}
			d.Action = max(d.Action, action)
			if len(d.Matches) < maxMatches {
				if d.Matches == nil {
					d.Matches = make([]Match, 0, 4)
				}
				d.Matches = append(d.Matches, Match{
					RuleID:     r.id,
					Category:   r.category,
					Source:     f.Source,
					Path:       f.Path,
					Excerpt:    excerptFor(value, evidence, start, end),
					Action:     action,
					Confidence: conf,
				})
			}
		}
	}
}

// excerptFor returns the redacted excerpt of a match: around
// value[start:end] for user matchers; around a detector's evidence when it
// occurs in value, else of the evidence itself (it came from a decoded
// view of the value); of the value's start without evidence.
func excerptFor(value, evidence string, start, end int) string {
	if evidence == "" {
		return excerpt(value, start, end)
	}
	if i := strings.Index(value, evidence); i >= 0 {
		return excerpt(value, i, i+len(evidence))
	}
	return excerpt(evidence, 0, len(evidence))
}

// excluded reports whether an exclusion switches r off for the field at
// path on route.
func (r *compiledRule) excluded(path, route string) bool {
	for _, x := range r.excl {
		if x.hasRoute && !x.route.Match(route) {
			continue
		}
		if x.paths == nil || x.paths.Match(path) {
			return true
		}
	}
	return false
}

// Mode returns the engine's effective global mode (after LAMBDA_RASP_MODE).
func (e *Engine) Mode() Mode { return e.mode }

// OnErrorFor returns what an incomplete inspection does for reason
// (policy.ReasonLimits, ReasonBudget, ReasonMalformed, ReasonPanic),
// after the mode: [ActionAllow], [ActionMonitor] or [ActionBlock].
func (e *Engine) OnErrorFor(reason string) Action { return e.onErrorBy.For(reason) }

// IncompleteReason returns the on_error reason of an inspection that
// stopped with err (nil: a limit cut the event): policy.ReasonBudget for
// a done context (the invocation's deadline), policy.ReasonPanic for a *PanicError and
// any other error, policy.ReasonLimits for nil.
func IncompleteReason(err error) string {
	var pe *PanicError
	switch {
	case err == nil:
		return policy.ReasonLimits
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return policy.ReasonBudget
	case errors.As(err, &pe):
		return policy.ReasonPanic
	}
	return policy.ReasonPanic
}

// OnError returns what an internal inspection error does, after the mode:
// [ActionAllow], [ActionMonitor] (on_error block in monitor mode) or
// [ActionBlock].
func (e *Engine) OnError() Action { return e.onError }

// Limits returns the policy's limits.
func (e *Engine) Limits() policy.Limits { return e.policy.Limits }

// Name returns the policy's name ([policy.Policy.DisplayName]).
func (e *Engine) Name() string { return e.name }

// Version returns a short, stable hash of the policy's content (with the
// forced mode, if any), for the policy_version of logs and metrics
// ([policy.Policy.ContentVersion]).
func (e *Engine) Version() string { return e.version }

// Policy returns the compiled policy (its Origin says where it came
// from). It must not be modified.
func (e *Engine) Policy() *policy.Policy { return e.policy }

// Egress returns the compiled egress policy.
func (e *Engine) Egress() *Egress { return e.egress }

// Sinks returns the compiled sink policy.
func (e *Engine) Sinks() *Sinks { return e.sinks }
