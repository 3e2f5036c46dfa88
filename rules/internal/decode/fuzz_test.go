package decode

import (
	"testing"
	"unicode/utf8"
)

// seeds are fuzz seeds shared by the decoders.
var seeds = []string{
	"", "plain", "%2e%2e%2f", "%u002e", "%", "%2", "%zz", "\\u003c", "\\u{3c}", "\\x3c", "\\",
	"&lt;", "&#60", "&#x3c;", "&#99999999999;", "&", "\xc0\xaf", "\xe0\x80\xaf", "\xf8\x80\x80\x80\xaf",
	"．／", "a\x00b", "ABC", "a  /* x */ b", "/*", "%25c0%25ae",
}

// checkTransform asserts the invariants every transform keeps: no
// panic, output no longer than the input, an unchanged result reported
// as such without touching dst.
func checkTransform(t *testing.T, name string, fn func([]byte, string) ([]byte, bool), s string) string {
	t.Helper()
	dst := make([]byte, 3, 8)
	out, changed := fn(dst, s)
	if !changed {
		if len(out) != 3 {
			t.Fatalf("%s(%q): unchanged result altered dst to %q", name, s, out)
		}
		return s
	}
	if len(out) > len(s) {
		t.Fatalf("%s(%q) = %q: output longer than input", name, s, out)
	}
	return string(out)
}

func FuzzURL(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkTransform(t, "URL", URL, s) })
}

func FuzzJS(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkTransform(t, "JS", JS, s) })
}

func FuzzHTML(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkTransform(t, "HTML", HTML, s) })
}

func FuzzOverlong(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := checkTransform(t, "Overlong", Overlong, s)
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Overlong(%q) = %q: valid UTF-8 became invalid", s, out)
		}
	})
}

func FuzzNullLowerSpace(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tr := range []transform{{"Null", Null}, {"Lower", Lower}, {"Space", Space}} {
			once := checkTransform(t, tr.name, tr.fn, s)
			// These three are idempotent.
			if twice := checkTransform(t, tr.name, tr.fn, once); twice != once {
				t.Fatalf("%s not idempotent on %q: %q then %q", tr.name, s, once, twice)
			}
		}
	})
}

func FuzzChainFull(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	var c Chain
	f.Fuzz(func(t *testing.T, s string) {
		out, changed := c.Full(s)
		if !changed && out != s {
			t.Fatalf("Full(%q) = %q reported unchanged", s, out)
		}
		if len(out) > len(s) {
			t.Fatalf("Full(%q) = %q: output longer than input", s, out)
		}
		for i := range len(out) {
			if out[i] == 0 {
				t.Fatalf("Full(%q) = %q still holds a NUL byte", s, out)
			}
		}
	})
}
