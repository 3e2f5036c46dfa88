package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// emfGolden is what the extension writes as EMF from its real registry
// (extension/internal/export, TestEMFRegistryGolden keeps it current).
var emfGolden = filepath.Join("..", "..", "extension", "internal", "export", "testdata", "emf-registry.golden")

// alarm is one CloudWatch alarm of a deployment example.
type alarm struct {
	name, namespace, metric string
	dims                    map[string]string // literal values; function's is its reference
}

// emfMetrics maps "metric|dim,dim" (dimension names sorted) to the values
// each dimension takes in the extension's EMF output.
func emfMetrics(t *testing.T) map[string]map[string]map[string]bool {
	t.Helper()
	data, err := os.ReadFile(emfGolden)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("%s: %v", emfGolden, err)
		}
		var aws struct {
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name string }
			}
		}
		raw, _ := json.Marshal(doc["_aws"])
		if err := json.Unmarshal(raw, &aws); err != nil {
			t.Fatal(err)
		}
		for _, d := range aws.CloudWatchMetrics {
			for _, m := range d.Metrics {
				for _, set := range d.Dimensions {
					key := d.Namespace + "|" + m.Name + "|" + sortedJoin(set)
					if out[key] == nil {
						out[key] = map[string]map[string]bool{}
					}
					for _, dim := range set {
						if out[key][dim] == nil {
							out[key][dim] = map[string]bool{}
						}
						out[key][dim][doc[dim].(string)] = true
					}
				}
			}
		}
	}
	return out
}

func sortedJoin(ss []string) string {
	c := append([]string(nil), ss...)
	sort.Strings(c)
	return strings.Join(c, ",")
}

// checkAlarms checks alarms against the EMF output: each watches a metric
// and dimension set the extension writes, with dimension values it writes,
// the function dimension names the function (fnRef), and the blocked
// attacks, incomplete inspections and dropped events alarms exist.
func checkAlarms(t *testing.T, alarms []alarm, fnRef string) {
	t.Helper()
	emf := emfMetrics(t)
	covered := map[string]bool{}
	for _, a := range alarms {
		names := make([]string, 0, len(a.dims))
		for d := range a.dims {
			names = append(names, d)
		}
		key := a.namespace + "|" + a.metric + "|" + sortedJoin(names)
		dims, ok := emf[key]
		if !ok {
			t.Errorf("alarm %s watches %s in %s with dimensions %v, which the extension does not write", a.name, a.metric, a.namespace, names)
			continue
		}
		for d, v := range a.dims {
			if d == "function" {
				if v != fnRef {
					t.Errorf("alarm %s: function dimension is %q, want the function's name (%s)", a.name, v, fnRef)
				}
				continue
			}
			if !dims[d][v] {
				t.Errorf("alarm %s: dimension %s=%q never written by the extension", a.name, d, v)
			}
		}
		covered[a.metric+"|"+a.dims["action"]] = true
	}
	for _, want := range []string{
		"lambda_rasp_detections_total|block",
		"lambda_rasp_incomplete_inspections_total|",
		"lambda_rasp_events_dropped_total|",
	} {
		if !covered[want] {
			t.Errorf("no alarm on %s", want)
		}
	}
}

func TestCloudFormationAlarms(t *testing.T) {
	for _, tt := range []struct{ give, function string }{
		{give: "cloudformation/template.yaml", function: "Function"},
		{give: "sam/template.yaml", function: "DemoFunction"},
	} {
		t.Run(tt.give, func(t *testing.T) {
			tpl := loadCFN(t, tt.give)
			var alarms []alarm
			for name, res := range tpl.resources {
				if typ := get(res, "Type"); typ == nil || typ.Value != "AWS::CloudWatch::Alarm" {
					continue
				}
				props := get(res, "Properties")
				a := alarm{name: name, dims: map[string]string{}}
				if n := get(props, "Namespace"); n != nil {
					a.namespace = n.Value
				}
				if n := get(props, "MetricName"); n != nil {
					a.metric = n.Value
				}
				if ds := get(props, "Dimensions"); ds != nil {
					for _, d := range ds.Content {
						n, v := get(d, "Name"), get(d, "Value")
						if n == nil || v == nil {
							t.Fatalf("alarm %s: dimension without Name or Value", name)
						}
						val := v.Value
						if v.Tag == "!Ref" {
							val = "ref:" + v.Value
						}
						a.dims[n.Value] = val
					}
				}
				alarms = append(alarms, a)
			}
			checkAlarms(t, alarms, "ref:"+tt.function)
		})
	}
}

func TestTerraformAlarms(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("terraform", "alarms.tf"))
	if err != nil {
		t.Fatal(err)
	}
	file, diags := hclsyntax.ParseConfig(src, "alarms.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var alarms []alarm
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "resource" || b.Labels[0] != "aws_cloudwatch_metric_alarm" {
			continue
		}
		a := alarm{name: b.Labels[1], dims: map[string]string{}}
		attrs := b.Body.Attributes
		a.namespace = literalString(t, attrs["namespace"])
		a.metric = literalString(t, attrs["metric_name"])
		obj, ok := attrs["dimensions"].Expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			t.Fatalf("alarm %s: dimensions is not an object", a.name)
		}
		for _, item := range obj.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() {
				t.Fatalf("alarm %s: %v", a.name, diags)
			}
			if v, diags := item.ValueExpr.Value(nil); !diags.HasErrors() {
				a.dims[k.AsString()] = v.AsString()
				continue
			}
			var refs []string
			for _, tr := range item.ValueExpr.Variables() {
				refs = append(refs, "ref:"+strings.Join(traversalNames(tr), "."))
			}
			a.dims[k.AsString()] = strings.Join(refs, " ")
		}
		alarms = append(alarms, a)
	}
	checkAlarms(t, alarms, "ref:aws_lambda_function.protected.function_name")
}

func literalString(t *testing.T, attr *hclsyntax.Attribute) string {
	t.Helper()
	if attr == nil {
		t.Fatal("missing attribute")
	}
	v, diags := attr.Expr.Value(nil)
	if diags.HasErrors() {
		t.Fatalf("%s is not a literal: %v", attr.Name, diags)
	}
	return v.AsString()
}

func traversalNames(tr hcl.Traversal) []string {
	var out []string
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			out = append(out, s.Name)
		case hcl.TraverseAttr:
			out = append(out, s.Name)
		}
	}
	return out
}
