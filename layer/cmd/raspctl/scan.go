package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// maxScanLine bounds one input line of "raspctl scan".
const maxScanLine = 8 << 20

// runScan implements "raspctl scan [--policy FILE] [--format json|text]":
// JSON lines of events on stdin, one decision per line on stdout, flushed
// line by line and in input order. Each input line is
// {"id":"...","event":{...}} or a bare event object (its id is then the
// line number). A malformed line gets {"id":"...","error":"..."} and the
// scan goes on. A line is the wrapped form when its only members are
// "event" (an object) and "id" (a string or a number). The JSON output
// format (the default) is a stable contract for evaluation tools:
//
//	{"id":"7","blocked":true,"action":"block","rules":["sqli"],
//	 "matches":[{"rule":"sqli","category":"sqli","path":"query.id","action":"block","confidence":"high"}],
//	 "complete":true,"duration_ns":8123}
//
// "rules" lists every rule that matched, whatever its action; a match whose
// confidence is below its rule's min_confidence has action "monitor".
// "skipped" (omitted when empty) lists bodies that were not inspected as
// text, with the reason ("binary", "decompression-budget", ...).
//
// --format text prints "ID ACTION RULES" per line instead. Exit 1 when
// an event matched a rule, its inspection did not complete (a limit, the
// time budget) or a line could not be decided; 2 on a usage
// error, an invalid --policy or a read or write failure.
func runScan(args []string, stdout, stderr io.Writer) int {
	return scanCmd(args, os.Stdin, stdout, stderr, time.Now)
}

// scanCmd is runScan with its input and clock given.
func scanCmd(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	c := newCLI("scan", "scan [--policy FILE] [--format json|text] < EVENTS.jsonl", formatJSON, stderr)
	policy := c.fs.String("policy", "", "policy `FILE` (default: the embedded default policy)")
	if !c.parse(args, 0, 0) {
		return exitError
	}
	eng, err := loadPolicy(*policy)
	if err != nil {
		for _, l := range errorLines(*policy, err) {
			fmt.Fprintln(stderr, l)
		}
		return exitError
	}
	findings, err := scan(stdin, stdout, eng, now, c.json())
	if err != nil {
		fmt.Fprintf(stderr, "raspctl scan: %v\n", err)
		return exitError
	}
	if findings > 0 {
		return exitFindings
	}
	return exitOK
}

// loadPolicy compiles the policy file, or the embedded default when file
// is empty.
func loadPolicy(file string) (*rules.Engine, error) {
	if file == "" {
		return rules.DefaultEngine()
	}
	p, err := policy.LoadFile(file)
	if err != nil {
		return nil, err
	}
	return rules.Compile(p)
}

// scanMatch is one match in a scan result.
type scanMatch struct {
	Rule       string `json:"rule"`
	Category   string `json:"category"`
	Path       string `json:"path"`
	Action     string `json:"action"`
	Confidence string `json:"confidence"`
}

// scanSkip is a body or part that was not inspected as text.
type scanSkip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Format string `json:"format,omitempty"`
}

// scanResult is the output line for one event.
type scanResult struct {
	ID      string      `json:"id"`
	Blocked bool        `json:"blocked"`
	Action  string      `json:"action"`
	Rules   []string    `json:"rules"`
	Matches []scanMatch `json:"matches"`
	// Complete is false when inspection did not cover every input
	// (limits, budget, decompression budget): the action then follows
	// the policy's on_error.
	Complete bool `json:"complete"`
	// Incomplete says why (limits, budget, malformed, panic) when
	// Complete is false.
	Incomplete string     `json:"incomplete,omitempty"`
	Skipped    []scanSkip `json:"skipped,omitempty"`
	DurationNS int64      `json:"duration_ns"`

	incomplete bool // inspection ended in an error (budget, panic)
}

// scanError is the output line for a line that could not be scanned.
type scanError struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// scan decides on every line of r and writes one result line per input
// line to w (blank lines are skipped), as JSON or as text. It returns the
// number of lines with matches or errors, and fails only when r or w
// does.
func scan(r io.Reader, w io.Writer, eng *rules.Engine, now func() time.Time, asJSON bool) (findings int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	lim := adapter.PolicyLimits(eng.Limits())
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, maxScanLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return findings, fmt.Errorf("read: %w", err)
		}
		if len(bytes.TrimSpace(line)) > 0 || tooLong {
			var out any
			if tooLong {
				out = scanError{ID: strconv.Itoa(n), Error: fmt.Sprintf("line longer than %d bytes", maxScanLine)}
			} else {
				out = scanOne(line, strconv.Itoa(n), eng, lim, now)
			}
			if res, ok := out.(scanResult); !ok || len(res.Matches) > 0 || res.incomplete || !res.Complete {
				findings++
			}
			b, merr := scanLine(out, asJSON)
			if merr != nil {
				return findings, fmt.Errorf("encode: %w", merr)
			}
			if _, werr := w.Write(append(b, '\n')); werr != nil {
				return findings, fmt.Errorf("write: %w", werr)
			}
			if f, ok := w.(interface{ Flush() error }); ok {
				if ferr := f.Flush(); ferr != nil {
					return findings, fmt.Errorf("write: %w", ferr)
				}
			}
		}
		if err != nil { // io.EOF
			return findings, nil
		}
	}
}

// scanLine renders one result: its JSON form, or "ID ACTION RULES" (or
// "ID error: MESSAGE") as text.
func scanLine(out any, asJSON bool) ([]byte, error) {
	if asJSON {
		return json.Marshal(out)
	}
	switch o := out.(type) {
	case scanResult:
		return fmt.Appendf(nil, "%s %s %s", o.ID, o.Action, ruleList(o.Rules)), nil
	case scanError:
		return fmt.Appendf(nil, "%s error: %s", o.ID, o.Error), nil
	}
	return nil, fmt.Errorf("unexpected result %T", out)
}

// scanOne decides on one input line; lineID is its number.
func scanOne(line []byte, lineID string, eng *rules.Engine, lim adapter.Limits, now func() time.Time) any {
	id, event := lineID, line
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return scanError{ID: id, Error: "invalid JSON: " + jsonErrorText(err)}
	}
	// The wrapped form has an "event" object and at most an "id" beside
	// it; anything else is a bare event.
	if ev := bytes.TrimSpace(top["event"]); len(ev) > 0 && ev[0] == '{' && (len(top) == 1 || (len(top) == 2 && top["id"] != nil)) {
		event = ev
		if s, ok := idText(top["id"]); ok {
			id = s
		}
	}
	start := now()
	ev, err := adapter.Parse(event, lim)
	if err != nil {
		return scanError{ID: id, Error: err.Error()}
	}
	d := eng.Inspect(context.Background(), &ev.Request)
	res := scanResult{
		ID:         id,
		Blocked:    d.Blocked(),
		Action:     d.Action.String(),
		Rules:      matchedRules(d),
		Matches:    make([]scanMatch, 0, len(d.Matches)),
		Complete:   !d.Truncated,
		Incomplete: d.Incomplete,
		DurationNS: now().Sub(start).Nanoseconds(),
		incomplete: d.Err != nil,
	}
	for _, m := range d.Matches {
		res.Matches = append(res.Matches, scanMatch{Rule: m.RuleID, Category: m.Category, Path: m.Path,
			Action: m.Action.String(), Confidence: m.Confidence.String()})
	}
	for _, sk := range ev.Skipped {
		res.Skipped = append(res.Skipped, scanSkip{Path: sk.Path, Reason: sk.Reason, Format: sk.Format})
	}
	return res
}

// idText returns a string or number id as text.
func idText(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// jsonErrorText describes a JSON syntax error by offset only, never
// quoting the input.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "not a JSON object"
	}
	return "unexpected end of input"
}

// readLine reads one line without its end-of-line bytes. A line longer
// than max is consumed and reported as tooLong, with no content. At the
// end of input it returns the last line (possibly empty) and io.EOF.
func readLine(br *bufio.Reader, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > max+2 { // allow for "\r\n"
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimRight(line, "\r\n")
		return line, tooLong, err
	}
}
