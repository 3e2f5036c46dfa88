package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/glob"
)

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
	if len(g) > glob.MaxLen {
		return fmt.Errorf("longer than %d bytes", glob.MaxLen)
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
