package adapter

import (
	"encoding/base64"
	"testing"
)

// FuzzSniff checks that classifying a body from base64 samples agrees
// with classifying the decoded bytes whenever the samples cover the whole
// body, and that neither panics.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{"", "hello", "GIF89a<script>", "\x89PNG\r\n\x1a\n\x00\x00", gz("x"), zlibString("y"), "x^2", "\xff\xfeh\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		want := sniff(s)
		if len(s) > sniffHead+sniffWins*sniffWindow {
			return
		}
		got, ok := sniffBase64(base64.StdEncoding.EncodeToString(b))
		if !ok {
			t.Fatalf("sniffBase64 rejected valid base64 of %q", s)
		}
		if got != want {
			t.Fatalf("sniffBase64 = %+v, sniff = %+v for %q", got, want, s)
		}
	})
}

// FuzzCarrier checks that carrier decoding never panics and only ever
// yields printable text that is the value's real decoding.
func FuzzCarrier(f *testing.F) {
	for _, s := range []string{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
		base64.StdEncoding.EncodeToString([]byte(`{"a":"b","c":"<script>"}`)),
		base64.RawURLEncoding.EncodeToString([]byte("some text that is long enough")),
		"3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAA", "Bearer x.y.z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if dec, ok := decodeCarrier(s); ok {
			if !printable([]byte(dec), false) {
				t.Fatalf("decodeCarrier(%q) = %q, not printable", s, dec)
			}
			if !isBase64Text(s) {
				return
			}
		}
		if h, p, ok := jwtParts(s); ok && (len(h)+len(p) >= len(s) || !isB64URL(h) || !isB64URL(p)) {
			t.Fatalf("jwtParts(%q) = %q, %q", s, h, p)
		}
		// The whole extraction path with the value in a header and a
		// cookie stays within its bounds.
		ev, err := Parse(v2(t, map[string]string{"x-v": s, "cookie": "c=" + s}, "", false), Limits{MaxFields: 64})
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Request.Fields) > 64 {
			t.Fatalf("%d fields", len(ev.Request.Fields))
		}
	})
}

// FuzzInflate checks that inflation never returns more than its bound,
// whatever the stream.
func FuzzInflate(f *testing.F) {
	f.Add([]byte(gz("hello hello hello")), "gzip")
	f.Add([]byte(zlibString("hello")), "zlib")
	f.Add([]byte(cutGzip("hello")), "gzip")
	f.Add([]byte("\x78\x9c"), "deflate")
	f.Fuzz(func(t *testing.T, b []byte, enc string) {
		out, complete, err := inflateString(string(b), enc, 512)
		if len(out) > 512 {
			t.Fatalf("inflated %d bytes, bound 512", len(out))
		}
		if err != nil && (complete || out != "") {
			t.Fatalf("error %v with output %d bytes, complete %v", err, len(out), complete)
		}
	})
}
