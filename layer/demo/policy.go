package main

import (
	"bytes"
	"fmt"
	"net/netip"

	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// demoPolicy derives the demo's policy from the layer's default policy:
// the egress section becomes the production recipe (deny by default,
// allow the partner API only), and with monitorInputs every input rule
// only monitors, as during a rollout, so the sink guards decide. The
// result is checked with the same loader the function and the extension
// use.
func demoPolicy(base []byte, partner netip.AddrPort, monitorInputs bool) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("demo: read default policy: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("demo: default policy is not a mapping")
	}
	top := doc.Content[0]
	name := "demo"
	if monitorInputs {
		name = "demo-rollout"
	}
	setKey(top, "name", scalar(name))
	var egress yaml.Node
	src := fmt.Sprintf(`default: deny
allow:
  - cidr: %s/32
    ports: [%d]
`, partner.Addr(), partner.Port())
	if err := yaml.Unmarshal([]byte(src), &egress); err != nil {
		return nil, fmt.Errorf("demo: egress section: %w", err)
	}
	egress.Content[0].HeadComment = "Production recipe: deny by default, allow what the function needs (the partner API)."
	setKey(top, "egress", egress.Content[0])
	if monitorInputs {
		inputs := getKey(top, "inputs")
		if inputs == nil || inputs.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("demo: default policy has no inputs list")
		}
		for _, r := range inputs.Content {
			if r.Kind == yaml.MappingNode {
				setKey(r, "mode", scalar("monitor"))
			}
		}
	}
	// Embedded tests refer to files next to the default policy; the demo
	// policy is written elsewhere.
	deleteKey(top, "tests")
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("demo: write policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("demo: write policy: %w", err)
	}
	pol, err := policy.Parse(name+".yaml", out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("demo: derived policy: %w", err)
	}
	if _, err := rules.Compile(pol); err != nil {
		return nil, fmt.Errorf("demo: derived policy: %w", err)
	}
	return out.Bytes(), nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

func getKey(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, scalar(key), v)
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}
