package decode

import (
	"strings"
	"testing"
)

// transform is one transform under test.
type transform struct {
	name string
	fn   func([]byte, string) ([]byte, bool)
}

// transforms lists every transform of the package.
var transforms = []transform{
	{"URL", URL}, {"JS", JS}, {"HTML", HTML}, {"Overlong", Overlong},
	{"Null", Null}, {"Lower", Lower}, {"Space", Space},
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		fn   string
		give string
		want string
	}{
		{"URL", "plain", "plain"},
		{"URL", "%2e%2E%2f", "../"},
		{"URL", "%252e", "%2e"},
		{"URL", "%u002e%U2216", ".∖"},
		{"URL", "100%", "100%"},
		{"URL", "%zz%4", "%zz%4"},
		{"URL", "a+b", "a+b"},
		{"URL", "%00x", "\x00x"},
		{"JS", `\u003cscript\x3e`, "<script>"},
		{"JS", `\u{3c}`, "<"},
		{"JS", `a\nb\tc\r`, "a\nb\tc\r"},
		{"JS", `C:\Users\x`, `C:\Users\x`},
		{"JS", `\uZZZZ\`, `\uZZZZ\`},
		{"JS", `\uD800`, "\uFFFD"},
		{"HTML", "&lt;b&gt;", "<b>"},
		{"HTML", "&#60;&#x3C;&#X3c;&#00060", "<<<<"},
		{"HTML", "&#0;", "\uFFFD"},
		{"HTML", "&colon;&Tab;&NewLine;", ":\t\n"},
		{"HTML", "&lt", "<"},
		{"HTML", "&colon", "&colon"},
		{"HTML", "AT&T & more &unknown;", "AT&T & more &unknown;"},
		{"HTML", "&#;&#x;", "&#;&#x;"},
		{"Overlong", "\xc0\xaf\xc0\xae\xc1\x9c", "/.\\"},
		{"Overlong", "\xc1\xaf", "/"},
		{"Overlong", "\xc0\x2e\xc0\x5c", ".\\"},
		{"Overlong", "\xe0\x80\xaf\xf0\x80\x80\xae", "/."},
		{"Overlong", "\xf8\x80\x80\x80\xaf\xfc\x80\x80\x80\x80\xae", "/."},
		{"Overlong", "．．／∖", "../\\"},
		{"Overlong", "ｓｃｒｉｐｔ", "script"},
		{"Overlong", "①②⑦。⓪｡⓪.①", "127.0.0.1"},
		{"Overlong", "ⓛⓞⒸⒶⓁⓗⓞⓢⓣ", "loCALhost"},
		{"Overlong", "héllo wörld 日本", "héllo wörld 日本"},
		{"Overlong", "\xc0", "\xc0"},
		{"Null", "a\x00b\x00", "ab"},
		{"Null", "ab", "ab"},
		{"Lower", "SeLeCt Ä", "select Ä"},
		{"Space", "a  b\t\nc", "a b c"},
		{"Space", "union/**/select", "union select"},
		{"Space", "a/*unterminated", "a "},
		{"Space", "a b", "a b"},
		{"Space", "a/b*c", "a/b*c"},
	}
	for _, tt := range tests {
		var fn func([]byte, string) ([]byte, bool)
		for _, tr := range transforms {
			if tr.name == tt.fn {
				fn = tr.fn
			}
		}
		out, changed := fn(nil, tt.give)
		got := tt.give
		if changed {
			got = string(out)
		}
		if got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.fn, tt.give, got, tt.want)
		}
		if changed != (got != tt.give) && tt.fn != "Space" {
			t.Errorf("%s(%q): changed = %v, but output %q", tt.fn, tt.give, changed, got)
		}
	}
}

func TestChainFull(t *testing.T) {
	tests := []struct {
		give     string
		want     string
		wantNull bool
	}{
		{"plain text", "plain text", false},
		{"%25252e%25252e%25252f", "../", false},
		{"%2525252e", "%2e", false},
		{"%26lt%3Bscript%26gt%3B", "<script>", false},
		{"%5Cu003cimg%5Cu003e", "<img>", false},
		{"..%c0%af..%c0%af", "../../", false},
		{"%25c0%25ae%25c0%25ae/", "../", false},
		{"file.php%00.jpg", "file.php.jpg", true},
		{"&#x25;32&#x25;65", "2e", false},
	}
	var c Chain
	for _, tt := range tests {
		got, changed := c.Full(tt.give)
		if got != tt.want {
			t.Errorf("Full(%q) = %q, want %q", tt.give, got, tt.want)
		}
		if changed != (tt.give != tt.want) {
			t.Errorf("Full(%q): changed = %v", tt.give, changed)
		}
		if c.SawNull() != tt.wantNull {
			t.Errorf("Full(%q): SawNull = %v, want %v", tt.give, c.SawNull(), tt.wantNull)
		}
	}
}

func TestUnchangedDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 64)
	for _, tr := range transforms {
		s := "plain value 123"
		if n := testing.AllocsPerRun(20, func() { tr.fn(buf, s) }); n != 0 {
			t.Errorf("%s on clean input: %.0f allocations", tr.name, n)
		}
	}
	var c Chain
	c.Full(strings.Repeat("%2e", 40))
	if n := testing.AllocsPerRun(20, func() { c.Full("%2e%2e%2f%252e&lt;") }); n != 0 {
		t.Errorf("Chain.Full with warm buffers: %.0f allocations", n)
	}
}

func TestString(t *testing.T) {
	if got := String(nil); got != "" {
		t.Errorf("String(nil) = %q, want empty", got)
	}
	if got := String([]byte("ab")); got != "ab" {
		t.Errorf("String(ab) = %q, want %q", got, "ab")
	}
}
