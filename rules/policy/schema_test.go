package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/catalog"
)

// The JSON Schema in policy.schema.json is what editors and
// AppConfig validators see; the parser is the authority. These tests hold
// the two together: the schema's keys are the parser's accepted keys at
// every level, every field of the Go policy types has its key, the enums
// are the parser's, and every policy the parser accepts in the repository
// validates against the schema.

const schemaFile = "policy.schema.json"

// schemaDoc is the schema as plain JSON, for walking.
func schemaDoc(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	return doc
}

// compiledSchema compiles the schema with a real JSON Schema validator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("policy.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("policy.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaFile, err)
	}
	return s
}

// objectAt returns the object schema at a slash-separated path of
// property names from the root, following $ref and choosing the object
// branch of a oneOf. "[]" steps into array items.
func objectAt(t *testing.T, doc map[string]any, path string) map[string]any {
	t.Helper()
	cur := deref(t, doc, doc)
	if path == "" {
		return cur
	}
	for step := range strings.SplitSeq(path, "/") {
		if step == "[]" {
			items, ok := cur["items"].(map[string]any)
			if !ok {
				t.Fatalf("schema %s: no items at %q", path, step)
			}
			cur = deref(t, doc, items)
			continue
		}
		props, _ := cur["properties"].(map[string]any)
		next, ok := props[step].(map[string]any)
		if !ok {
			t.Fatalf("schema %s: no property %q", path, step)
		}
		cur = deref(t, doc, next)
	}
	return cur
}

// deref follows $ref and picks the object branch of a oneOf.
func deref(t *testing.T, doc, s map[string]any) map[string]any {
	t.Helper()
	for range 8 {
		if ref, ok := s["$ref"].(string); ok {
			name, found := strings.CutPrefix(ref, "#/definitions/")
			if !found {
				t.Fatalf("schema: unsupported $ref %q", ref)
			}
			s = doc["definitions"].(map[string]any)[name].(map[string]any)
			continue
		}
		if alts, ok := s["oneOf"].([]any); ok && s["type"] == nil {
			for _, a := range alts {
				if m := deref(t, doc, a.(map[string]any)); m["type"] == "object" || m["type"] == "array" {
					s = m
					break
				}
			}
		}
		return s
	}
	t.Fatal("schema: $ref chain too long")
	return nil
}

func propertyNames(s map[string]any) []string {
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var wantKeys = regexp.MustCompile(`unknown key "zz_unknown" \(want one of ([^)]*)\)`)

// TestSchemaKeysMatchParser puts an unknown key at every level of a policy
// and compares the keys the parser says it accepts there with the
// schema's properties at the same level.
func TestSchemaKeysMatchParser(t *testing.T) {
	doc := schemaDoc(t)
	tests := []struct {
		give   string // a policy with zz_unknown at one level
		schema string // that level in the schema
	}{
		{"version: 1\nzz_unknown: 1", ""},
		{"version: 1\nlimits: {zz_unknown: 1}", "limits"},
		{"version: 1\ninputs: [{id: a, detector: sqli, zz_unknown: 1}]", "inputs/[]"},
		{"version: 1\ninputs: [{id: a, match: {regex: x, zz_unknown: 1}}]", "inputs/[]/match"},
		{"version: 1\ninputs: [{id: a, detector: sqli}]\nexclusions: [{rules: [a], zz_unknown: 1}]", "exclusions/[]"},
		{"version: 1\ninputs: [{id: a, detector: sqli}]\nexclusions: [{rules: [a], when: {zz_unknown: 1}}]", "exclusions/[]/when"},
		{"version: 1\negress: {zz_unknown: 1}", "egress"},
		{"version: 1\negress: {allow: [{host: a.example, zz_unknown: 1}]}", "egress/allow/[]"},
		{"version: 1\negress: {deny: [{host: a.example, zz_unknown: 1}]}", "egress/deny/[]"},
		{"version: 1\nsinks: {zz_unknown: 1}", "sinks"},
		{"version: 1\nsinks: {sql: {zz_unknown: 1}}", "sinks/sql"},
		{"version: 1\nsinks: {exec: {zz_unknown: 1}}", "sinks/exec"},
		{"version: 1\nsinks: {files: {zz_unknown: 1}}", "sinks/files"},
		{"version: 1\ntests: [{name: n, event: e.json, want: {action: allow}, zz_unknown: 1}]", "tests/[]"},
		{"version: 1\ntests: [{name: n, event: e.json, want: {action: allow, zz_unknown: 1}}]", "tests/[]/want"},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			_, err := Parse("probe.yaml", []byte(tt.give))
			var parserKeys []string
			var perrs Errors
			if errors.As(err, &perrs) {
				for _, pe := range perrs {
					if m := wantKeys.FindStringSubmatch(pe.Msg); m != nil {
						parserKeys = strings.Split(m[1], ", ")
					}
				}
			}
			if parserKeys == nil {
				t.Fatalf("Parse(%q) = %v, want an unknown-key error listing the accepted keys", tt.give, err)
			}
			obj := objectAt(t, doc, tt.schema)
			if got := propertyNames(obj); !slices.Equal(got, parserKeys) {
				t.Errorf("schema keys at %q = %v, parser accepts %v", tt.schema, got, parserKeys)
			}
			if obj["additionalProperties"] != false {
				t.Errorf("schema at %q allows additional properties; the parser refuses unknown keys", tt.schema)
			}
		})
	}
}

// TestSchemaCoversTypes walks the Go policy types: every exported field
// has its key in the schema at the matching level and every schema key
// has its field, so a field added to a type without a key (or a key
// without a field) fails here.
func TestSchemaCoversTypes(t *testing.T) {
	doc := schemaDoc(t)
	// Fields that are not keys of the file.
	// (Origin and ForcedMode come from the loader and the environment.)
	notKeys := map[string]bool{"Pos": true, "File": true, "Origin": true, "ForcedMode": true}
	// Keys whose name differs from the snake_case field name, per level.
	renames := map[string]map[string]string{
		"exclusions/[]": {"Route": "when"},
		"":              {"OnErrorBy": "on_error"}, // the mapping form of on_error
	}
	// Schema keys with no field of their own.
	aliases := map[string]map[string]bool{
		"exclusions/[]": {"targets": true}, // parsed into Paths
	}
	tests := []struct {
		give   reflect.Type
		schema string
	}{
		{reflect.TypeFor[Policy](), ""},
		{reflect.TypeFor[Limits](), "limits"},
		{reflect.TypeFor[InputRule](), "inputs/[]"},
		{reflect.TypeFor[MatchSpec](), "inputs/[]/match"},
		{reflect.TypeFor[Exclusion](), "exclusions/[]"},
		{reflect.TypeFor[EgressPolicy](), "egress"},
		{reflect.TypeFor[EgressRule](), "egress/allow/[]"},
		{reflect.TypeFor[EgressRule](), "egress/deny/[]"},
		{reflect.TypeFor[SinkPolicy](), "sinks"},
		{reflect.TypeFor[SQLSink](), "sinks/sql"},
		{reflect.TypeFor[ExecSink](), "sinks/exec"},
		{reflect.TypeFor[FileSink](), "sinks/files"},
		{reflect.TypeFor[PolicyTest](), "tests/[]"},
		{reflect.TypeFor[TestWant](), "tests/[]/want"},
	}
	for _, tt := range tests {
		t.Run(tt.give.Name()+"@"+tt.schema, func(t *testing.T) {
			props := propertyNames(objectAt(t, doc, tt.schema))
			covered := map[string]bool{}
			for f := range tt.give.Fields() {
				if !f.IsExported() || notKeys[f.Name] {
					continue
				}
				key := renames[tt.schema][f.Name]
				if key == "" {
					key = snakeCase(f.Name)
				}
				covered[key] = true
				if !slices.Contains(props, key) {
					t.Errorf("%s.%s: no key %q in the schema at %q (has %v)", tt.give.Name(), f.Name, key, tt.schema, props)
				}
			}
			for _, k := range props {
				if !covered[k] && !aliases[tt.schema][k] {
					t.Errorf("schema key %q at %q has no field in %s", k, tt.schema, tt.give.Name())
				}
			}
		})
	}
}

// snakeCase turns a Go field name into its policy key: MaxBodyBytes →
// max_body_bytes, OnError → on_error, CIDR → cidr, ID → id.
func snakeCase(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rs[i-1]) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// TestSchemaEnums compares the schema's enumerations with the parser's.
func TestSchemaEnums(t *testing.T) {
	doc := schemaDoc(t)
	defs := doc["definitions"].(map[string]any)
	enum := func(def map[string]any) []string {
		var out []string
		for _, v := range def["enum"].([]any) {
			out = append(out, v.(string))
		}
		slices.Sort(out)
		return out
	}
	detectors := defs["inputRule"].(map[string]any)["properties"].(map[string]any)["detector"].(map[string]any)
	if got, want := enum(detectors), catalog.Detectors(); !slices.Equal(got, want) {
		t.Errorf("schema detectors = %v, built-in detectors = %v", got, want)
	}
	sources := slices.Clone(sourceNames[SourceQuery:])
	slices.Sort(sources)
	if got := enum(defs["source"].(map[string]any)); !slices.Equal(got, sources) {
		t.Errorf("schema sources = %v, parser sources = %v", got, sources)
	}
	for _, m := range enum(defs["mode"].(map[string]any)) {
		if _, err := ParseMode(m); err != nil {
			t.Errorf("schema mode %q: ParseMode: %v", m, err)
		}
	}
}

// TestSchemaAppConfigLimits checks what AWS AppConfig's JSON_SCHEMA
// validator requires: draft-04 and at most 32 768 characters.
func TestSchemaAppConfigLimits(t *testing.T) {
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := len([]rune(string(data))); n > 32768 {
		t.Errorf("schema has %d characters; AppConfig validators take at most 32768", n)
	}
	if got := schemaDoc(t)["$schema"]; got != "http://json-schema.org/draft-04/schema#" {
		t.Errorf("$schema = %v, want draft-04 (the draft AppConfig supports)", got)
	}
}

// policyFiles returns every policy file in the repository: the default
// policy and the YAML files in a "policies" directory.
func policyFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"default.yaml"}
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "dist" || d.Name() == "bin") {
			return filepath.SkipDir
		}
		if !d.IsDir() && filepath.Base(filepath.Dir(path)) == "policies" && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d policy files, want the shipped and test policies", len(files))
	}
	return files
}

// yamlToJSON renders a YAML document as JSON, as a policy stored in
// AppConfig as JSON would be.
func yamlToJSON(data []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// Policies the parser refuses for reasons the schema can express, so the
// schema must refuse them too.
var schemaRefuses = map[string]bool{
	"bad-keys.yaml":            true,
	"bad-types.yaml":           true,
	"bad-version.yaml":         true,
	"bad-missing-version.yaml": true,
}

// TestSchemaValidatesPolicies validates every policy in the repository:
// each one the parser accepts must validate, and still parse when
// converted to JSON (the form AppConfig's validator checks); the
// structurally broken ones must not validate.
func TestSchemaValidatesPolicies(t *testing.T) {
	sch := compiledSchema(t)
	accepted := 0
	for _, file := range policyFiles(t) {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, parseErr := Parse(file, data)
			js, err := yamlToJSON(data)
			if err != nil {
				if parseErr == nil {
					t.Fatalf("parser accepts %s but it is not plain YAML: %v", file, err)
				}
				return // malformed YAML: nothing for the schema to see
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
			if err != nil {
				t.Fatal(err)
			}
			verr := sch.Validate(inst)
			switch {
			case parseErr == nil:
				accepted++
				if verr != nil {
					t.Errorf("parser accepts %s, schema refuses it: %v", file, verr)
				}
				if _, err := Parse(file+".json", js); err != nil {
					t.Errorf("the JSON form of %s does not parse: %v", file, err)
				}
			case schemaRefuses[filepath.Base(file)]:
				if verr == nil {
					t.Errorf("schema accepts %s, which the parser refuses: %v", file, parseErr)
				}
			}
		})
	}
	if accepted < 3 {
		t.Errorf("%d policies accepted by the parser, want at least the default and the test policies", accepted)
	}
}

// TestSchemaRefuses checks that the schema refuses small broken policies
// of each kind it can express (the parser refuses them all).
func TestSchemaRefuses(t *testing.T) {
	sch := compiledSchema(t)
	tests := []struct {
		name string
		give string
	}{
		{"no version", `{"mode": "block"}`},
		{"version 2", `{"version": 2}`},
		{"unknown key", `{"version": 1, "mdoe": "block"}`},
		{"bad mode", `{"version": 1, "mode": "enforce"}`},
		{"rule without detector or match", `{"version": 1, "inputs": [{"id": "a"}]}`},
		{"rule with both", `{"version": 1, "inputs": [{"id": "a", "detector": "sqli", "match": {"regex": "x"}}]}`},
		{"unknown detector", `{"version": 1, "inputs": [{"id": "a", "detector": "rce"}]}`},
		{"match with two kinds", `{"version": 1, "inputs": [{"id": "a", "match": {"regex": "x", "phrases": ["y"]}}]}`},
		{"bad target", `{"version": 1, "inputs": [{"id": "a", "detector": "sqli", "targets": ["form"]}]}`},
		{"egress rule with host and cidr", `{"version": 1, "egress": {"allow": [{"host": "a.example", "cidr": "10.0.0.0/8"}]}}`},
		{"port out of range", `{"version": 1, "egress": {"allow": [{"host": "a.example", "ports": [70000]}]}}`},
		{"relative file glob", `{"version": 1, "sinks": {"files": {"deny": ["etc/passwd"]}}}`},
		{"bad budget", `{"version": 1, "limits": {"budget": "2 ms"}}`},
		{"test without want", `{"version": 1, "tests": [{"name": "n", "event": "e.json"}]}`},
		{"exclusion with paths and targets", `{"version": 1, "exclusions": [{"rules": "*", "paths": ["a"], "targets": ["b"]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse("probe.json", []byte(tt.give)); err == nil {
				t.Fatalf("Parse(%s) = nil error; the case must be one the parser refuses", tt.give)
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.give))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(inst); err == nil {
				t.Errorf("schema accepts %s", tt.give)
			}
		})
	}
}
