package main

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// TestEgressSuggestFormats feeds the same summaries in every input shape
// suggest reads; each gives the same list.
func TestEgressSuggestFormats(t *testing.T) {
	golden := filepath.Join("testdata", "egress", "suggest.golden")
	tests := []struct {
		name string
		give string
	}{
		{"raw log lines", "summaries.jsonl"},
		{"Logs Insights JSON export", "insights-export.json"},
		{"Logs Insights CSV export", "insights-export.csv"},
		{"get-query-results", "insights-query-results.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := egressSuggest([]string{filepath.Join("testdata", "egress", tt.give)}, strings.NewReader(""), &stdout, &stderr)
			if code != exitOK {
				t.Fatalf("suggest %s = %d, want %d; stderr: %s", tt.give, code, exitOK, stderr.String())
			}
			if *update && tt.give == "summaries.jsonl" {
				if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := stdout.String(); got != string(want) {
				t.Errorf("suggest %s:\n%s\nwant:\n%s", tt.give, got, want)
			}
		})
	}
}

// TestEgressSuggestPolicyAllowsWhatWasSeen compiles the suggested list
// as a policy: it allows every destination seen on its port and nothing
// else, and leaves out the always-denied ones.
func TestEgressSuggestPolicyAllowsWhatWasSeen(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := egressSuggest([]string{"testdata/egress/summaries.jsonl"}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("suggest = %d: %s", code, stderr.String())
	}
	pol, err := policy.Parse("suggested.yaml", append([]byte("version: 1\n"), stdout.Bytes()...))
	if err != nil {
		t.Fatalf("suggested list does not parse as a policy: %v\n%s", err, stdout.String())
	}
	eng, err := rules.Compile(pol)
	if err != nil {
		t.Fatal(err)
	}
	public := netip.MustParseAddr("203.0.113.10")
	tests := []struct {
		give      rules.EgressDest
		wantAllow bool
	}{
		{rules.EgressDest{Host: "api.stripe.com", IP: public, Port: 443}, true},
		{rules.EgressDest{Host: "api.stripe.com", IP: public, Port: 80}, false},
		{rules.EgressDest{Host: "sqs.eu-west-1.amazonaws.com", IP: public, Port: 443}, true},
		{rules.EgressDest{Host: "api.example.com", IP: public, Port: 8443}, true},
		{rules.EgressDest{Host: "evil.example.net", IP: public, Port: 443}, false},
		{rules.EgressDest{IP: netip.MustParseAddr("10.20.1.5"), Port: 5432}, true},
		{rules.EgressDest{IP: netip.MustParseAddr("10.20.1.6"), Port: 5432}, false},
		{rules.EgressDest{IP: netip.MustParseAddr("2600:1f18::1"), Port: 443}, true},
		{rules.EgressDest{IP: netip.MustParseAddr("169.254.169.254"), Port: 80}, false},
		{rules.EgressDest{Host: "localhost", IP: netip.MustParseAddr("127.0.0.1"), Port: 8080}, false},
	}
	for _, tt := range tests {
		if got := eng.Egress().Decide(tt.give); !got.Denied() != tt.wantAllow {
			t.Errorf("Decide(%+v) = %s (%s), want allowed %v", tt.give, got.Action, got.Reason, tt.wantAllow)
		}
	}
}

func TestEgressSuggestJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := egressSuggest([]string{"--format", "json", "--min-count", "3", "testdata/egress/summaries.jsonl"}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("suggest = %d: %s", code, stderr.String())
	}
	var got suggestion
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	var hosts []string
	for _, r := range got.Allow {
		hosts = append(hosts, r.Host+r.CIDR)
	}
	// api.example.com (3+1 connections, on two ports) keeps only 443;
	// 2600:1f18::1 (2) falls under --min-count 3.
	if want := "api.example.com api.stripe.com sqs.eu-west-1.amazonaws.com 10.20.1.5/32"; strings.Join(hosts, " ") != want {
		t.Errorf("allow = %v, want %s", hosts, want)
	}
	if got.Summaries != 2 || got.Environments != 2 || got.Allow[1].Count != 42 {
		t.Errorf("summaries %d, environments %d, stripe count %d; want 2, 2, 42", got.Summaries, got.Environments, got.Allow[1].Count)
	}
}

func TestEgressSuggestStatus(t *testing.T) {
	tests := []struct {
		name     string
		give     []string
		stdin    string
		wantCode int
		wantErr  string
	}{
		{"stdin", nil, `{"type":"lambda_rasp.egress_summary","v":1,"destinations":[{"host":"a.example","port":443,"count":1}]}`, exitOK, ""},
		{"nothing found", nil, "START RequestId: 1\n", exitFindings, "no egress summary found"},
		{"table was full", []string{"testdata/egress/dropped.jsonl"}, "", exitFindings, "17 connections were not recorded"},
		{"invalid summary line", []string{"testdata/egress/invalid.jsonl"}, "", exitFindings, "1 summary lines could not be read"},
		{"missing file", []string{"testdata/egress/no-such.jsonl"}, "", exitError, "no-such.jsonl"},
		{"bad flag", []string{"--min-count", "x"}, "", exitError, "invalid value"},
		{"bad format", []string{"--format", "csv"}, "", exitError, "unknown format"},
		{"broken JSON array", nil, "[{", exitError, "JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := egressSuggest(tt.give, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("suggest %q = %d, stderr %q; want %d and %q", tt.give, code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

func FuzzEgressSuggestInput(f *testing.F) {
	for _, name := range []string{"summaries.jsonl", "insights-export.json", "insights-export.csv", "insights-query-results.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "egress", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := newAggregate()
		if err := a.addInput(data); err != nil {
			return
		}
		s := a.suggest(1)
		var out bytes.Buffer
		if err := s.writeYAML(&out); err != nil {
			t.Fatal(err)
		}
		// Whatever the input, the list is a valid policy fragment.
		if _, err := policy.Parse("fuzz.yaml", append([]byte("version: 1\n"), out.Bytes()...)); err != nil {
			t.Fatalf("suggested list does not parse: %v\n%s", err, out.String())
		}
	})
}
