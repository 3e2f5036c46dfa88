package shtok

import (
	"strings"
	"testing"
)

func render(s string, toks []Token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Kind.String() + ":" + t.Text(s))
	}
	return b.String()
}

func TestTokenize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"echo hello world", "command:echo word:hello word:world"},
		{"echo a; id", "command:echo word:a control:; command:id"},
		{"a && b || c | d & e", "command:a control:&& command:b control:|| command:c control:| command:d control:& command:e"},
		{"echo 'a; b' \"c | d\"", `command:echo word:'a; b' word:"c | d"`},
		{`echo "x $(id -u) y"`, `command:echo word:"x  subst-open:$( command:id word:-u subst-close:) word: y"`},
		{"echo `date` z", "command:echo subst-open:` command:date subst-close:` word:z"},
		{"cat <(ls) >out 2>&1", "command:cat subst-open:<( command:ls subst-close:) redirect:> word:out redirect:2>& word:1"},
		{"FOO=1 BAR=2 env", "assignment:FOO=1 assignment:BAR=2 command:env"},
		{"if true; then id; fi", "keyword:if command:true control:; keyword:then command:id control:; keyword:fi"},
		{"echo a # b; c\nid", "command:echo word:a comment:# b; c control:\n command:id"},
		{"echo ${HOME}x a\\ b", "command:echo word:${HOME}x word:a\\ b"},
		{"(cd /; ls)", "control:( command:cd word:/ control:; command:ls subst-close:)"},
		{"echo a)b", "command:echo word:a control:) command:b"},
		{"echo $(", "command:echo subst-open:$("},
		{"echo 'open", "command:echo word:'open"},
		{"x &>/dev/null", "command:x redirect:&> word:/dev/null"},
		{"a2>b", "command:a2 redirect:> word:b"},
	}
	for _, tt := range tests {
		if got := render(tt.in, Tokenize(nil, tt.in)); got != tt.want {
			t.Errorf("Tokenize(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestDepth(t *testing.T) {
	s := strings.Repeat("$(", 10000) + "id" + strings.Repeat(")", 10000)
	toks := Tokenize(nil, s)
	if len(toks) == 0 || len(toks) > len(s) {
		t.Fatalf("%d tokens", len(toks))
	}
}

// FuzzTokenize checks that any input tokenizes without panicking into
// ordered, non-empty, non-overlapping tokens within the input.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"echo a; id", `echo "x $(id) y" 'z'`, "cat <(ls) 2>&1 >>x", "a=`b`; ${c} \\\n d", "((", "))", "$(`$(", "\"$(\"", "`)`",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokenize(nil, s)
		if len(toks) > len(s) {
			t.Fatalf("%d tokens for %d bytes", len(toks), len(s))
		}
		end := 0
		for _, tok := range toks {
			if tok.Start < end || tok.End <= tok.Start || tok.End > len(s) {
				t.Fatalf("bad token %+v after %d in %q", tok, end, s)
			}
			end = tok.End
		}
	})
}
