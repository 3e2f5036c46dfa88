package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/match"
)

// Bounds on what a policy may contain. A policy beyond them is rejected
// with an error wrapping [ErrPolicyTooLarge].
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
// Every problem found is reported at once as [PolicyErrors], each with its
// file, line, column and rule id.
func Parse(name string, data []byte) (pol *Policy, err error) {
	return parse(name, data, builtinDetectors())
}

// parse is Parse with a given detector set.
func parse(name string, data []byte, dets detectorSet) (pol *Policy, err error) {
	p := &parser{file: name, dets: dets}
	defer func() {
		// yaml.v3 is not expected to panic, but a policy is input.
		if r := recover(); r != nil {
			pol, err = nil, PolicyErrors{{File: name, Line: 1, Col: 1, Msg: fmt.Sprintf("malformed YAML: %v", r)}}
		}
	}()
	if len(data) > MaxPolicyBytes {
		return nil, PolicyErrors{{File: name, Line: 1, Col: 1, Err: ErrPolicyTooLarge,
			Msg: fmt.Sprintf("policy is larger than %d bytes", MaxPolicyBytes)}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, PolicyErrors{{File: name, Line: 1, Col: 1, Msg: "empty policy (want at least \"version: 1\")"}}
		}
		return nil, PolicyErrors{p.yamlError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, PolicyErrors{p.yamlError(err)}
		}
		return nil, PolicyErrors{{File: name, Line: max(line, 1), Col: 1, Msg: "more than one YAML document"}}
	}
	pol = &Policy{File: name, Mode: ModeBlock, OnError: ActionAllow, Limits: DefaultLimits()}
	p.policy(&doc, pol)
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b *PolicyError) int {
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
	file   string
	dets   detectorSet
	errs   PolicyErrors
	nodes  int
	rule   string // the input rule being parsed, for error messages
	tooBig bool
}

func (p *parser) yamlError(err error) *PolicyError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLineError.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
		}
		msg = m[2]
	}
	return &PolicyError{File: p.file, Line: line, Col: 1, Msg: "malformed YAML: " + msg, Err: err}
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		if len(p.errs) == maxErrors {
			p.errs = append(p.errs, &PolicyError{File: p.file, Line: max(n.Line, 1), Col: max(n.Column, 1),
				Msg: fmt.Sprintf("more than %d errors; stopping", maxErrors)})
		}
		return
	}
	e := &PolicyError{File: p.file, Line: 1, Col: 1, RuleID: p.rule, Msg: fmt.Sprintf(format, args...)}
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
		p.errs = append(p.errs, &PolicyError{File: p.file, Line: max(n.Line, 1), Col: max(n.Column, 1),
			Err: ErrPolicyTooLarge, Msg: fmt.Sprintf("policy expands to more than %d YAML nodes", maxNodes)})
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
		p.errs = append(p.errs, &PolicyError{File: p.file, Line: n.Line, Col: n.Column, RuleID: p.rule,
			Err: ErrPolicyTooLarge, Msg: fmt.Sprintf("%s has %d entries, at most %d allowed", what, len(n.Content), limit)})
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
		"on_error": func(_, v *yaml.Node) {
			s, ok := p.strictStr(v, "on_error")
			switch {
			case !ok:
			case s == "allow":
				pol.OnError = ActionAllow
			case s == "block":
				pol.OnError = ActionBlock
			default:
				p.errorf(v, "on_error: unknown value %q (want allow or block)", s)
			}
		},
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

func (p *parser) inputRule(n *yaml.Node, ids map[string]int) (InputRule, bool) {
	r := InputRule{Action: ActionBlock}
	n = p.resolve(n)
	if n == nil {
		return r, false
	}
	r.Pos = pos(n)
	// The id first, so that every other error names the rule.
	p.rule = ""
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "id" {
				if v := p.resolve(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
					p.rule = v.Value
				}
			}
		}
	}
	before := len(p.errs)
	var detNode, matchNode *yaml.Node
	p.fields(n, "input rule", map[string]func(k, v *yaml.Node){
		"id": func(_, v *yaml.Node) {
			s, ok := p.strictStr(v, "id")
			if !ok {
				return
			}
			if !idPattern.MatchString(s) {
				p.errorf(v, "id %q: use 1-64 letters, digits, '.', '_' or '-'", s)
				return
			}
			if line, dup := ids[s]; dup {
				p.errorf(v, "duplicate rule id (first defined at line %d)", line)
				return
			}
			ids[s] = v.Line
			r.ID = s
		},
		"detector": func(_, v *yaml.Node) {
			detNode = v
			if s, ok := p.strictStr(v, "detector"); ok {
				if _, known := p.dets[s]; !known {
					p.errorf(v, "unknown detector %q (built-in: %s)", s, strings.Join(p.dets.names(), ", "))
				}
				r.Detector = s
			}
		},
		"match": func(_, v *yaml.Node) {
			matchNode = v
			r.Match = p.matchSpec(v)
		},
		"targets": func(_, v *yaml.Node) {
			r.Targets = []Source{}
			p.list(v, "targets", maxListLen, func(_ int, item *yaml.Node) {
				s, ok := p.strictStr(item, "target")
				if !ok {
					return
				}
				src, err := ParseSource(s)
				if err != nil {
					p.errorf(item, "unknown target source %q (want query, path, headers, cookies, body, pathParams or record)", s)
					return
				}
				if slices.Contains(r.Targets, src) {
					p.errorf(item, "target %q listed twice", s)
					return
				}
				r.Targets = append(r.Targets, src)
			})
			if len(r.Targets) == 0 && len(p.errs) == before {
				p.errorf(v, "targets is empty; leave it out to inspect every source")
			}
		},
		"paths": func(_, v *yaml.Node) {
			paths, nodes := p.strs(v, "paths", maxListLen, false)
			if len(paths) == 0 && len(p.errs) == before {
				p.errorf(v, "paths is empty; leave it out to inspect every path")
			}
			for i, g := range paths {
				if _, err := compileGlob(g, '.'); err != nil {
					p.errorf(nodes[i], "bad path glob %q: %v", g, err)
				}
			}
			r.Paths = paths
		},
		"action": func(_, v *yaml.Node) {
			s, ok := p.strictStr(v, "action")
			switch {
			case !ok:
			case s == "block":
				r.Action = ActionBlock
			case s == "monitor":
				r.Action = ActionMonitor
			default:
				p.errorf(v, "unknown action %q (want block or monitor)", s)
			}
		},
		"mode": func(_, v *yaml.Node) {
			if m, ok := p.mode(v, "mode"); ok {
				r.Mode = &m
			}
		},
		"min_confidence": func(_, v *yaml.Node) {
			s, ok := p.strictStr(v, "min_confidence")
			switch {
			case !ok:
			case s == "high":
				r.MinConfidence = ConfidenceHigh
			case s == "low":
				r.MinConfidence = ConfidenceLow
			default:
				p.errorf(v, "unknown min_confidence %q (want high or low)", s)
			}
		},
	})
	if n.Kind == yaml.MappingNode {
		switch {
		case r.ID == "" && p.rule == "":
			p.errorf(n, "input rule has no id")
		case detNode == nil && matchNode == nil:
			p.errorf(n, "set one of detector or match")
		case detNode != nil && matchNode != nil:
			p.errorf(matchNode, "set only one of detector or match")
		}
	}
	return r, len(p.errs) == before
}

func (p *parser) matchSpec(n *yaml.Node) *MatchSpec {
	spec := &MatchSpec{}
	var first *yaml.Node
	count := 0
	set := func(k *yaml.Node) {
		count++
		if first == nil {
			first = k
		}
	}
	before := len(p.errs)
	p.fields(n, "match", map[string]func(k, v *yaml.Node){
		"regex": func(k, v *yaml.Node) {
			set(k)
			if s, ok := p.strictStr(v, "match.regex"); ok {
				spec.Regex = s
				if s == "" {
					p.errorf(v, "match.regex is empty")
				}
			}
		},
		"phrases": func(k, v *yaml.Node) {
			set(k)
			spec.Phrases, _ = p.strs(v, "match.phrases", match.MaxLiterals, false)
		},
		"equals": func(k, v *yaml.Node) {
			set(k)
			spec.Equals, _ = p.strs(v, "match.equals", match.MaxLiterals, true)
		},
		"prefix": func(k, v *yaml.Node) {
			set(k)
			spec.Prefix, _ = p.strs(v, "match.prefix", match.MaxLiterals, true)
		},
		"case_insensitive": func(_, v *yaml.Node) {
			spec.CaseInsensitive, _ = p.boolean(v, "match.case_insensitive")
		},
	})
	if len(p.errs) != before {
		return spec
	}
	if r := p.resolve(n); r != nil && r.Kind == yaml.MappingNode {
		switch {
		case count == 0:
			p.errorf(r, "match needs one of regex, phrases, equals or prefix")
		case count > 1:
			p.errorf(r, "match takes only one of regex, phrases, equals or prefix")
		default:
			if _, err := match.New(spec.matchSpec()); err != nil {
				target := n
				if len(r.Content) > 1 {
					target = r.Content[1]
				}
				p.errorf(target, "match: %v", err)
			}
		}
	}
	return spec
}

func (m *MatchSpec) matchSpec() match.Spec {
	return match.Spec{Regex: m.Regex, Phrases: m.Phrases, Equals: m.Equals, Prefix: m.Prefix, CaseInsensitive: m.CaseInsensitive}
}

func (p *parser) exclusion(n *yaml.Node, ids map[string]int) (Exclusion, bool) {
	var x Exclusion
	if n = p.resolve(n); n == nil {
		return x, false
	}
	x.Pos = pos(n)
	before := len(p.errs)
	var pathsKey string
	pathsHandler := func(k, v *yaml.Node) {
		if pathsKey != "" {
			p.errorf(k, "exclusion: use only one of paths and targets")
			return
		}
		pathsKey = k.Value
		paths, nodes := p.strs(v, "exclusion "+k.Value, maxListLen, false)
		for i, g := range paths {
			if _, err := compileGlob(g, '.'); err != nil {
				p.errorf(nodes[i], "bad path glob %q: %v", g, err)
			}
		}
		x.Paths = paths
	}
	sawRules := false
	p.fields(n, "exclusion", map[string]func(k, v *yaml.Node){
		"rules": func(_, v *yaml.Node) {
			sawRules = true
			rules, nodes := p.strs(v, "exclusion rules", maxListLen, true)
			for i, id := range rules {
				if _, ok := ids[id]; !ok && id != "*" {
					p.errorf(nodes[i], "exclusion names unknown rule %q", id)
				}
			}
			if len(rules) == 0 && len(nodes) == 0 && len(p.errs) == before {
				p.errorf(v, "exclusion rules is empty (use '*' for every rule)")
			}
			x.Rules = rules
		},
		// "paths" is the documented key; "targets" is accepted as in the
		// design sketch.
		"paths":   pathsHandler,
		"targets": pathsHandler,
		"when": func(_, v *yaml.Node) {
			p.fields(v, "exclusion when", map[string]func(k, v *yaml.Node){
				"route": func(_, rv *yaml.Node) {
					s, ok := p.strictStr(rv, "when.route")
					if !ok {
						return
					}
					if _, err := compileGlob(s, '/'); err != nil {
						p.errorf(rv, "bad route glob %q: %v", s, err)
						return
					}
					x.Route = s
				},
			})
		},
	})
	if n.Kind == yaml.MappingNode && !sawRules {
		p.errorf(n, "exclusion needs rules (use '*' for every rule)")
	}
	return x, len(p.errs) == before
}

func (p *parser) test(n *yaml.Node, ids map[string]int) (PolicyTest, bool) {
	var t PolicyTest
	if n = p.resolve(n); n == nil {
		return t, false
	}
	t.Pos = pos(n)
	before := len(p.errs)
	var sawWant bool
	p.fields(n, "test", map[string]func(k, v *yaml.Node){
		"name": func(_, v *yaml.Node) { t.Name, _ = p.str(v, "test name") },
		"event": func(_, v *yaml.Node) {
			t.Event, _ = p.strictStr(v, "test event")
			if t.Event == "" && len(p.errs) == before {
				p.errorf(v, "test event is empty")
			}
		},
		"want": func(_, v *yaml.Node) {
			sawWant = true
			sawAction := false
			p.fields(v, "test want", map[string]func(k, v *yaml.Node){
				"action": func(_, av *yaml.Node) {
					sawAction = true
					s, ok := p.strictStr(av, "want.action")
					switch {
					case !ok:
					case s == "allow":
						t.Want.Action = ActionAllow
					case s == "monitor":
						t.Want.Action = ActionMonitor
					case s == "block":
						t.Want.Action = ActionBlock
					default:
						p.errorf(av, "unknown action %q (want allow, monitor or block)", s)
					}
				},
				"rules": func(_, rv *yaml.Node) {
					rules, nodes := p.strs(rv, "want.rules", maxListLen, true)
					for i, id := range rules {
						if _, ok := ids[id]; !ok {
							p.errorf(nodes[i], "test expects unknown rule %q", id)
						}
					}
					t.Want.Rules = rules
				},
			})
			if r := p.resolve(v); r != nil && r.Kind == yaml.MappingNode && !sawAction {
				p.errorf(r, "test want needs an action")
			}
		},
	})
	if n.Kind == yaml.MappingNode {
		if t.Name == "" {
			p.errorf(n, "test needs a name")
		}
		if t.Event == "" && len(p.errs) == before {
			p.errorf(n, "test needs an event file")
		}
		if !sawWant {
			p.errorf(n, "test needs want: {action: ...}")
		}
	}
	return t, len(p.errs) == before
}

func (p *parser) egress(n *yaml.Node, e *EgressPolicy) {
	if r := p.resolve(n); r != nil {
		e.Pos = pos(r)
	}
	p.fields(n, "egress", map[string]func(k, v *yaml.Node){
		"default": func(_, v *yaml.Node) {
			s, ok := p.strictStr(v, "egress.default")
			switch {
			case !ok:
			case s == "allow" || s == "deny":
				e.Default = s
			default:
				p.errorf(v, "egress.default: unknown value %q (want allow or deny)", s)
			}
		},
		"mode": func(_, v *yaml.Node) {
			if m, ok := p.mode(v, "egress.mode"); ok {
				e.Mode = &m
			}
		},
		"allow": func(_, v *yaml.Node) { e.Allow = p.egressRules(v, "egress.allow") },
		"deny":  func(_, v *yaml.Node) { e.Deny = p.egressRules(v, "egress.deny") },
	})
}

func (p *parser) egressRules(n *yaml.Node, what string) []EgressRule {
	out := []EgressRule{}
	p.list(n, what, MaxRules, func(_ int, item *yaml.Node) {
		item = p.resolve(item)
		if item == nil {
			return
		}
		r := EgressRule{Pos: pos(item)}
		before := len(p.errs)
		p.fields(item, what+" entry", map[string]func(k, v *yaml.Node){
			"host": func(_, v *yaml.Node) {
				s, ok := p.strictStr(v, "host")
				if !ok {
					return
				}
				h, err := normalizeHostPattern(s)
				if err != nil {
					p.errorf(v, "bad host %q: %v", s, err)
					return
				}
				r.Host = h
			},
			"cidr": func(_, v *yaml.Node) {
				s, ok := p.strictStr(v, "cidr")
				if !ok {
					return
				}
				c, err := normalizeCIDR(s)
				if err != nil {
					p.errorf(v, "bad cidr %q: %v", s, err)
					return
				}
				r.CIDR = c
			},
			"ports": func(_, v *yaml.Node) {
				r.Ports = []uint16{}
				p.list(v, "ports", maxListLen, func(_ int, pn *yaml.Node) {
					if x, ok := p.integer(pn, "port", 1, 65535); ok {
						r.Ports = append(r.Ports, uint16(x))
					}
				})
			},
			"schemes": func(_, v *yaml.Node) {
				schemes, nodes := p.strs(v, "schemes", maxListLen, false)
				for i, s := range schemes {
					schemes[i] = strings.ToLower(s)
					if !schemePattern.MatchString(schemes[i]) {
						p.errorf(nodes[i], "bad scheme %q", s)
					}
				}
				r.Schemes = schemes
			},
		})
		if len(p.errs) != before || item.Kind != yaml.MappingNode {
			return
		}
		switch {
		case r.Host == "" && r.CIDR == "":
			p.errorf(item, "%s entry needs a host or a cidr", what)
		case r.Host != "" && r.CIDR != "":
			p.errorf(item, "%s entry takes only one of host and cidr", what)
		default:
			out = append(out, r)
		}
	})
	return out
}

// normalizeHostPattern checks an exact host name or "*.example.com" and
// returns it in lower case.
func normalizeHostPattern(s string) (string, error) {
	h := strings.ToLower(strings.TrimSuffix(s, "."))
	name := strings.TrimPrefix(h, "*.")
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return "", errors.New("an IP address; use cidr: instead")
	}
	if name == "" || len(name) > 253 {
		return "", errors.New("want a host name or *.domain")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 {
			return "", errors.New("empty or over-long label")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", errors.New("label starts or ends with '-'")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				if c == '*' {
					return "", errors.New("'*' is only allowed as a leading \"*.\"")
				}
				return "", fmt.Errorf("invalid character %q", c)
			}
		}
	}
	return h, nil
}

// normalizeCIDR parses a prefix (a bare address is taken as a single-host
// prefix) and returns its canonical form. Host bits must be zero.
func normalizeCIDR(s string) (string, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return "", errors.New("want a prefix such as 10.0.0.0/8")
		}
		return netip.PrefixFrom(a, a.BitLen()).String(), nil
	}
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		return "", errors.New("want a prefix such as 10.0.0.0/8")
	}
	if m := pfx.Masked(); m != pfx {
		return "", fmt.Errorf("host bits set; did you mean %s", m)
	}
	return pfx.String(), nil
}

func (p *parser) sinks(n *yaml.Node, s *SinkPolicy) {
	if r := p.resolve(n); r != nil {
		s.Pos = pos(r)
	}
	p.fields(n, "sinks", map[string]func(k, v *yaml.Node){
		"sql": func(_, v *yaml.Node) {
			if r := p.resolve(v); r != nil {
				s.SQL.Pos = pos(r)
				if r.Kind == yaml.ScalarNode {
					s.SQL.Mode, _ = p.mode(r, "sinks.sql")
					return
				}
			}
			p.fields(v, "sinks.sql", map[string]func(k, v *yaml.Node){
				"mode": func(_, mv *yaml.Node) { s.SQL.Mode, _ = p.mode(mv, "sinks.sql.mode") },
			})
		},
		"exec": func(_, v *yaml.Node) {
			if r := p.resolve(v); r != nil {
				s.Exec.Pos = pos(r)
				if r.Kind == yaml.ScalarNode {
					if r.Value == "deny" {
						s.Exec.Mode, s.Exec.Deny = ModeBlock, true
						return
					}
					s.Exec.Mode, _ = p.mode(r, "sinks.exec (or \"deny\")")
					return
				}
			}
			p.fields(v, "sinks.exec", map[string]func(k, v *yaml.Node){
				"mode": func(_, mv *yaml.Node) { s.Exec.Mode, _ = p.mode(mv, "sinks.exec.mode") },
				"deny": func(_, dv *yaml.Node) { s.Exec.Deny, _ = p.boolean(dv, "sinks.exec.deny") },
				"allow": func(_, av *yaml.Node) {
					allow, nodes := p.strs(av, "sinks.exec.allow", MaxRules, false)
					for i, a := range allow {
						if a == "" || strings.ContainsRune(a, 0) || (strings.Contains(a, "/") && !path.IsAbs(a)) {
							p.errorf(nodes[i], "sinks.exec.allow entry %q: want an absolute path or a base name", a)
						}
					}
					s.Exec.Allow = allow
				},
			})
		},
		"files": func(_, v *yaml.Node) {
			if r := p.resolve(v); r != nil {
				s.Files.Pos = pos(r)
				if r.Kind == yaml.ScalarNode {
					s.Files.Mode, _ = p.mode(r, "sinks.files")
					return
				}
			}
			p.fields(v, "sinks.files", map[string]func(k, v *yaml.Node){
				"mode":  func(_, mv *yaml.Node) { s.Files.Mode, _ = p.mode(mv, "sinks.files.mode") },
				"deny":  func(_, dv *yaml.Node) { s.Files.Deny = p.fileGlobs(dv, "sinks.files.deny") },
				"allow": func(_, av *yaml.Node) { s.Files.Allow = p.fileGlobs(av, "sinks.files.allow") },
			})
		},
	})
}

func (p *parser) fileGlobs(n *yaml.Node, what string) []string {
	globs, nodes := p.strs(n, what, MaxRules, false)
	for i, g := range globs {
		if err := checkFileGlob(g); err != nil {
			p.errorf(nodes[i], "%s entry %q: %v", what, g, err)
		}
	}
	return globs
}

// checkFileGlob validates an absolute path glob whose segments are
// [path.Match] patterns or "**".
func checkFileGlob(g string) error {
	if !path.IsAbs(g) {
		return errors.New("want an absolute path glob")
	}
	if len(g) > maxGlobLen {
		return fmt.Errorf("longer than %d bytes", maxGlobLen)
	}
	if path.Clean(g) != g && !(strings.HasSuffix(g, "/") && path.Clean(g)+"/" == g) {
		return fmt.Errorf("not a clean path (did you mean %s?)", path.Clean(g))
	}
	for seg := range strings.SplitSeq(g[1:], "/") {
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return errors.New("\"**\" must be a whole path element")
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("bad pattern element %q", seg)
		}
	}
	return nil
}
