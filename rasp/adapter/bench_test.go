package adapter

import (
	"path/filepath"
	"strings"
	"testing"
)

// typicalV2 is a ~2 KiB API Gateway HTTP API event with a JSON body.
func typicalV2(b testing.TB) []byte {
	h := map[string]string{
		"accept":            "application/json",
		"accept-encoding":   "gzip, deflate, br",
		"accept-language":   "en-US,en;q=0.9",
		"content-type":      "application/json",
		"host":              "abc123.execute-api.us-east-1.amazonaws.com",
		"user-agent":        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
		"x-amzn-trace-id":   "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c",
		"x-forwarded-for":   "203.0.113.7",
		"x-forwarded-port":  "443",
		"x-forwarded-proto": "https",
		"authorization":     "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
	}
	body := `{"order":{"id":"o-12345","customer":{"name":"Ada Lovelace","email":"ada@example.com"},` +
		`"items":[{"sku":"A-1","qty":2,"note":"gift wrap please"},{"sku":"B-7","qty":1,"note":""}],` +
		`"shipping":{"street":"12 Analytical Row","city":"London","zip":"N1 9GU"}}}`
	raw := v2(b, h, body, false)
	return raw
}

func BenchmarkParse(b *testing.B) {
	b.Run("apigw-v2-typical", func(b *testing.B) {
		raw := typicalV2(b)
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(raw, Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	for _, f := range files {
		raw := readEvent(b, filepath.Base(f))
		ev, err := Parse(raw, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(ev.Source+"/"+strings.TrimSuffix(filepath.Base(f), ".json"), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(raw, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBinaryBody measures how long a 1 MiB binary body costs: the
// classification and skip alone (the step this package adds to a body),
// and the whole Parse of an API Gateway v2 event carrying it base64
// encoded (which also scans the 1.4 MB JSON string of the event).
func BenchmarkBinaryBody(b *testing.B) {
	img := randomBytes(1 << 20)
	img = "\x89PNG\r\n\x1a\n" + img[8:]
	enc := b64(img)
	b.Run("classify-and-skip", func(b *testing.B) {
		x := getExtractor(Limits{}.withDefaults())
		defer putExtractor(x)
		b.SetBytes(int64(len(img)))
		b.ReportAllocs()
		for b.Loop() {
			x.skipped = x.skipped[:0]
			x.body(enc, true, "image/png", "", 0)
			if len(x.skipped) != 1 {
				b.Fatal("not skipped")
			}
		}
	})
	b.Run("parse-event", func(b *testing.B) {
		raw := v2(b, map[string]string{"content-type": "application/octet-stream"}, enc, true)
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			ev, err := Parse(raw, Limits{})
			if err != nil || len(ev.Skipped) != 1 {
				b.Fatal(err, ev.Skipped)
			}
		}
	})
}
