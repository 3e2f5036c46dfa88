package policy

import (
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/glob"
	"github.com/lambda-rasp/lambda-rasp/rules/internal/match"
)

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
				if !slices.Contains(p.detectors, s) {
					p.errorf(v, "unknown detector %q (built-in: %s)", s, strings.Join(p.detectors, ", "))
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
				if _, err := glob.Compile(g, '.'); err != nil {
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
			if _, err := glob.Compile(g, '.'); err != nil {
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
					if _, err := glob.Compile(s, '/'); err != nil {
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
