package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixtures is where the rules package keeps its policy fixtures.
const fixtures = "../../../rules/policy/testdata/policies/"

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		give     []string
		wantCode int
	}{
		{"lint-good", []string{"lint", fixtures + "good.yaml"}, 0},
		{"lint-bad", []string{"lint", fixtures + "good.yaml", fixtures + "bad-rules.yaml", fixtures + "bad-egress.yaml"}, 1},
		{"lint-missing-event", []string{"lint", fixtures + "failing-tests.yaml"}, 1},
		{"lint-missing-file", []string{"lint", fixtures + "no-such-policy.yaml"}, 2},
		{"lint-json", []string{"lint", "--format", "json", fixtures + "good.yaml", fixtures + "bad-egress.yaml"}, 1},
		{"test-json", []string{"test", "--format", "json", fixtures + "failing-tests.yaml"}, 1},
		{"test-missing-file", []string{"test", fixtures + "no-such-policy.yaml"}, 2},
		{"egress-no-subcommand", []string{"egress"}, 2},
		{"lint-no-args", []string{"lint"}, 2},
		{"lint-flag", []string{"lint", "-x", fixtures + "good.yaml"}, 2},
		{"test-good", []string{"test", fixtures + "good.yaml"}, 0},
		{"test-failing", []string{"test", fixtures + "failing-tests.yaml"}, 1},
		{"test-invalid-policy", []string{"test", fixtures + "bad-keys.yaml"}, 1},
		{"test-no-tests", []string{"test", fixtures + "bad-version.yaml", fixtures + "notests.yaml"}, 1},
		{"test-no-args", []string{"test"}, 2},
		{"test-default", []string{"test", "../../../rules/policy/default.yaml"}, 0},
		{"lint-default", []string{"lint", "../../../rules/policy/default.yaml"}, 0},
		{"no-command", nil, 2},
		{"unknown-command", []string{"frobnicate"}, 2},
		{"help", []string{"help"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.give, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.give, code, tt.wantCode, stdout.String(), stderr.String())
			}
			got := "-- stdout --\n" + stdout.String() + "-- stderr --\n" + stderr.String()
			golden := filepath.Join("testdata", tt.name+".golden")
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
				t.Errorf("run(%q) output:\n%s\nwant:\n%s", tt.give, got, want)
			}
		})
	}
}

func TestLintErrorFormat(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"lint", fixtures + "bad-rules.yaml"}, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) < 5 {
		t.Fatalf("lint printed %d lines, want every error of bad-rules.yaml", len(lines))
	}
	for _, l := range lines {
		// file:line:col: message
		parts := strings.SplitN(l, ":", 4)
		if len(parts) != 4 || parts[0] != fixtures+"bad-rules.yaml" || parts[1] == "" || parts[2] == "" {
			t.Errorf("line %q is not file:line:col: rule: message", l)
		}
	}
}
