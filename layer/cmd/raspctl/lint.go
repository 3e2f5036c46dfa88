package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// problem is one policy problem in lint's JSON output.
type problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message"`
}

// lintResult is one file in lint's JSON output.
type lintResult struct {
	File     string    `json:"file"`
	OK       bool      `json:"ok"`
	Error    string    `json:"error,omitempty"` // the file could not be read
	Problems []problem `json:"problems"`
}

// runLint validates each policy file: it parses and compiles it, and
// checks that the event files of its tests exist. It prints "FILE: ok" or
// every problem as "file:line:col: rule: message" (or, with --format
// json, one document listing every file). Exit 1 when a policy has
// problems, 2 when a file cannot be read.
func runLint(args []string, stdout, stderr io.Writer) int {
	c := newCLI("lint", "lint [--format text|json] FILE...", formatText, stderr)
	if !c.parse(args, 1, -1) {
		return exitError
	}
	status := exitOK
	results := make([]lintResult, 0, c.fs.NArg())
	for _, file := range c.fs.Args() {
		res := lintFile(file)
		results = append(results, res)
		switch {
		case res.Error != "":
			status = worst(status, exitError)
			fmt.Fprintf(stderr, "%s: %s\n", file, res.Error)
		case !res.OK:
			status = worst(status, exitFindings)
		}
		if c.json() {
			continue
		}
		if res.OK {
			fmt.Fprintf(stdout, "%s: ok\n", file)
		}
		for _, p := range res.Problems {
			fmt.Fprintln(stdout, p.text())
		}
	}
	if c.json() {
		if err := writeJSON(stdout, map[string]any{"files": results}); err != nil {
			fmt.Fprintf(stderr, "raspctl lint: %v\n", err)
			return exitError
		}
	}
	return status
}

func (p problem) text() string {
	return (&policy.Error{File: p.File, Line: p.Line, Col: p.Col, RuleID: p.Rule, Msg: p.Message}).Error()
}

// lintFile checks one policy file.
func lintFile(file string) lintResult {
	res := lintResult{File: file, Problems: []problem{}}
	p, err := policy.LoadFile(file)
	if err == nil {
		_, err = rules.Compile(p)
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
	for _, tc := range p.Tests {
		path := eventPath(file, tc.Event)
		if _, err := os.Stat(path); err != nil {
			res.Problems = append(res.Problems, problem{File: file, Line: tc.Pos.Line, Col: tc.Pos.Col,
				Message: fmt.Sprintf("test %q: event file %s: %v", tc.Name, tc.Event, statReason(err))})
		}
	}
	res.OK = len(res.Problems) == 0
	return res
}

// errorLines renders a load error: one line per policy error, or a single
// "file: message" line for other errors.
func errorLines(file string, err error) []string {
	var perrs policy.Errors
	if errors.As(err, &perrs) {
		out := make([]string, len(perrs))
		for i, pe := range perrs {
			out[i] = pe.Error()
		}
		return out
	}
	return []string{fmt.Sprintf("%s: %v", file, err)}
}

// isPolicyError reports whether err describes the policy's content (a
// finding) rather than a failure to read it.
func isPolicyError(err error) bool {
	var perrs policy.Errors
	return errors.As(err, &perrs)
}

// ioReason describes a read error briefly.
func ioReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return statReason(pe.Err)
	}
	return err.Error()
}

func statReason(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "no such file"
	}
	return err.Error()
}

// eventPath resolves a test's event file relative to its policy file.
func eventPath(policyFile, event string) string {
	if filepath.IsAbs(event) {
		return event
	}
	return filepath.Join(filepath.Dir(policyFile), filepath.FromSlash(event))
}
