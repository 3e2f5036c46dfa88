package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// markerPolicy blocks fields containing EVIL and monitors NOTE.
const markerPolicy = "../../../rasp/testdata/policies/marker.yaml"

// relaxedPolicy is markerPolicy with a budget no loaded test machine
// exhausts, for cases that expect no finding.
const relaxedPolicy = "testdata/policies/relaxed.yaml"

// stepClock advances by 1µs on every reading, so durations are stable.
func stepClock() func() time.Time {
	t := time.Unix(1_800_000_000, 0)
	return func() time.Time {
		t = t.Add(time.Microsecond)
		return t
	}
}

func TestScanGolden(t *testing.T) {
	in, err := os.Open(filepath.Join("testdata", "scan-input.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var stdout, stderr bytes.Buffer
	if code := scanCmd([]string{"--policy", markerPolicy}, in, &stdout, &stderr, stepClock()); code != exitFindings {
		t.Fatalf("scan exit = %d, want %d (the input has attacks), stderr:\n%s", code, exitFindings, stderr.String())
	}
	golden := filepath.Join("testdata", "scan-output.golden")
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != string(want) {
		t.Errorf("scan output:\n%s\nwant:\n%s", got, want)
	}
	for i, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("output line %d is not JSON: %v", i+1, err)
		}
	}
}

func TestScanUsage(t *testing.T) {
	tests := []struct {
		name     string
		give     []string
		wantCode int
		wantErr  string
	}{
		{"extra operand", []string{"x.jsonl"}, 2, "usage: raspctl scan"},
		{"unknown flag", []string{"--frob"}, 2, "flag provided but not defined"},
		{"missing policy", []string{"--policy", "testdata/no-such.yaml"}, 2, "no-such.yaml"},
		{"bad format", []string{"--format", "yaml"}, 2, "unknown format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := scanCmd(tt.give, strings.NewReader(""), &stdout, &stderr, time.Now)
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("scan %q = %d, stderr %q, want %d and %q", tt.give, code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestScanLongLineGoesOn(t *testing.T) {
	long := `{"id":"big","event":{"x":"` + strings.Repeat("a", maxScanLine) + `"}}`
	in := long + "\n" + `{"id":"after","event":{"x":"y"}}` + "\n"
	var stdout, stderr bytes.Buffer
	if code := scanCmd([]string{"--policy", markerPolicy}, strings.NewReader(in), &stdout, &stderr, stepClock()); code != exitFindings {
		t.Fatalf("scan exit = %d, want %d (a line could not be decided): %s", code, exitFindings, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"id":"1","error":"line longer than`) || !strings.HasPrefix(lines[1], `{"id":"after","blocked":false`) {
		t.Errorf("scan output = %q, want an error for line 1 and a result for line 2", lines)
	}
}

// TestScanStreams checks each result is written before the next input
// line is read, so a caller can feed one event at a time.
func TestScanStreams(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		var stderr bytes.Buffer
		done <- scanCmd([]string{"--policy", markerPolicy}, inR, outW, &stderr, stepClock())
		outW.Close()
	}()
	results := bufio.NewReader(outR)
	for _, id := range []string{"a", "b", "c"} {
		if _, err := io.WriteString(inW, `{"id":"`+id+`","event":{"q":"EVIL"}}`+"\n"); err != nil {
			t.Fatal(err)
		}
		line, err := results.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the result of %s: %v", id, err)
		}
		if !strings.HasPrefix(line, `{"id":"`+id+`","blocked":true,"action":"block","rules":["evil-marker"]`) {
			t.Errorf("result = %s, want %s blocked", line, id)
		}
	}
	inW.Close()
	if code := <-done; code != exitFindings {
		t.Errorf("scan exit = %d, want %d", code, exitFindings)
	}
}

func TestScanFormats(t *testing.T) {
	in := `{"id":"a","event":{"q":"EVIL"}}` + "\n" + `{"id":"b","event":{"q":"fine"}}` + "\n" + "{oops\n"
	tests := []struct {
		name     string
		give     []string
		input    string
		wantOut  string
		wantCode int
	}{
		{"text", []string{"--format", "text"}, in, "a block [evil-marker]\nb allow []\n3 error: invalid JSON: syntax error at byte 2\n", exitFindings},
		{"clean", []string{"--format", "text"}, `{"id":"b","event":{"q":"fine"}}` + "\n", "b allow []\n", exitOK},
		{"clean json", nil, `{"id":"b","event":{"q":"fine"}}` + "\n", `{"id":"b","blocked":false,"action":"allow","rules":[],"matches":[],"complete":true,"duration_ns":1000}` + "\n", exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := scanCmd(append([]string{"--policy", relaxedPolicy}, tt.give...), strings.NewReader(tt.input), &stdout, &stderr, stepClock())
			if code != tt.wantCode || stdout.String() != tt.wantOut {
				t.Errorf("scan %q = %d %q, want %d %q (stderr %s)", tt.give, code, stdout.String(), tt.wantCode, tt.wantOut, stderr.String())
			}
		})
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		give     string
		max      int
		want     []string
		wantLong []bool
	}{
		{"a\nbb\r\n\nccc", 10, []string{"a", "bb", "", "ccc"}, []bool{false, false, false, false}},
		{"short\n" + strings.Repeat("x", 100) + "\nok", 10, []string{"short", "", "ok"}, []bool{false, true, false}},
	}
	for _, tt := range tests {
		br := bufio.NewReaderSize(strings.NewReader(tt.give), 16)
		var got []string
		var gotLong []bool
		for {
			line, long, err := readLine(br, tt.max)
			got, gotLong = append(got, string(line)), append(gotLong, long)
			if err != nil {
				break
			}
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(gotLong) != len(tt.wantLong) {
			t.Errorf("readLine(%.20q) = %q %v, want %q %v", tt.give, got, gotLong, tt.want, tt.wantLong)
			continue
		}
		for i := range gotLong {
			if gotLong[i] != tt.wantLong[i] {
				t.Errorf("readLine(%.20q) tooLong = %v, want %v", tt.give, gotLong, tt.wantLong)
				break
			}
		}
	}
}

func FuzzScanLine(f *testing.F) {
	f.Add([]byte(`{"id":"x","event":{"a":"EVIL"}}`))
	f.Add([]byte(`{"id":1.5e3,"event":{"Records":[{"eventSource":"aws:sqs","body":"x"}]}}`))
	f.Add([]byte(`[{"event":1}]`))
	eng, err := loadPolicy(markerPolicy)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var out bytes.Buffer
		in := bytes.ReplaceAll(line, []byte("\n"), nil)
		if _, err := scan(bytes.NewReader(in), &out, eng, stepClock(), true); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "\n"); n > 1 {
			t.Errorf("%d output lines for one input line", n)
		}
	})
}

// TestScanIncomplete: a result says when and why an inspection did not
// cover every input, and the default decision refuses it.
func TestScanIncomplete(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "p.yaml")
	if err := os.WriteFile(pol, []byte("version: 1\nmode: block\nlimits: {max_fields: 2}\ninputs:\n  - {id: sqli, detector: sqli}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := `{"id":"many","event":{"a":"1","b":"2","c":"3","d":"x' OR 1=1--"}}` + "\n"
	var stdout, stderr bytes.Buffer
	if code := scanCmd([]string{"--policy", pol}, strings.NewReader(in), &stdout, &stderr, stepClock()); code != exitFindings {
		t.Fatalf("scan exit = %d, want %d (a refusal is a finding): %s", code, exitFindings, stderr.String())
	}
	var res scanResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("scan output %q: %v", stdout.String(), err)
	}
	if res.Complete || res.Incomplete != "limits" || !res.Blocked {
		t.Errorf("scan = %+v, want incomplete (limits) and blocked", res)
	}
}

// TestScanConfidenceAndSkips runs the default policy over a binary
// upload, a support ticket quoting shell and an injection, and checks the
// fields evaluation tools read: blocked, the matches' confidence and
// action, complete and skipped.
func TestScanConfidenceAndSkips(t *testing.T) {
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	event := func(id, ctype, body string, b64 bool) string {
		ev := map[string]any{"version": "2.0", "routeKey": "POST /t", "rawPath": "/t",
			"headers":        map[string]string{"content-type": ctype},
			"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/t"}},
			"body":           body, "isBase64Encoded": b64}
		b, err := json.Marshal(map[string]any{"id": id, "event": ev})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	in := strings.Join([]string{
		event("png", "image/png", png, true),
		event("ticket", "text/plain", "After I run `sudo systemctl restart nginx; systemctl status nginx` it still shows failed, any idea what is going on?", false),
		event("attack", "application/json", `{"q":"1' OR '1'='1' -- "}`, false),
	}, "\n")
	var stdout, stderr bytes.Buffer
	if code := scanCmd(nil, strings.NewReader(in), &stdout, &stderr, stepClock()); code != exitFindings {
		t.Fatalf("scan exit = %d, want %d (a finding), stderr:\n%s", code, exitFindings, stderr.String())
	}
	type match struct{ Rule, Action, Confidence string }
	type result struct {
		ID       string
		Blocked  bool
		Complete bool
		Matches  []match
		Skipped  []struct{ Path, Reason, Format string }
	}
	var got []result
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got = append(got, r)
	}
	if len(got) != 3 {
		t.Fatalf("%d results, want 3:\n%s", len(got), stdout.String())
	}
	if r := got[0]; r.Blocked || !r.Complete || len(r.Skipped) != 1 || r.Skipped[0].Reason != "binary" || r.Skipped[0].Format != "png" {
		t.Errorf("png upload: %+v, want allowed, complete, one binary png skip", r)
	}
	if r := got[1]; r.Blocked || len(r.Matches) == 0 || r.Matches[0].Confidence != "low" || r.Matches[0].Action != "monitor" {
		t.Errorf("support ticket: %+v, want a low-confidence monitor match, not blocked", r)
	}
	if r := got[2]; !r.Blocked || len(r.Matches) == 0 || r.Matches[0].Confidence != "high" || r.Matches[0].Action != "block" {
		t.Errorf("injection: %+v, want a high-confidence block", r)
	}
}
