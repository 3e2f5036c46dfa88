package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// maxEventBytes bounds an event file read by "raspctl test" (Lambda's
// synchronous payload limit).
const maxEventBytes = 6 << 20

// testCase is one test in test's JSON output.
type testCase struct {
	Name    string `json:"name"`
	Pass    bool   `json:"pass"`
	Message string `json:"message,omitempty"`
}

// testResult is one file in test's JSON output.
type testResult struct {
	File     string     `json:"file"`
	OK       bool       `json:"ok"`
	Error    string     `json:"error,omitempty"` // the file could not be read
	Problems []problem  `json:"problems"`        // the policy is invalid
	Tests    []testCase `json:"tests"`
	Passed   int        `json:"passed"`
	Failed   int        `json:"failed"`
}

// runTest runs the tests of each policy file: every event goes through
// the same event adapter as in production and then through the compiled
// policy; the decision's action and the set of matched rules must equal
// the test's want. It prints "PASS name" or "FAIL name: ..." per test and
// a summary (or one JSON document with --format json). Exit 1 when a test
// fails, a policy is invalid or has no tests; 2 when a file cannot be
// read.
func runTest(args []string, stdout, stderr io.Writer) int {
	c := newCLI("test", "test [--format text|json] FILE...", formatText, stderr)
	if !c.parse(args, 1, -1) {
		return exitError
	}
	status := exitOK
	results := make([]testResult, 0, c.fs.NArg())
	for _, file := range c.fs.Args() {
		res := testFile(file)
		results = append(results, res)
		switch {
		case res.Error != "":
			status = worst(status, exitError)
			fmt.Fprintf(stderr, "%s: %s\n", file, res.Error)
			continue
		case !res.OK:
			status = worst(status, exitFindings)
		}
		if !c.json() {
			res.writeText(stdout)
		}
	}
	if c.json() {
		if err := writeJSON(stdout, map[string]any{"files": results}); err != nil {
			fmt.Fprintf(stderr, "raspctl test: %v\n", err)
			return exitError
		}
	}
	return status
}

func (r *testResult) writeText(w io.Writer) {
	for _, p := range r.Problems {
		fmt.Fprintln(w, p.text())
	}
	if len(r.Problems) > 0 {
		return
	}
	if len(r.Tests) == 0 {
		fmt.Fprintf(w, "%s: no tests\n", r.File)
		return
	}
	for _, tc := range r.Tests {
		if tc.Pass {
			fmt.Fprintf(w, "PASS %s\n", tc.Name)
		} else {
			fmt.Fprintf(w, "FAIL %s: %s\n", tc.Name, tc.Message)
		}
	}
	result := "ok"
	if r.Failed > 0 {
		result = "FAIL"
	}
	fmt.Fprintf(w, "%s: %s, %d passed, %d failed\n", r.File, result, r.Passed, r.Failed)
}

// testFile runs one policy's tests.
func testFile(file string) testResult {
	res := testResult{File: file, Problems: []problem{}, Tests: []testCase{}}
	p, err := policy.LoadFile(file)
	var engine *rules.Engine
	if err == nil {
		engine, err = rules.Compile(p)
	}
	if err != nil {
		var perrs policy.Errors
		if !errors.As(err, &perrs) {
			res.Error = ioReason(err)
			return res
		}
		for _, pe := range perrs {
			res.Problems = append(res.Problems, problem{File: pe.File, Line: pe.Line, Col: pe.Col, Rule: pe.RuleID, Message: pe.Msg})
		}
		return res
	}
	lim := adapter.PolicyLimits(p.Limits)
	for _, tc := range p.Tests {
		msg := runCase(engine, lim, file, tc)
		res.Tests = append(res.Tests, testCase{Name: tc.Name, Pass: msg == "", Message: msg})
		if msg != "" {
			res.Failed++
		} else {
			res.Passed++
		}
	}
	res.OK = len(p.Tests) > 0 && res.Failed == 0
	return res
}

// runCase runs one test and returns why it failed, or "" when it passed.
func runCase(engine *rules.Engine, lim adapter.Limits, file string, tc policy.PolicyTest) string {
	raw, err := readEvent(eventPath(file, tc.Event))
	if err != nil {
		return fmt.Sprintf("event %s: %v", tc.Event, err)
	}
	ev, err := adapter.Parse(raw, lim)
	if err != nil {
		return fmt.Sprintf("event %s: %v", tc.Event, err)
	}
	d := engine.Inspect(context.Background(), &ev.Request)
	if d.Err != nil {
		return fmt.Sprintf("inspection error: %v", d.Err)
	}
	got := matchedRules(d)
	want := slices.Clone(tc.Want.Rules)
	slices.Sort(want)
	want = slices.Compact(want)
	if d.Action == tc.Want.Action && slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("got %s %s, want %s %s", d.Action, ruleList(got), tc.Want.Action, ruleList(want))
}

func readEvent(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxEventBytes+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxEventBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxEventBytes)
	}
	return raw, nil
}

// matchedRules returns the sorted, distinct rule ids of d's matches.
func matchedRules(d rules.Decision) []string {
	ids := make([]string, 0, len(d.Matches))
	for _, m := range d.Matches {
		ids = append(ids, m.RuleID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func ruleList(ids []string) string {
	return "[" + strings.Join(ids, " ") + "]"
}
