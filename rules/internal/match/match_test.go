package match

import (
	"errors"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name      string
		give      Spec
		in        string
		wantOK    bool
		wantMatch string
	}{
		{"regex hit", Spec{Regex: `/wp-admin\b`}, "GET /wp-admin/x", true, "/wp-admin"},
		{"regex miss", Spec{Regex: `/wp-admin\b`}, "/WP-ADMIN/x", false, ""},
		{"regex fold", Spec{Regex: `/wp-admin\b`, CaseInsensitive: true}, "/WP-ADMIN/x", true, "/WP-ADMIN"},
		{"phrases hit", Spec{Phrases: []string{"union select", "sleep("}}, "1 and sleep(5)", true, "sleep("},
		{"phrases overlap", Spec{Phrases: []string{"abcd", "bc"}}, "xabcx", true, "bc"},
		{"phrases suffix via fail link", Spec{Phrases: []string{"she", "he", "hers"}}, "ushers", true, "she"},
		{"phrases fold", Spec{Phrases: []string{"Union Select"}, CaseInsensitive: true}, "1 UNION select 2", true, "UNION select"},
		{"phrases case", Spec{Phrases: []string{"union"}}, "UNION", false, ""},
		{"phrases miss", Spec{Phrases: []string{"union", "select"}}, "unio selec", false, ""},
		{"equals hit", Spec{Equals: []string{"admin", "root"}}, "root", true, "root"},
		{"equals partial", Spec{Equals: []string{"admin"}}, "administrator", false, ""},
		{"equals fold", Spec{Equals: []string{"Admin"}, CaseInsensitive: true}, "ADMIN", true, "ADMIN"},
		{"equals fold long", Spec{Equals: []string{"a"}, CaseInsensitive: true}, strings.Repeat("a", 5000), false, ""},
		{"prefix hit", Spec{Prefix: []string{"../", "/etc/"}}, "/etc/passwd", true, "/etc/"},
		{"prefix miss", Spec{Prefix: []string{"/etc/"}}, "x/etc/", false, ""},
		{"prefix fold", Spec{Prefix: []string{"javascript:"}, CaseInsensitive: true}, "JavaScript:alert(1)", true, "JavaScript:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.give)
			if err != nil {
				t.Fatalf("New() error = %v", err)
			}
			start, end, ok := m.Match(tt.in)
			if ok != tt.wantOK {
				t.Fatalf("Match(%q) ok = %v, want %v", tt.in, ok, tt.wantOK)
			}
			if ok && tt.in[start:end] != tt.wantMatch {
				t.Errorf("Match(%q) = %q, want %q", tt.in, tt.in[start:end], tt.wantMatch)
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		give Spec
		want string
	}{
		{"empty", Spec{}, "match: no pattern"},
		{"two kinds", Spec{Regex: "a", Equals: []string{"b"}}, "exactly one"},
		{"bad regex", Spec{Regex: "a(b"}, "missing closing )"},
		{"backreference is not RE2", Spec{Regex: `(a)\1`}, "invalid escape"},
		{"long regex", Spec{Regex: strings.Repeat("a", MaxRegexLen+1)}, "at most 4096"},
		{"empty list", Spec{Phrases: []string{}}, "empty list"},
		{"empty phrase", Spec{Phrases: []string{"a", ""}}, "entry 2 is empty"},
		{"long literal", Spec{Prefix: []string{strings.Repeat("a", MaxLiteralLen+1)}}, "at most 1024"},
		{"many literals", Spec{Equals: make([]string, MaxLiterals+1)}, "at most 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.give)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := New(Spec{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("New(Spec{}) error = %v, want ErrEmpty", err)
	}
}

// naiveIndex returns whether any literal occurs in s.
func naiveAny(s string, lits []string, fold bool) bool {
	for _, l := range lits {
		if indexFold(s, l, fold) >= 0 {
			return true
		}
	}
	return false
}

// FuzzPhrases checks the automaton against a naive search: it finds a
// phrase exactly when one occurs, and the reported span is a phrase.
func FuzzPhrases(f *testing.F) {
	f.Add("she,he,hers", "ushers", false)
	f.Add("abc,bcd,cde", "xxabcdexx", true)
	f.Add("A,b", "AbAb", true)
	f.Fuzz(func(t *testing.T, list, s string, fold bool) {
		var lits []string
		for _, l := range strings.Split(list, ",") {
			if l != "" && len(l) <= MaxLiteralLen {
				lits = append(lits, l)
			}
		}
		if len(lits) == 0 {
			return
		}
		m, err := New(Spec{Phrases: lits, CaseInsensitive: fold})
		if err != nil {
			t.Fatal(err)
		}
		start, end, ok := m.Match(s)
		if want := naiveAny(s, lits, fold); ok != want {
			t.Fatalf("Match(%q) over %q = %v, want %v", s, lits, ok, want)
		}
		if ok && !naiveAny(s[start:end], lits, fold) {
			t.Fatalf("Match(%q) span %q is not a phrase of %q", s, s[start:end], lits)
		}
	})
}

// BenchmarkPhrases measures a phrase list over a clean value (0
// allocations is the budget).
func BenchmarkPhrases(b *testing.B) {
	m, err := New(Spec{Phrases: []string{"union select", "sleep(", "benchmark(", "waitfor delay", "<script"}, CaseInsensitive: true})
	if err != nil {
		b.Fatal(err)
	}
	in := strings.Repeat("a perfectly ordinary value ", 40)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		m.Match(in)
	}
}
