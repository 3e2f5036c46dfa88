package adapter

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

func addEventSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzJSON checks the scanner against encoding/json: every valid document
// parses, and a top-level string unescapes to the same value.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `"a\u00e9\ud83d\ude00"`, `{"a":[1,-2.5e3,true,false,null,"x"]}`, `"\ud800x"`, `[[[[]]]]`} {
		f.Add([]byte(s))
	}
	addEventSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var d doc
		err := parseJSON(&d, b, 4)
		if json.Valid(b) && err != nil {
			t.Fatalf("parseJSON(%q) = %v for valid JSON", b, err)
		}
		if err != nil {
			return
		}
		var s string
		if json.Unmarshal(b, &s) == nil && utf8.Valid(b) && d.text(0) != s {
			t.Errorf("parseJSON(%q) string = %q, want %q", b, d.text(0), s)
		}
	})
}

// FuzzParse runs every adapter (the seeds cover each source) and checks
// the invariants callers rely on.
func FuzzParse(f *testing.F) {
	addEventSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := Limits{MaxBodyBytes: 4096, MaxDepth: 8, MaxFields: 64}
		ev, err := Parse(b, lim)
		if err != nil {
			return
		}
		if len(ev.Request.Fields) > lim.MaxFields {
			t.Errorf("%d fields, limit %d", len(ev.Request.Fields), lim.MaxFields)
		}
		for _, fl := range ev.Request.Fields {
			if fl.Source == rules.SourceUnknown {
				t.Errorf("field %q has no source", fl.Path)
			}
		}
		for _, r := range ev.Records {
			if r.Start < 0 || r.End > len(b) || r.Start > r.End {
				t.Fatalf("record %d range [%d,%d) outside %d bytes", r.Index, r.Start, r.End, len(b))
			}
		}
	})
}

// FuzzBodies drives the body decoders (form, multipart, gzip, deflate,
// base64, JSON sniffing) directly.
func FuzzBodies(f *testing.F) {
	f.Add("a=1&b=%27", false, "application/x-www-form-urlencoded", "")
	f.Add(multipartBody, false, "multipart/form-data; boundary=XyZ", "")
	f.Add(gz(`{"a":"b"}`), false, "application/json", "gzip")
	f.Add("eJxLTEoGAAJNASc=", true, "text/plain", "deflate")
	f.Add("PHNjcmlwdD4=", true, "", "")
	f.Fuzz(func(t *testing.T, body string, b64 bool, ctype, cenc string) {
		x := getExtractor(Limits{MaxBodyBytes: 1024, MaxDepth: 8, MaxFields: 32}.withDefaults())
		defer putExtractor(x)
		x.push("body")
		x.body(body, b64, ctype, cenc, rules.SourceBody)
		for _, fl := range x.finish() {
			if len(fl.Value) > 1024 {
				t.Errorf("field %s has %d bytes, bound 1024", fl.Path, len(fl.Value))
			}
			if !strings.HasPrefix(fl.Path, "body") {
				t.Errorf("field path %q outside body", fl.Path)
			}
		}
	})
}
