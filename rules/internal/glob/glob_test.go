package glob

import (
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern string
		sep     byte
		give    string
		want    bool
	}{
		{"body.user.name", '.', "body.user.name", true},
		{"body.user.name", '.', "body.user.names", false},
		{"body.*", '.', "body.user", true},
		{"body.*", '.', "body.user.name", false},
		{"body.**", '.', "body.user.name", true},
		{"body.**", '.', "bodyx.user", false},
		{"**", '.', "anything.at.all", true},
		{"record[*].body.note", '.', "record[3].body.note", true},
		{"record[*].body.note", '.', "record[3].x.body.note", false},
		{"headers.x-?", '.', "headers.x-a", true},
		{"headers.x-?", '.', "headers.x-ab", false},
		{`body.a\*b`, '.', "body.a*b", true},
		{`body.a\*b`, '.', "body.axb", false},
		{"**.password", '.', "body.user.password", true},
		{"POST /posts", '/', "POST /posts", true},
		{"* /posts/*", '/', "DELETE /posts/42", true},
		{"* /posts/*", '/', "DELETE /posts/42/comments", false},
		{"GET /files/**", '/', "GET /files/a/b.txt", true},
	}
	for _, tt := range tests {
		g, err := Compile(tt.pattern, tt.sep)
		if err != nil {
			t.Errorf("Compile(%q) error = %v", tt.pattern, err)
			continue
		}
		if got := g.Match(tt.give); got != tt.want {
			t.Errorf("glob %q match(%q) = %v, want %v", tt.pattern, tt.give, got, tt.want)
		}
	}
	for _, bad := range []string{"", "a.***", `a\`, strings.Repeat("a", MaxLen+1)} {
		if _, err := Compile(bad, '.'); err == nil {
			t.Errorf("Compile(%q) succeeded, want an error", bad)
		}
	}
}

// FuzzGlob checks that glob compilation never panics, that a pattern
// without wildcards matches exactly itself, and that "prefix.**" matches
// what starts with the prefix.
func FuzzGlob(f *testing.F) {
	f.Add("body.user.name", "body.user.name")
	f.Add("record[*].body.**", "record[2].body.a.b")
	f.Add(`a\*b?`, "a*bc")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		g, err := Compile(pattern, '.')
		if err != nil {
			return
		}
		g.Match(s)
		if !strings.ContainsAny(pattern, `*?\`) {
			if got, want := g.Match(s), s == pattern; got != want {
				t.Fatalf("glob %q match(%q) = %v, want %v", pattern, s, got, want)
			}
		}
		if !strings.ContainsAny(pattern, `*?\`) && len(pattern)+3 <= MaxLen {
			pg, err := Compile(pattern+".**", '.')
			if err != nil {
				t.Fatalf("Compile(%q) error = %v", pattern+".**", err)
			}
			if got, want := pg.Match(s), strings.HasPrefix(s, pattern+"."); got != want {
				t.Fatalf("glob %q match(%q) = %v, want %v", pattern+".**", s, got, want)
			}
		}
	})
}
