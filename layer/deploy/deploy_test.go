// Package deploy_test validates the deployment examples: they parse, and
// every reference resolves (no AWS account is needed).
package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"gopkg.in/yaml.v3"
)

// cfnTemplate is the part of a CloudFormation/SAM template the checks need.
type cfnTemplate struct {
	root       *yaml.Node
	sam        bool
	parameters map[string]bool
	resources  map[string]*yaml.Node // logical id → resource mapping node
	conditions map[string]bool
}

func loadCFN(t *testing.T, path string) *cfnTemplate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: top level is not a mapping", path)
	}
	tpl := &cfnTemplate{
		root:       doc.Content[0],
		parameters: map[string]bool{},
		resources:  map[string]*yaml.Node{},
		conditions: map[string]bool{},
	}
	for k, v := range pairs(tpl.root) {
		switch k {
		case "Transform":
			tpl.sam = strings.HasPrefix(v.Value, "AWS::Serverless")
		case "Parameters":
			for name := range pairs(v) {
				tpl.parameters[name] = true
			}
		case "Conditions":
			for name := range pairs(v) {
				tpl.conditions[name] = true
			}
		case "Resources":
			for name, res := range pairs(v) {
				tpl.resources[name] = res
			}
		}
	}
	if len(tpl.resources) == 0 {
		t.Fatalf("%s: no resources", path)
	}
	return tpl
}

// pairs iterates over a mapping node's key/value pairs.
func pairs(n *yaml.Node) func(func(string, *yaml.Node) bool) {
	return func(yield func(string, *yaml.Node) bool) {
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i].Value, n.Content[i+1]) {
				return
			}
		}
	}
}

func get(n *yaml.Node, key string) *yaml.Node {
	for k, v := range pairs(n) {
		if k == key {
			return v
		}
	}
	return nil
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

// refProblems returns every reference in the template that does not
// resolve to a parameter, resource, condition or pseudo parameter.
func (tpl *cfnTemplate) refProblems() []string {
	var problems []string
	known := func(name string) bool {
		if strings.HasPrefix(name, "AWS::") {
			return true
		}
		if tpl.sam && (name == "ServerlessHttpApi" || name == "ServerlessRestApi") {
			return true // implicit SAM resources
		}
		if fn, ok := strings.CutSuffix(name, "Role"); ok && tpl.sam && tpl.resources[fn] != nil {
			return true // the implicit role of a SAM function
		}
		return tpl.parameters[name] || tpl.resources[name] != nil
	}
	check := func(n *yaml.Node, what, name string) {
		if !known(name) {
			problems = append(problems, what+" "+name+" at line "+itoa(n.Line))
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Tag {
		case "!Ref":
			check(n, "Ref", n.Value)
		case "!GetAtt":
			res, _, _ := strings.Cut(n.Value, ".")
			if tpl.resources[res] == nil {
				problems = append(problems, "GetAtt "+n.Value+" at line "+itoa(n.Line))
			}
		case "!Sub":
			s := n.Value
			if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
				s = n.Content[0].Value
			}
			for _, m := range subVar.FindAllStringSubmatch(s, -1) {
				name, _, _ := strings.Cut(m[1], ".")
				check(n, "Sub", name)
			}
		case "!If":
			if n.Kind == yaml.SequenceNode && len(n.Content) == 3 && !tpl.conditions[n.Content[0].Value] {
				problems = append(problems, "If condition "+n.Content[0].Value+" at line "+itoa(n.Line))
			}
		}
		if n.Kind == yaml.MappingNode {
			for k, v := range pairs(n) {
				if k == "Condition" && v.Kind == yaml.ScalarNode && !tpl.conditions[v.Value] {
					problems = append(problems, "Condition "+v.Value+" at line "+itoa(v.Line))
				}
				if k == "DependsOn" {
					for _, d := range scalars(v) {
						check(v, "DependsOn", d)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(tpl.root)
	return problems
}

func scalars(n *yaml.Node) []string {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, scalars(c)...)
	}
	return out
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// functionLayers returns, per function resource, the logical ids of the
// layer resources its Layers property references (both branches of an
// !If; parameters naming external layers and AWS::NoValue left out).
func (tpl *cfnTemplate) functionLayers() map[string][]string {
	out := map[string][]string{}
	for name, res := range tpl.resources {
		typ := get(res, "Type")
		if typ == nil || (typ.Value != "AWS::Lambda::Function" && typ.Value != "AWS::Serverless::Function") {
			continue
		}
		layers := get(get(res, "Properties"), "Layers")
		out[name] = nil
		if layers == nil {
			continue
		}
		var add func(n *yaml.Node)
		add = func(n *yaml.Node) {
			switch {
			case n.Tag == "!If" && len(n.Content) == 3:
				add(n.Content[1])
				add(n.Content[2])
			case n.Value == "AWS::NoValue" || tpl.parameters[n.Value]:
			default:
				out[name] = append(out[name], n.Value)
			}
		}
		for _, l := range layers.Content {
			add(l)
		}
	}
	return out
}

func TestCloudFormationTemplates(t *testing.T) {
	tests := []struct {
		give      string
		layerType string
	}{
		{give: "cloudformation/template.yaml", layerType: "AWS::Lambda::LayerVersion"},
		{give: "sam/template.yaml", layerType: "AWS::Serverless::LayerVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			tpl := loadCFN(t, tt.give)
			for _, p := range tpl.refProblems() {
				t.Errorf("unresolved %s", p)
			}
			fns := tpl.functionLayers()
			if len(fns) == 0 {
				t.Fatal("no function in the template")
			}
			for fn, layers := range fns {
				if len(layers) == 0 {
					t.Errorf("function %s has no layer", fn)
				}
				for _, l := range layers {
					typ := get(tpl.resources[l], "Type")
					if typ == nil || typ.Value != tt.layerType {
						t.Errorf("function %s layer %s is not a %s", fn, l, tt.layerType)
					}
				}
			}
		})
	}
}

// The SAM template builds with the repository's Makefile: the targets it
// relies on must exist, and ContentUri/CodeUri must point at the module.
func TestSAMBuildTargets(t *testing.T) {
	tpl := loadCFN(t, "sam/template.yaml")
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for name, res := range tpl.resources {
		md := get(res, "Metadata")
		if md == nil || get(md, "BuildMethod") == nil || get(md, "BuildMethod").Value != "makefile" {
			continue
		}
		if !regexp.MustCompile(`(?m)^build-` + name + `:`).Match(mk) {
			t.Errorf("Makefile has no target build-%s for resource %s", name, name)
		}
		props := get(res, "Properties")
		uri := get(props, "ContentUri")
		if uri == nil {
			uri = get(props, "CodeUri")
		}
		if uri == nil {
			t.Errorf("%s: no ContentUri/CodeUri", name)
			continue
		}
		if _, err := os.Stat(filepath.Join("sam", uri.Value, "go.mod")); err != nil {
			t.Errorf("%s: %s is not the module root: %v", name, uri.Value, err)
		}
	}
}

func TestTerraformModule(t *testing.T) {
	files, err := filepath.Glob("terraform/*.tf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no terraform files: %v", err)
	}
	declared := map[string]bool{} // "var.x", "local.x", "data.t.n", "t.n"
	var bodies []*hclsyntax.Body
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", f, diags)
		}
		body := file.Body.(*hclsyntax.Body)
		bodies = append(bodies, body)
		for _, b := range body.Blocks {
			switch b.Type {
			case "variable":
				declared["var."+b.Labels[0]] = true
			case "resource":
				declared[b.Labels[0]+"."+b.Labels[1]] = true
			case "data":
				declared["data."+b.Labels[0]+"."+b.Labels[1]] = true
			case "locals":
				for name := range b.Body.Attributes {
					declared["local."+name] = true
				}
			}
		}
	}
	var refs []string
	var walk func(b *hclsyntax.Body, blockType string)
	walk = func(b *hclsyntax.Body, blockType string) {
		for name, attr := range b.Attributes {
			if blockType == "variable" && name == "type" {
				continue // a type constraint, not a reference
			}
			for _, tr := range attr.Expr.Variables() {
				refs = append(refs, refKey(tr))
			}
		}
		for _, blk := range b.Blocks {
			walk(blk.Body, blk.Type)
		}
	}
	for _, b := range bodies {
		walk(b, "")
	}
	sort.Strings(refs)
	for _, r := range refs {
		if r != "" && !declared[r] {
			t.Errorf("unresolved reference %s", r)
		}
	}
	for _, want := range []string{"aws_lambda_layer_version.lambda_rasp", "aws_lambda_function.protected"} {
		if !declared[want] {
			t.Errorf("module does not declare %s", want)
		}
	}
	if !containsRef(refs, "aws_lambda_layer_version.lambda_rasp") {
		t.Error("the function does not reference the layer")
	}
}

// refKey turns a traversal into the name it must resolve to.
func refKey(tr hcl.Traversal) string {
	var parts []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			parts = append(parts, s.Name)
		case hcl.TraverseAttr:
			parts = append(parts, s.Name)
		}
	}
	switch {
	case len(parts) >= 2 && (parts[0] == "var" || parts[0] == "local"):
		return parts[0] + "." + parts[1]
	case len(parts) >= 3 && parts[0] == "data":
		return strings.Join(parts[:3], ".")
	case len(parts) >= 2 && (parts[0] == "path" || parts[0] == "terraform" || parts[0] == "each" || parts[0] == "count" || parts[0] == "self"):
		return ""
	case len(parts) >= 2:
		return parts[0] + "." + parts[1]
	}
	return strings.Join(parts, ".")
}

func containsRef(refs []string, want string) bool {
	for _, r := range refs {
		if r == want {
			return true
		}
	}
	return false
}

// TestPolicyCI checks the policy repository workflow: it parses, and its
// steps run the lint and test commands of this module's raspctl.
func TestPolicyCI(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("ci", "policy-ci.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string `yaml:"uses"`
				Run  string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("policy-ci.yaml: %v", err)
	}
	gomod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(gomod), "\n", 2)[0], "module "))
	if _, err := os.Stat(filepath.Join("..", "cmd", "raspctl", "main.go")); err != nil {
		t.Fatalf("raspctl is not at layer/cmd/raspctl: %v", err)
	}
	want := map[string]bool{"lint": false, "test": false}
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			f := strings.Fields(st.Run)
			if len(f) >= 4 && f[0] == "go" && f[1] == "run" {
				if pkg, _, _ := strings.Cut(f[2], "@"); pkg != module+"/layer/cmd/raspctl" {
					t.Errorf("step runs %q, want %s/layer/cmd/raspctl", f[2], module)
				}
				if _, ok := want[f[3]]; ok {
					want[f[3]] = true
				}
			}
		}
	}
	for cmd, seen := range want {
		if !seen {
			t.Errorf("no step runs raspctl %s", cmd)
		}
	}
}
