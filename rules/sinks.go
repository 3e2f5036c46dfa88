package rules

import (
	"fmt"
	"path"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// Sinks is the compiled sink policy: the SQL, exec and file guards'
// checks. Its methods are pure (no I/O), safe for concurrent use, and a
// nil *Sinks allows everything.
//
// Each check correlates the value about to reach a sink with the
// request's inputs, as the wrapper extracted them ([Field]): an input
// that appears verbatim in a query, a shell command or a path and changes
// its structure there is an injection. A check returns the first finding
// as a [SinkResult]; the zero SinkResult allows.
type Sinks struct {
	sqlMode, execMode, fileMode Mode

	// execDeny denies every program not in execAllowPaths (absolute
	// paths) or execAllowNames (base names).
	execDeny       bool
	execAllowPaths []string
	execAllowNames []string

	fileDeny, fileAllow []fileGlob
}

// SinkResult is the outcome of one sink check. The zero value allows.
type SinkResult struct {
	// Action is what the sink's mode asks for: ActionBlock or
	// ActionMonitor when something was found, else ActionAllow.
	Action Action
	// RuleID is one of the fixed sink rule ids (RuleSQLiSink, ...).
	RuleID string
	// Reason is a short, payload-free explanation ("tautology",
	// "input escapes the base directory", ...).
	Reason string
	// Input is the correlated request input, pointing into the inputs
	// the check was given; nil for findings that involve no input
	// (a program or path the policy denies).
	Input *Field
	// Excerpt is a short, redacted excerpt of Input's value around what
	// made it an injection; empty when Input is nil.
	Excerpt string
}

// Matched reports whether r found something (blocked or monitored).
func (r SinkResult) Matched() bool { return r.Action != ActionAllow }

// compileSinks compiles pol's sinks section; each sink names its own
// mode, which resolveMode caps. An engine whose mode is off checks
// nothing.
func compileSinks(pol *policy.Policy) (*Sinks, error) {
	p := &pol.Sinks
	s := &Sinks{
		sqlMode:  resolveMode(pol, &p.SQL.Mode),
		execMode: resolveMode(pol, &p.Exec.Mode),
		fileMode: resolveMode(pol, &p.Files.Mode),
		execDeny: p.Exec.Deny,
	}
	for _, a := range p.Exec.Allow {
		if strings.HasPrefix(a, "/") {
			s.execAllowPaths = append(s.execAllowPaths, path.Clean(a))
		} else {
			s.execAllowNames = append(s.execAllowNames, a)
		}
	}
	var err error
	if s.fileDeny, err = compileFileGlobs(p.Files.Deny); err != nil {
		return nil, fmt.Errorf("files.deny: %w", err)
	}
	if s.fileAllow, err = compileFileGlobs(p.Files.Allow); err != nil {
		return nil, fmt.Errorf("files.allow: %w", err)
	}
	return s, nil
}

// SQLMode returns the mode of the SQL guard (ModeOff for a nil s).
func (s *Sinks) SQLMode() Mode {
	if s == nil {
		return ModeOff
	}
	return s.sqlMode
}

// ExecMode returns the mode of the exec guard (ModeOff for a nil s).
func (s *Sinks) ExecMode() Mode {
	if s == nil {
		return ModeOff
	}
	return s.execMode
}

// FileMode returns the mode of the file guard (ModeOff for a nil s).
func (s *Sinks) FileMode() Mode {
	if s == nil {
		return ModeOff
	}
	return s.fileMode
}

// found builds the result of a finding under mode m.
func found(m Mode, rule, reason string, in *Field, start, end int) SinkResult {
	r := SinkResult{Action: ActionBlock, RuleID: rule, Reason: reason, Input: in}
	if m == ModeMonitor {
		r.Action = ActionMonitor
	}
	if in != nil {
		r.Excerpt = excerpt(in.Value, start, end)
	}
	return r
}

// maxExamined bounds the work spent on one input in one sink value: the
// occurrences examined times the input's length (each examination costs a
// binary search plus the tokens the input spans).
const maxExamined = 1 << 20

// reasonTooMany is the reason of a finding for an input that occurs too
// often to examine every copy: decoy copies (inside a quoted value) must
// not hide the one that is code behind the bound.
const reasonTooMany = "input occurs too often to examine"

// occurrences calls f with the start of each occurrence of v in s until f
// returns true (hit). When the work bound stops it first, capped reports
// that occurrences remain unexamined.
func occurrences(s, v string, f func(at int) bool) (hit, capped bool) {
	off, work := 0, 0
	for {
		j := strings.Index(s[off:], v)
		if j < 0 {
			return false, false
		}
		if work += len(v); work > maxExamined {
			return false, true
		}
		if f(off + j) {
			return true, false
		}
		off += j + 1
		if off > len(s)-len(v) {
			return false, false
		}
	}
}
