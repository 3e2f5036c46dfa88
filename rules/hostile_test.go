package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// hostileRules returns a policy with n inline input rules.
func hostileRules(n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: hostile\ninputs:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: r%d, detector: sqli, targets: [query]}\n", i)
	}
	return b.String()
}

// hostileAliasBomb returns a "billion laughs" document: each level is a list of
// ten aliases of the level before it.
func hostileAliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: bomb\nx0: &a0 [lol]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// regexRule returns a policy with one custom regex rule.
func regexRule(re string) string {
	return "version: 1\nname: re\ninputs:\n  - id: custom\n    targets: [query]\n    match: {regex: '" + re + "'}\n"
}

// TestHostilePolicies feeds policies built to exhaust the loader's time or
// memory. Each must end in an error (wrapping tooLarge where the loader
// reports a size bound) or in a usable engine; none may crash or hang.
func TestHostilePolicies(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		wantErr  bool
		tooLarge bool
	}{
		{name: "10 MB file", give: "version: 1\nname: big\n#" + strings.Repeat("x", 10<<20) + "\n", wantErr: true, tooLarge: true},
		{name: "100000 rules", give: hostileRules(100_000), wantErr: true, tooLarge: true},
		{name: "more rules than policy.MaxRules", give: hostileRules(policy.MaxRules + 1), wantErr: true},
		{name: "policy.MaxRules rules", give: hostileRules(policy.MaxRules), wantErr: false},
		{name: "deeply nested flow lists", give: "version: 1\nname: deep\nx: " + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\n", wantErr: true},
		{name: "deeply nested block maps", give: "version: 1\nname: deep\n" + deepMaps(1_000), wantErr: true},
		// Unknown top-level keys are refused before any alias is expanded.
		{name: "billion laughs at top level", give: hostileAliasBomb(9), wantErr: true},
		// A target that is a list is a type error reported without
		// descending into it; the error list stops at maxErrors.
		{name: "billion laughs inside inputs", give: inputsBomb(9), wantErr: true},
		{name: "regex repeat count over RE2 limit", give: regexRule(`(a{1000}){1000}`), wantErr: true},
		{name: "regex nested repeats", give: regexRule(`((((a*)*)*)*)*b`), wantErr: false},
		{name: "regex huge alternation", give: regexRule(strings.Repeat("abcdefgh|", 50_000) + "z"), wantErr: true},
		{name: "regex backreference", give: regexRule(`(a)\1`), wantErr: true},
		{name: "invalid UTF-8 in a value", give: "version: 1\nname: \xff\xfe\n", wantErr: true},
		{name: "invalid UTF-8 in a regex", give: regexRule("a\xc0\xafb"), wantErr: true},
		{name: "duplicate keys", give: "version: 1\nname: a\nname: b\n", wantErr: true},
		{name: "NUL bytes", give: "version: 1\nname: a\x00b\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.Parse("hostile.yaml", []byte(tt.give))
			if err == nil {
				_, err = Compile(p)
			}
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			first, _, _ := strings.Cut(err.Error(), "\n")
			t.Logf("refused: %.200s", first)
			if got := errors.Is(err, policy.ErrTooLarge); tt.tooLarge && !got {
				t.Errorf("got %v, want it to wrap policy.ErrTooLarge", err)
			}
			if len(err.Error()) > 64<<10 {
				t.Errorf("got a %d byte error message, want it bounded", len(err.Error()))
			}
		})
	}
}

// deepMaps returns n block mappings nested one in the other.
func deepMaps(n int) string {
	var b strings.Builder
	b.WriteString("x:\n")
	for i := 1; i <= n; i++ {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("x:\n")
	}
	b.WriteString(strings.Repeat(" ", n+1) + "y\n")
	return b.String()
}

// inputsBomb returns a "billion laughs" document whose anchors are the
// targets of input rules, so the loader has to look into them.
func inputsBomb(levels int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: bomb\ninputs:\n  - {id: r0, detector: sqli, targets: &a0 [query]}\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "  - {id: r%d, detector: sqli, targets: &a%d [", i, i)
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]}\n")
	}
	return b.String()
}
