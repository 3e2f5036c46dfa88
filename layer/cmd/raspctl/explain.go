package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// explainValueBytes is how much of a field value explain prints.
const explainValueBytes = 60

// runExplain implements "raspctl explain [--policy FILE] EVENT.json": how
// the wrapper sees one event (source, route, every field inspected, which
// rule matched which field) and what it decides.
func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	policy := fs.String("policy", "", "policy `FILE` (default: the embedded default policy)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raspctl explain [--policy FILE] EVENT.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	eng, err := loadPolicy(*policy)
	if err != nil {
		for _, l := range errorLines(*policy, err) {
			fmt.Fprintln(stderr, l)
		}
		return 1
	}
	file := fs.Arg(0)
	raw, err := readEvent(file)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return 1
	}
	ev, err := adapter.Parse(raw, adapter.PolicyLimits(eng.Limits()))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return 1
	}
	d := eng.Inspect(context.Background(), &ev.Request)
	explain(stdout, eng, ev, d)
	return 0
}

// explain writes the human-readable account of one inspection.
func explain(w io.Writer, eng *rules.Engine, ev *adapter.Event, d rules.Decision) {
	name := eng.Name()
	if name == "" {
		name = "(unnamed)"
	}
	fmt.Fprintf(w, "policy:  %s, version %s, mode %s, on_error %s\n", name, eng.Version(), eng.Mode(), eng.OnError())
	fmt.Fprintf(w, "source:  %s\n", ev.Source)
	if ev.Request.Route != "" {
		fmt.Fprintf(w, "route:   %s\n", ev.Request.Route)
	}
	for _, r := range ev.Records {
		fmt.Fprintf(w, "record:  [%d] %s\n", r.Index, r.ID)
	}
	trunc := ""
	if ev.Request.Truncated {
		trunc = " (truncated at a limit)"
	}
	fmt.Fprintf(w, "fields:  %d%s\n", len(ev.Request.Fields), trunc)

	hits := map[string][]string{} // path → rule ids
	for _, m := range d.Matches {
		hits[m.Path] = append(hits[m.Path], m.RuleID)
	}
	// A name and its value share a path; a match is shown on the value
	// unless the path has only a name.
	hasValue := map[string]bool{}
	width := 0
	for _, f := range ev.Request.Fields {
		width = max(width, utf8.RuneCountInString(f.Path))
		if !f.Key {
			hasValue[f.Path] = true
		}
	}
	for _, f := range ev.Request.Fields {
		kind := "="
		if f.Key {
			kind = "name"
		}
		line := fmt.Sprintf("  %-10s %-*s %-4s %s", f.Source, width, f.Path, kind, quote(f.Value))
		if ids := hits[f.Path]; len(ids) > 0 && (!f.Key || !hasValue[f.Path]) {
			line += "   <- " + strings.Join(ids, ",")
		}
		fmt.Fprintln(w, line)
	}
	if len(d.Matches) == 0 {
		fmt.Fprintln(w, "matches: none")
	} else {
		fmt.Fprintln(w, "matches:")
		for _, m := range d.Matches {
			fmt.Fprintf(w, "  %s (%s) at %s [%s]: %s -> %s\n", m.RuleID, m.Category, m.Path, m.Source, quote(m.Excerpt), m.Action)
		}
	}
	if d.Err != nil {
		fmt.Fprintf(w, "error:   %v\n", d.Err)
	}
	if d.Incomplete != "" {
		fmt.Fprintf(w, "incomplete: %s (on_error %s: %s)\n", d.Incomplete, d.Incomplete, eng.OnErrorFor(d.Incomplete))
	}
	fmt.Fprintf(w, "action:  %s\n", d.Action)
}

// quote prints a value cut to explainValueBytes, escaped for a terminal.
func quote(s string) string {
	if len(s) <= explainValueBytes {
		return fmt.Sprintf("%q", s)
	}
	i := explainValueBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:i], len(s))
}
