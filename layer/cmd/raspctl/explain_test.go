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
		name     string
		give     []string
		wantCode int
	}{
		{"explain-attack", []string{"--policy", markerPolicy, filepath.Join("testdata", "explain-event.json")}, exitFindings},
		{"explain-sqs", []string{"--policy", markerPolicy, "../../../rasp/testdata/events/sqs-sns-event.json"}, exitOK},
		{"explain-json", []string{"--policy", markerPolicy, "--format", "json", filepath.Join("testdata", "explain-event.json")}, exitFindings},
		{"explain-benign", []string{"--policy", relaxedPolicy, "../../../rules/policy/testdata/apigw-v2-benign.json"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runExplain(tt.give, &stdout, &stderr); code != tt.wantCode {
				t.Fatalf("explain exit = %d, want %d, stderr:\n%s", code, tt.wantCode, stderr.String())
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
		{"missing event", []string{"testdata/no-such.json"}, 2, "no-such.json"},
		{"malformed event", []string{"testdata/scan-input.jsonl"}, 2, "malformed event at byte"},
		{"bad format", []string{"--format", "xml", "testdata/explain-event.json"}, 2, "unknown format"},
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
