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

// runLint validates each policy file: it parses and compiles it, and
// checks that the event files of its tests exist. It prints "FILE: ok" or
// every problem as "file:line:col: rule: message".
func runLint(args []string, stdout, stderr io.Writer) int {
	files, ok := fileArgs("lint", args, stderr)
	if !ok {
		return 2
	}
	status := 0
	for _, file := range files {
		problems := lintFile(file)
		if len(problems) == 0 {
			fmt.Fprintf(stdout, "%s: ok\n", file)
			continue
		}
		status = 1
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
	}
	return status
}

// lintFile returns the problems of one policy file as printable lines.
func lintFile(file string) []string {
	p, err := policy.LoadFile(file)
	if err == nil {
		_, err = rules.Compile(p)
	}
	if err != nil {
		return errorLines(file, err)
	}
	var out []string
	for _, tc := range p.Tests {
		path := eventPath(file, tc.Event)
		if _, err := os.Stat(path); err != nil {
			out = append(out, (&policy.Error{File: file, Line: tc.Pos.Line, Col: tc.Pos.Col,
				Msg: fmt.Sprintf("test %q: event file %s: %v", tc.Name, tc.Event, statReason(err))}).Error())
		}
	}
	return out
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
