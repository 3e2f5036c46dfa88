package main

import (
	"context"
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

// runTest runs the tests of each policy file: every event goes through
// the same event adapter as in production and then through the compiled
// policy; the decision's action and the set of matched rules must equal
// the test's want. It prints "PASS name" or "FAIL name: ..." per test and
// a summary.
func runTest(args []string, stdout, stderr io.Writer) int {
	files, ok := fileArgs("test", args, stderr)
	if !ok {
		return 2
	}
	status := 0
	for _, file := range files {
		if !testFile(file, stdout) {
			status = 1
		}
	}
	return status
}

// testFile runs one policy's tests and reports whether all passed.
func testFile(file string, stdout io.Writer) bool {
	p, err := policy.LoadFile(file)
	var engine *rules.Engine
	if err == nil {
		engine, err = rules.Compile(p)
	}
	if err != nil {
		for _, line := range errorLines(file, err) {
			fmt.Fprintln(stdout, line)
		}
		return false
	}
	if len(p.Tests) == 0 {
		fmt.Fprintf(stdout, "%s: no tests\n", file)
		return false
	}
	lim := adapter.PolicyLimits(p.Limits)
	failed := 0
	for _, tc := range p.Tests {
		if msg := runCase(engine, lim, file, tc); msg != "" {
			failed++
			fmt.Fprintf(stdout, "FAIL %s: %s\n", tc.Name, msg)
			continue
		}
		fmt.Fprintf(stdout, "PASS %s\n", tc.Name)
	}
	result := "ok"
	if failed > 0 {
		result = "FAIL"
	}
	fmt.Fprintf(stdout, "%s: %s, %d passed, %d failed\n", file, result, len(p.Tests)-failed, failed)
	return failed == 0
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
