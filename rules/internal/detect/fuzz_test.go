package detect

import (
	"strings"
	"testing"
)

// detectSeeds are fuzz seeds: attacks and near-misses for every detector.
var detectSeeds = []string{
	"", "a", "1' OR '1'='1", "<script>alert(1)</script>", "; cat /etc/passwd", "..%2f..%2f",
	"http://[::ffff:127.0.0.1]/", "http://0x7f.1/", "${${lower:j}ndi:x}", "${", "}${", "{{7*7}}",
	"{$gt: ''}", "__proto__", "a\r\nSet-Cookie: x", "%c0%af", "&#x3c;", "\\u003c", "() {",
	"http://@", "http://[", "0x2e0x2e", "file:", "jar:", "{{", "<%", "${ifs}", "|", "&&",
}

// FuzzDetect runs every detector on arbitrary values in every source and
// checks that none panics and that evidence comes from a view.
func FuzzDetect(f *testing.F) {
	for _, s := range detectSeeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	sources := []string{"query", "path", "headers", "cookies", "body", "pathParams", "record"}
	sc := NewScratch()
	f.Fuzz(func(t *testing.T, s string, key bool) {
		for _, src := range sources {
			for _, d := range builtins {
				sc.Reset(s)
				fd, ok := d.Detect(sc, Input{Value: s, Key: key, Source: src})
				if !ok {
					if fd != (Finding{}) {
						t.Fatalf("%s(%q): miss with a finding %+v", d.Name(), s, fd)
					}
					continue
				}
				if fd.Reason == "" {
					t.Fatalf("%s(%q): hit without a reason", d.Name(), s)
				}
				views := []string{sc.Raw(), sc.Decoded(), sc.Lower(), sc.Compact(), sc.Path()}
				found := false
				for _, v := range views {
					if strings.Contains(v, fd.Evidence) {
						found = true
					}
				}
				if !found {
					t.Fatalf("%s(%q): evidence %q in no view", d.Name(), s, fd.Evidence)
				}
			}
		}
	})
}

// FuzzResolveLookups checks the Log4j lookup resolver: it terminates,
// never grows its input and leaves no complete ${...} lookup behind.
func FuzzResolveLookups(f *testing.F) {
	for _, s := range detectSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		found := resolveLookups(&b)
		if len(b) > len(s) {
			t.Fatalf("resolveLookups(%q) grew to %q", s, b)
		}
		if !found && strings.Contains(string(b), "}") && strings.Contains(string(b), "${") {
			i := strings.Index(string(b), "${")
			if strings.Contains(string(b[i:]), "}") {
				t.Fatalf("resolveLookups(%q) left a lookup in %q", s, b)
			}
		}
	})
}

// FuzzParseIPv4 checks the inet_aton reader against its own formatting
// of dotted quads.
func FuzzParseIPv4(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "0x7f.1", "0177.0.0.1", "2130706433", "0", "1.2.3.4.5", "256.1.1.1", "0x", "08"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseIPv4(s)
		if !ok {
			return
		}
		q := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		dotted := strings.Join([]string{itoa(q[0]), itoa(q[1]), itoa(q[2]), itoa(q[3])}, ".")
		if w, ok := parseIPv4(dotted); !ok || w != v {
			t.Fatalf("parseIPv4(%q) = %08x, but %s reads as %08x, %v", s, v, dotted, w, ok)
		}
	})
}

// itoa formats a byte in decimal.
func itoa(b byte) string {
	if b < 10 {
		return string(rune('0' + b))
	}
	return itoa(b/10) + string(rune('0'+b%10))
}
