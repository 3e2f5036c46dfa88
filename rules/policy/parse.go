package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/catalog"
)

// Bounds on what a policy may contain. A policy beyond them is rejected
// with an error wrapping [ErrTooLarge].
const (
	// MaxPolicyBytes is the largest accepted policy file.
	MaxPolicyBytes = 1 << 20
	// MaxRules is the most input rules (and the most exclusions, tests,
	// and egress rules of each list) a policy may have.
	MaxRules = 1024
	// maxNodes bounds the YAML nodes visited, aliases included.
	maxNodes = 200_000
	// maxErrors bounds the errors reported for one policy.
	maxErrors = 100
	// maxListLen bounds the length of inner lists (targets, paths, ports).
	maxListLen = 256
)

var (
	idPattern     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	schemePattern = regexp.MustCompile(`^[a-z][a-z0-9+.-]{0,31}$`)
	yamlLineError = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// LoadFile reads and parses the policy file at path.
func LoadFile(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates the policy in data. name (usually the file
// path) is used in error messages and resolves the tests' event files.
// Every problem found is reported at once as [Errors], each with its
// file, line, column and rule id.
func Parse(name string, data []byte) (pol *Policy, err error) {
	p := &parser{file: name, detectors: catalog.Detectors()}
	defer func() {
		// yaml.v3 is not expected to panic, but a policy is input.
		if r := recover(); r != nil {
			pol, err = nil, Errors{{File: name, Line: 1, Col: 1, Msg: fmt.Sprintf("malformed YAML: %v", r)}}
		}
	}()
	if len(data) > MaxPolicyBytes {
		return nil, Errors{{File: name, Line: 1, Col: 1, Err: ErrTooLarge,
			Msg: fmt.Sprintf("policy is larger than %d bytes", MaxPolicyBytes)}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: name, Line: 1, Col: 1, Msg: "empty policy (want at least \"version: 1\")"}}
		}
		return nil, Errors{p.yamlError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, Errors{p.yamlError(err)}
		}
		return nil, Errors{{File: name, Line: max(line, 1), Col: 1, Msg: "more than one YAML document"}}
	}
	pol = &Policy{File: name, Mode: ModeBlock, OnError: ActionBlock, OnErrorBy: failClosed(), Limits: DefaultLimits()}
	p.policy(&doc, pol)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *Error) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Col - b.Col
		})
		return nil, p.errs
	}
	sum := sha256.Sum256(data)
	pol.hash = hex.EncodeToString(sum[:6])
	return pol, nil
}

// parser walks the YAML node tree, collecting errors.
type parser struct {
	file      string
	detectors []string // the built-in detector names, sorted
	errs      Errors
	nodes     int
	rule      string // the input rule being parsed, for error messages
	tooBig    bool
}

func (p *parser) yamlError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
		}
		msg = m[2]
	}
	return &Error{File: p.file, Line: line, Col: 1, Msg: "malformed YAML: " + msg, Err: err}
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		if len(p.errs) == maxErrors {
			p.errs = append(p.errs, &Error{File: p.file, Line: max(n.Line, 1), Col: max(n.Column, 1),
				Msg: fmt.Sprintf("more than %d errors; stopping", maxErrors)})
		}
		return
	}
	e := &Error{File: p.file, Line: 1, Col: 1, RuleID: p.rule, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = max(n.Line, 1), max(n.Column, 1)
	}
	p.errs = append(p.errs, e)
}

// resolve follows aliases and counts nodes against maxNodes. It returns
// nil once the bound is reached.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 64 {
			p.errorf(n, "alias chain too long")
			return nil
		}
		n = n.Alias
	}
	if p.tooBig {
		return nil
	}
	p.nodes++
	if p.nodes > maxNodes {
		p.tooBig = true
		p.errs = append(p.errs, &Error{File: p.file, Line: max(n.Line, 1), Col: max(n.Column, 1),
			Err: ErrTooLarge, Msg: fmt.Sprintf("policy expands to more than %d YAML nodes", maxNodes)})
		return nil
	}
	return n
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	default:
		return "an unsupported node"
	}
}

// fields walks a mapping node, calling handle for each known key and
// reporting unknown and duplicate keys.
func (p *parser) fields(n *yaml.Node, what string, handlers map[string]func(k, v *yaml.Node)) {
	if n = p.resolve(n); n == nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		return
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be scalars", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		h, ok := handlers[k.Value]
		if !ok {
			p.errorf(k, "%s: unknown key %q (want one of %s)", what, k.Value, keyList(handlers))
			continue
		}
		h(k, v)
	}
}

func keyList(handlers map[string]func(k, v *yaml.Node)) string {
	keys := make([]string, 0, len(handlers))
	for k := range handlers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// str returns a scalar string value.
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	if n = p.resolve(n); n == nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// strictStr is str that also refuses YAML numbers and booleans, so that
// "mode: yes" is not silently a string.
func (p *parser) strictStr(n *yaml.Node, what string) (string, bool) {
	if r := p.resolve(n); r != nil && r.Kind == yaml.ScalarNode && r.Tag != "!!str" && r.Tag != "!!null" {
		p.errorf(r, "%s must be a string, got %s %q", what, strings.TrimPrefix(r.Tag, "!!"), r.Value)
		return "", false
	}
	return p.str(n, what)
}

func (p *parser) integer(n *yaml.Node, what string, lo, hi int64) (int64, bool) {
	if n = p.resolve(n); n == nil {
		return 0, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, "%s must be an integer, got %s %q", what, kindName(n), n.Value)
		return 0, false
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < lo || v > hi {
		p.errorf(n, "%s must be between %d and %d, got %s", what, lo, hi, n.Value)
		return 0, false
	}
	return v, true
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n = p.resolve(n); n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, "%s must be true or false, got %q", what, n.Value)
		return false, false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", true
}

// list calls each for every item of a sequence node.
func (p *parser) list(n *yaml.Node, what string, limit int, each func(i int, item *yaml.Node)) {
	if n = p.resolve(n); n == nil {
		return
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, got %s", what, kindName(n))
		return
	}
	if len(n.Content) > limit {
		p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Col: n.Column, RuleID: p.rule,
			Err: ErrTooLarge, Msg: fmt.Sprintf("%s has %d entries, at most %d allowed", what, len(n.Content), limit)})
		return
	}
	for i, item := range n.Content {
		each(i, item)
	}
}

// strs returns a list of strings; a single scalar is accepted as a list
// of one when one is true.
func (p *parser) strs(n *yaml.Node, what string, limit int, one bool) ([]string, []*yaml.Node) {
	if r := p.resolve(n); one && r != nil && r.Kind == yaml.ScalarNode {
		s, ok := p.strictStr(r, what)
		if !ok {
			return nil, nil
		}
		return []string{s}, []*yaml.Node{r}
	}
	out := []string{}
	var nodes []*yaml.Node
	p.list(n, what, limit, func(_ int, item *yaml.Node) {
		if s, ok := p.strictStr(item, what+" entry"); ok {
			out = append(out, s)
			nodes = append(nodes, item)
		}
	})
	return out, nodes
}

func (p *parser) mode(n *yaml.Node, what string) (Mode, bool) {
	s, ok := p.strictStr(n, what)
	if !ok {
		return ModeBlock, false
	}
	m, err := ParseMode(s)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
		return ModeBlock, false
	}
	return m, true
}

func (p *parser) policy(doc *yaml.Node, pol *Policy) {
	root := doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		root = doc.Content[0]
	}
	var (
		sawVersion bool
		inputsNode *yaml.Node
		exclNode   *yaml.Node
		testsNode  *yaml.Node
		egressNode *yaml.Node
		sinksNode  *yaml.Node
	)
	p.fields(root, "policy", map[string]func(k, v *yaml.Node){
		"version": func(_, v *yaml.Node) {
			sawVersion = true
			if r := p.resolve(v); r != nil && r.Kind == yaml.ScalarNode && r.Tag == "!!int" && r.Value != "1" {
				p.errorf(r, "unsupported version %s (want 1)", r.Value)
				return
			}
			if n, ok := p.integer(v, "version", 1, 1); ok {
				pol.Version = int(n)
			}
		},
		"name": func(_, v *yaml.Node) {
			if s, ok := p.strictStr(v, "name"); ok {
				if !idPattern.MatchString(s) {
					p.errorf(v, "name %q: use 1-64 letters, digits, '.', '_' or '-'", s)
				}
				pol.Name = s
			}
		},
		"mode": func(_, v *yaml.Node) {
			if m, ok := p.mode(v, "mode"); ok {
				pol.Mode = m
			}
		},
		"on_error":   func(_, v *yaml.Node) { p.onError(v, pol) },
		"limits":     func(_, v *yaml.Node) { p.limits(v, &pol.Limits) },
		"inputs":     func(_, v *yaml.Node) { inputsNode = v },
		"exclusions": func(_, v *yaml.Node) { exclNode = v },
		"egress":     func(_, v *yaml.Node) { egressNode = v },
		"sinks":      func(_, v *yaml.Node) { sinksNode = v },
		"tests":      func(_, v *yaml.Node) { testsNode = v },
	})
	if root.Kind == yaml.MappingNode && !sawVersion {
		p.errorf(root, "missing \"version: 1\"")
	}
	// Sections that refer to the global mode or to rule ids come after
	// the scalars and the inputs, whatever their order in the file.
	ids := map[string]int{}
	if inputsNode != nil {
		p.list(inputsNode, "inputs", MaxRules, func(_ int, item *yaml.Node) {
			if r, ok := p.inputRule(item, ids); ok {
				pol.Inputs = append(pol.Inputs, r)
			}
		})
		p.rule = ""
	}
	if exclNode != nil {
		p.list(exclNode, "exclusions", MaxRules, func(_ int, item *yaml.Node) {
			if x, ok := p.exclusion(item, ids); ok {
				pol.Exclusions = append(pol.Exclusions, x)
			}
		})
	}
	pol.Egress = EgressPolicy{Default: "allow"}
	if egressNode != nil {
		p.egress(egressNode, &pol.Egress)
	}
	pol.Sinks = SinkPolicy{
		SQL:   SQLSink{Mode: pol.Mode},
		Exec:  ExecSink{Mode: pol.Mode},
		Files: FileSink{Mode: pol.Mode},
	}
	if sinksNode != nil {
		p.sinks(sinksNode, &pol.Sinks)
	}
	if testsNode != nil {
		p.list(testsNode, "tests", MaxRules, func(_ int, item *yaml.Node) {
			if t, ok := p.test(item, ids); ok {
				pol.Tests = append(pol.Tests, t)
			}
		})
	}
}

// onError parses on_error: "allow" or "block" for every reason, or a
// mapping from reasons (limits, budget, malformed, panic) to allow or
// block, in which a reason left out blocks.
func (p *parser) onError(v *yaml.Node, pol *Policy) {
	action := func(v *yaml.Node, what string) (Action, bool) {
		s, ok := p.strictStr(v, what)
		switch {
		case !ok:
		case s == "allow":
			return ActionAllow, true
		case s == "block":
			return ActionBlock, true
		default:
			p.errorf(v, "%s: unknown value %q (want allow or block)", what, s)
		}
		return ActionAllow, false
	}
	if v.Kind != yaml.MappingNode {
		if a, ok := action(v, "on_error"); ok {
			pol.OnError = a
			pol.OnErrorBy = OnErrorActions{Limits: a, Budget: a, Malformed: a, Panic: a}
		}
		return
	}
	by := failClosed()
	set := func(dst *Action, what string) func(_, v *yaml.Node) {
		return func(_, v *yaml.Node) {
			if a, ok := action(v, what); ok {
				*dst = a
			}
		}
	}
	p.fields(v, "on_error", map[string]func(k, v *yaml.Node){
		ReasonLimits:    set(&by.Limits, "on_error.limits"),
		ReasonBudget:    set(&by.Budget, "on_error.budget"),
		ReasonMalformed: set(&by.Malformed, "on_error.malformed"),
		ReasonPanic:     set(&by.Panic, "on_error.panic"),
	})
	pol.OnErrorBy = by
	pol.OnError = by.Panic
}

func (p *parser) limits(n *yaml.Node, l *Limits) {
	p.fields(n, "limits", map[string]func(k, v *yaml.Node){
		"max_body_bytes": func(_, v *yaml.Node) {
			if x, ok := p.integer(v, "limits.max_body_bytes", 1, 64<<20); ok {
				l.MaxBodyBytes = x
			}
		},
		"max_depth": func(_, v *yaml.Node) {
			if x, ok := p.integer(v, "limits.max_depth", 1, 1000); ok {
				l.MaxDepth = int(x)
			}
		},
		"max_fields": func(_, v *yaml.Node) {
			if x, ok := p.integer(v, "limits.max_fields", 1, 100_000); ok {
				l.MaxFields = int(x)
			}
		},
		"budget": func(_, v *yaml.Node) {
			s, ok := p.strictStr(v, "limits.budget")
			if !ok {
				return
			}
			d, err := time.ParseDuration(s)
			switch {
			case err != nil:
				p.errorf(v, "limits.budget: %q is not a duration (for example 2ms)", s)
			case d < 10*time.Microsecond || d > 10*time.Second:
				p.errorf(v, "limits.budget must be between 10µs and 10s, got %s", s)
			default:
				l.Budget = d
			}
		},
	})
}
