package ocsf

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

var update = flag.Bool("update", false, "rewrite golden files")

// schema is testdata/detection_finding_1.3.0.json.
type schema struct {
	ClassUID    int                 `json:"class_uid"`
	CategoryUID int                 `json:"category_uid"`
	Required    []string            `json:"required"`
	Objects     map[string][]string `json:"objects"`
	Enums       map[string][]int    `json:"enums"`
}

func loadSchema(t testing.TB) schema {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "detection_finding_1.3.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s schema
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// lookup returns the value at a dotted path of doc.
func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	}
	return true
}

// validate checks one JSON line against the class's required attributes,
// the integer enumerations and the class identifiers.
func validate(t testing.TB, s schema, line []byte) {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, line)
	}
	for _, k := range s.Required {
		if v, ok := doc[k]; !ok || !present(v) {
			t.Errorf("required attribute %s missing in %s", k, line)
		}
	}
	for obj, keys := range s.Objects {
		for _, k := range keys {
			if v, ok := lookup(doc, obj+"."+k); !ok || !present(v) {
				t.Errorf("required attribute %s.%s missing in %s", obj, k, line)
			}
		}
	}
	num := func(path string) (int64, bool) {
		v, ok := lookup(doc, path)
		if !ok {
			return 0, false
		}
		n, ok := v.(json.Number)
		if !ok {
			t.Errorf("%s is not a number: %v", path, v)
			return 0, false
		}
		i, err := n.Int64()
		if err != nil {
			t.Errorf("%s is not an integer: %v", path, n)
		}
		return i, true
	}
	for path, allowed := range s.Enums {
		v, ok := num(path)
		if !ok {
			continue
		}
		found := false
		for _, a := range allowed {
			found = found || int64(a) == v
		}
		if !found {
			t.Errorf("%s = %d, not in the enumeration", path, v)
		}
	}
	class, _ := num("class_uid")
	cat, _ := num("category_uid")
	act, _ := num("activity_id")
	typ, _ := num("type_uid")
	if class != int64(s.ClassUID) || cat != int64(s.CategoryUID) || typ != class*100+act {
		t.Errorf("class %d category %d type %d activity %d", class, cat, typ, act)
	}
	if ts, _ := num("time"); ts < 1e12 {
		t.Errorf("time %d is not Unix milliseconds", ts)
	}
}

var at = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)

func testWriter(buf *bytes.Buffer) *Writer {
	w := New(buf, "v1.2.3", "eu-west-1")
	w.Now = func() time.Time { return at.Add(time.Millisecond) }
	w.UID = func() string { return "0123456789abcdef0123456789abcdef" }
	return w
}

func TestDetectionFindingRequiredAttributes(t *testing.T) {
	s := loadSchema(t)
	tests := []struct {
		name string
		give wire.Event
	}{
		{name: "input block", give: wire.Event{Kind: wire.KindDetection, Time: at, RequestID: "req-1", EventSource: "apigw-v2",
			RuleID: "sqli", Category: "sqli", Action: "block", Source: "query", Path: "query.q", Excerpt: "' OR 1=1--", PolicyVersion: "default@3f2a9c1e"}},
		{name: "input monitor", give: wire.Event{Kind: wire.KindDetection, RuleID: "xss", Category: "xss", Action: "monitor", Source: "body"}},
		{name: "sink refusal", give: wire.Event{Kind: wire.KindSink, Sink: "exec", RuleID: "sink-exec", Category: "cmdi", Action: "block", Reason: "input reaches a shell"}},
		{name: "egress refusal", give: wire.Event{Kind: wire.KindEgress, RuleID: "egress-metadata", Category: "ssrf", Action: "block", Dest: "169.254.169.254:80", Class: "metadata"}},
		{name: "empty event", give: wire.Event{}},
		{name: "oversized fields", give: wire.Event{Kind: wire.KindDetection, RuleID: strings.Repeat("r", 5000), Excerpt: strings.Repeat("x", 5000), Path: strings.Repeat("p", 5000)}},
	}
	var all bytes.Buffer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			testWriter(&buf).SecurityEvent("orders", &tt.give)
			if n := bytes.Count(buf.Bytes(), []byte("\n")); n != 1 {
				t.Fatalf("%d lines, want 1", n)
			}
			validate(t, s, buf.Bytes())
			if buf.Len() > 4096 {
				t.Errorf("finding is %d bytes: fields are not bounded", buf.Len())
			}
			all.Write(buf.Bytes())
		})
	}
	path := filepath.Join("testdata", "findings.golden")
	if *update {
		if err := os.WriteFile(path, all.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := all.String(); got != string(want) {
		t.Errorf("findings =\n%s\nwant\n%s", got, want)
	}
}

// TestValidatorRejects: the validator itself fails a finding that lacks a
// required attribute or has an id outside its enumeration.
func TestValidatorRejects(t *testing.T) {
	s := loadSchema(t)
	for _, give := range []string{
		`{"activity_id":1,"category_uid":2,"class_uid":2004,"type_uid":200401,"severity_id":4,"time":1795420800000,"metadata":{"version":"1.3.0","product":{"vendor_name":"x"}},"cloud":{"provider":"AWS"}}`,
		`{"activity_id":1,"category_uid":2,"class_uid":2004,"type_uid":200401,"severity_id":42,"time":1795420800000,"metadata":{"version":"1.3.0","product":{"vendor_name":"x"}},"finding_info":{"uid":"u","title":"t"},"cloud":{"provider":"AWS"}}`,
		`{"activity_id":1,"category_uid":2,"class_uid":2004,"type_uid":200499,"severity_id":4,"time":1795420800000,"metadata":{"version":"1.3.0","product":{"vendor_name":"x"}},"finding_info":{"uid":"u","title":"t"},"cloud":{"provider":"AWS"}}`,
	} {
		ft := &testing.T{}
		done := make(chan struct{})
		go func() { defer close(done); validate(ft, s, []byte(give)) }()
		<-done
		if !ft.Failed() {
			t.Errorf("validator accepted %s", give)
		}
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		give, want string
		wantErr    bool
	}{
		{give: "", want: FormatJSON},
		{give: "json", want: FormatJSON},
		{give: " OCSF ", want: FormatOCSF},
		{give: "cef", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v", tt.give, got, err)
		}
	}
}

// FuzzFinding: any event strings give one line that is a valid finding.
func FuzzFinding(f *testing.F) {
	s := loadSchema(f)
	f.Add("detection", "sqli", "sqli", "block", "query", "query.q", "' OR 1=1--", "")
	f.Add("egress", "", "", "monitor", "", "", "\xff\x00\"", "metadata")
	f.Fuzz(func(t *testing.T, kind, rule, cat, action, source, path, excerpt, class string) {
		var buf bytes.Buffer
		e := &wire.Event{Kind: wire.Kind(kind), RuleID: rule, Category: cat, Action: action, Source: source,
			Path: path, Excerpt: excerpt, Class: class, Dest: excerpt, Reason: path}
		testWriter(&buf).SecurityEvent(rule, e)
		if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("not one line: %q", buf.String())
		}
		validate(t, s, buf.Bytes())
	})
}
