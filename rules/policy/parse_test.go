package policy

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestParseBadGolden parses every testdata/policies/bad-*.yaml and compares
// the error text with its .golden file.
func TestParseBadGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/policies/bad-*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no bad-*.yaml fixtures")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := LoadFile(file)
			if err == nil {
				t.Fatalf("LoadFile(%s) succeeded, want errors", file)
			}
			var perrs Errors
			if !errors.As(err, &perrs) {
				t.Fatalf("LoadFile(%s) error %T is not Errors", file, err)
			}
			for _, pe := range perrs {
				if pe.File != file || pe.Line < 1 || pe.Col < 1 {
					t.Errorf("error %q lacks a position in %s", pe, file)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden: %v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("LoadFile(%s) errors:\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

func TestParseGood(t *testing.T) {
	p, err := LoadFile("testdata/policies/good.yaml")
	if err != nil {
		t.Fatalf("LoadFile() error = %v", err)
	}
	if got, want := p.Name, "orders-api"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
	if got, want := p.Limits, (Limits{MaxBodyBytes: 262144, MaxDepth: 16, MaxFields: 512, Budget: 3 * time.Millisecond}); got != want {
		t.Errorf("Limits = %+v, want %+v", got, want)
	}
	if got, want := len(p.Inputs), 4; got != want {
		t.Fatalf("len(Inputs) = %d, want %d", got, want)
	}
	scanner := p.Inputs[2]
	if scanner.ID != "scanner-ua" || scanner.Action != ActionMonitor || scanner.Match == nil ||
		!scanner.Match.CaseInsensitive || len(scanner.Match.Phrases) != 3 {
		t.Errorf("Inputs[2] = %+v, want the scanner-ua phrase rule in monitor", scanner)
	}
	if got := p.Inputs[0].Targets; len(got) != 2 || got[0] != SourceQuery || got[1] != SourceBody {
		t.Errorf("Inputs[0].Targets = %v, want [query body]", got)
	}
	if m := p.Inputs[3].Mode; m == nil || *m != ModeMonitor {
		t.Errorf("Inputs[3].Mode = %v, want monitor", m)
	}
	if p.Inputs[1].Pos != (Pos{Line: 10, Col: 5}) {
		t.Errorf("Inputs[1].Pos = %+v, want 10:5", p.Inputs[1].Pos)
	}
	if got := p.Exclusions[0]; got.Route != "POST /reports" || got.Rules[0] != "sqli" || got.Paths[0] != "body.query.sql" {
		t.Errorf("Exclusions[0] = %+v", got)
	}
	eg := p.Egress
	if eg.Default != "deny" || eg.Mode == nil || *eg.Mode != ModeMonitor || len(eg.Allow) != 2 || len(eg.Deny) != 1 {
		t.Errorf("Egress = %+v", eg)
	}
	if got := eg.Allow[0]; got.Host != "*.amazonaws.com" || len(got.Ports) != 1 || got.Ports[0] != 443 || got.Schemes[0] != "https" {
		t.Errorf("Egress.Allow[0] = %+v", got)
	}
	if got := eg.Allow[1].CIDR; got != "10.20.0.0/16" {
		t.Errorf("Egress.Allow[1].CIDR = %q, want 10.20.0.0/16", got)
	}
	s := p.Sinks
	if s.SQL.Mode != ModeBlock || !s.Exec.Deny || s.Exec.Mode != ModeBlock || s.Files.Mode != ModeMonitor ||
		len(s.Files.Deny) != 2 || len(s.Files.Allow) != 1 {
		t.Errorf("Sinks = %+v", s)
	}
	if got := len(p.Tests); got != 2 {
		t.Fatalf("len(Tests) = %d, want 2", got)
	}
	if got := p.Tests[1]; got.Want.Action != ActionBlock || got.Want.Rules[0] != "admin-probe" || got.Event != "../events/admin-probe.json" {
		t.Errorf("Tests[1] = %+v", got)
	}
}

func TestParseOnError(t *testing.T) {
	tests := []struct {
		give string
		want OnErrorActions
	}{
		{"on_error: allow", OnErrorActions{}},
		{"on_error: block", failClosed()},
		{"on_error: {limits: allow}", OnErrorActions{Limits: ActionAllow, Budget: ActionBlock, Malformed: ActionBlock, Panic: ActionBlock}},
		{"on_error: {panic: allow, malformed: allow}", OnErrorActions{Limits: ActionBlock, Budget: ActionBlock}},
	}
	for _, tt := range tests {
		p, err := Parse("p.yaml", []byte("version: 1\n"+tt.give+"\n"))
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.give, err)
		}
		if p.OnErrorBy != tt.want || p.OnError != tt.want.Panic {
			t.Errorf("Parse(%q): OnErrorBy = %+v, OnError = %v, want %+v", tt.give, p.OnErrorBy, p.OnError, tt.want)
		}
	}
	for _, bad := range []string{"on_error: maybe", "on_error: {limits: maybe}", "on_error: {cost: allow}"} {
		if _, err := Parse("p.yaml", []byte("version: 1\n"+bad+"\n")); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	p, err := Parse("min.yaml", []byte("version: 1\nmode: monitor\ninputs:\n  - {id: a, detector: sqli}\n"))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if got, want := p.Limits, DefaultLimits(); got != want {
		t.Errorf("Limits = %+v, want %+v", got, want)
	}
	if p.OnError != ActionBlock || p.OnErrorBy != failClosed() {
		t.Errorf("OnError = %v, %+v, want block for every reason", p.OnError, p.OnErrorBy)
	}
	if p.Egress.Default != "allow" {
		t.Errorf("Egress.Default = %q, want allow", p.Egress.Default)
	}
	if p.Sinks.SQL.Mode != ModeMonitor || p.Sinks.Exec.Mode != ModeMonitor || p.Sinks.Files.Mode != ModeMonitor {
		t.Errorf("sink modes = %v %v %v, want the policy mode (monitor)", p.Sinks.SQL.Mode, p.Sinks.Exec.Mode, p.Sinks.Files.Mode)
	}
	if r := p.Inputs[0]; r.Targets != nil || r.Action != ActionBlock || r.Mode != nil {
		t.Errorf("Inputs[0] = %+v, want all targets, block, no mode", r)
	}
}

func TestParseErrorsAreTyped(t *testing.T) {
	_, err := Parse("p.yaml", []byte("version: 1\ninputs:\n  - id: x\n    detector: nope\n"))
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("Parse() error %T, want a *Error inside", err)
	}
	if pe.File != "p.yaml" || pe.Line != 4 || pe.Col != 15 || pe.RuleID != "x" {
		t.Errorf("Error = %+v, want p.yaml:4:15 rule x", pe)
	}
}

func TestParseHostile(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{
			name: "huge file",
			give: "version: 1\n# " + strings.Repeat("x", MaxPolicyBytes),
			want: "larger than 1048576 bytes",
		},
		{
			name: "too many rules",
			give: "version: 1\ninputs:\n" + strings.Repeat("  - {id: a, detector: sqli}\n", MaxRules+1),
			want: "inputs has 1025 entries, at most 1024 allowed",
		},
		{
			name: "enormous regex",
			give: "version: 1\ninputs:\n  - id: r\n    match: {regex: '" + strings.Repeat("a", 5000) + "'}\n",
			want: "at most 4096 allowed",
		},
		{
			name: "alias bomb",
			give: aliasBomb(),
			want: "more than 200000 YAML nodes",
		},
		{
			name: "deep nesting",
			give: "version: 1\nname: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n",
			want: "max depth",
		},
		{
			name: "empty",
			give: "",
			want: "empty policy",
		},
		{
			name: "scalar document",
			give: "just text",
			want: "policy must be a mapping",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("hostile.yaml", []byte(tt.give))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %.300v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// aliasBomb is a "billion laughs" policy: a list of 256 globs referenced
// by one rule, that rule referenced 1024 times by inputs.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("version: 1\nname: &p\n")
	for i := 0; i < 256; i++ {
		b.WriteString("  - body.x\n")
	}
	b.WriteString("mode: &r {id: a, detector: sqli, paths: *p}\ninputs:\n")
	for i := 0; i < 1024; i++ {
		b.WriteString("  - *r\n")
	}
	return b.String()
}

// FuzzParse checks that Parse never panics and that every error carries
// a position and the file name.
func FuzzParse(f *testing.F) {
	for _, file := range append(must(filepath.Glob("testdata/policies/*.yaml")), "default.yaml") {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\ninputs: [{id: a, match: {phrases: [x, y]}}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err == nil {
			if p == nil {
				t.Fatal("Parse() returned nil policy and nil error")
			}
			return
		}
		var perrs Errors
		if !errors.As(err, &perrs) || len(perrs) == 0 {
			t.Fatalf("Parse() error %T %v is not a non-empty Errors", err, err)
		}
		for _, pe := range perrs {
			if pe.File != "fuzz.yaml" || pe.Line < 1 || pe.Col < 1 || pe.Msg == "" {
				t.Fatalf("error without position: %+v", pe)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
