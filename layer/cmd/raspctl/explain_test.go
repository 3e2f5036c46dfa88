package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplainGolden(t *testing.T) {
	tests := []struct {
		name string
		give []string
	}{
		{"explain-attack", []string{"--policy", markerPolicy, filepath.Join("testdata", "explain-event.json")}},
		{"explain-sqs", []string{"--policy", markerPolicy, "../../../rasp/testdata/events/sqs-sns-event.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runExplain(tt.give, &stdout, &stderr); code != 0 {
				t.Fatalf("explain exit = %d, stderr:\n%s", code, stderr.String())
			}
			// The policy version is a content hash: keep the golden stable.
			got := stdout.String()
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("explain output:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	tests := []struct {
		name     string
		give     []string
		wantCode int
		wantErr  string
	}{
		{"no event", nil, 2, "usage: raspctl explain"},
		{"two events", []string{"a.json", "b.json"}, 2, "usage: raspctl explain"},
		{"missing event", []string{"testdata/no-such.json"}, 1, "no-such.json"},
		{"malformed event", []string{"testdata/scan-input.jsonl"}, 1, "malformed event at byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runExplain(tt.give, &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("explain %q = %d, stderr %q, want %d and %q", tt.give, code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}
