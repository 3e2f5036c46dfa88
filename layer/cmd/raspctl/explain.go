package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// explainValueBytes is how much of a field value explain prints.
const explainValueBytes = 60

// runExplain implements "raspctl explain [--policy FILE] [--format
// text|json] EVENT.json": how the wrapper sees one event (source, route,
// every field inspected, which rule matched which field) and what it
// decides. Exit 1 when a rule matched; 2 on a usage error, an invalid
// --policy or an event that cannot be read or parsed.
func runExplain(args []string, stdout, stderr io.Writer) int {
	c := newCLI("explain", "explain [--policy FILE] [--format text|json] EVENT.json", formatText, stderr)
	policy := c.fs.String("policy", "", "policy `FILE` (default: the embedded default policy)")
	if !c.parse(args, 1, 1) {
		return exitError
	}
	eng, err := loadPolicy(*policy)
	if err != nil {
		for _, l := range errorLines(*policy, err) {
			fmt.Fprintln(stderr, l)
		}
		return exitError
	}
	file := c.fs.Arg(0)
	raw, err := readEvent(file)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return exitError
	}
	ev, err := adapter.Parse(raw, adapter.PolicyLimits(eng.Limits()))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return exitError
	}
	d := eng.Inspect(context.Background(), &ev.Request)
	if c.json() {
		if err := writeJSON(stdout, explainDoc(eng, ev, d)); err != nil {
			fmt.Fprintf(stderr, "raspctl explain: %v\n", err)
			return exitError
		}
	} else {
		explain(stdout, eng, ev, d)
	}
	if len(d.Matches) > 0 || d.Err != nil {
		return exitFindings
	}
	return exitOK
}

// explainJSON is explain's JSON output. Field values are cut as in the
// text form.
type explainJSON struct {
	Policy struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Mode    string `json:"mode"`
		OnError string `json:"on_error"`
	} `json:"policy"`
	Source    string         `json:"source"`
	Route     string         `json:"route,omitempty"`
	Truncated bool           `json:"truncated"`
	Fields    []explainField `json:"fields"`
	Matches   []explainMatch `json:"matches"`
	Error     string         `json:"error,omitempty"`
	Action    string         `json:"action"`
}

type explainField struct {
	Source string `json:"source"`
	Path   string `json:"path"`
	Key    bool   `json:"key,omitempty"`
	Value  string `json:"value"`
}

type explainMatch struct {
	Rule     string `json:"rule"`
	Category string `json:"category"`
	Path     string `json:"path"`
	Source   string `json:"source"`
	Excerpt  string `json:"excerpt"`
	Action   string `json:"action"`
}

func explainDoc(eng *rules.Engine, ev *adapter.Event, d rules.Decision) explainJSON {
	var out explainJSON
	out.Policy.Name, out.Policy.Version = eng.Name(), eng.Version()
	out.Policy.Mode, out.Policy.OnError = eng.Mode().String(), eng.OnError().String()
	out.Source, out.Route, out.Truncated = ev.Source, ev.Request.Route, ev.Request.Truncated
	out.Fields = make([]explainField, 0, len(ev.Request.Fields))
	for _, f := range ev.Request.Fields {
		out.Fields = append(out.Fields, explainField{Source: f.Source.String(), Path: f.Path, Key: f.Key, Value: cut(f.Value)})
	}
	out.Matches = make([]explainMatch, 0, len(d.Matches))
	for _, m := range d.Matches {
		out.Matches = append(out.Matches, explainMatch{Rule: m.RuleID, Category: m.Category, Path: m.Path,
			Source: m.Source.String(), Excerpt: m.Excerpt, Action: m.Action.String()})
	}
	if d.Err != nil {
		out.Error = d.Err.Error()
	}
	out.Action = d.Action.String()
	return out
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
	return fmt.Sprintf("%q… (%d bytes)", cut(s), len(s))
}

// cut returns s cut to explainValueBytes on a UTF-8 boundary.
func cut(s string) string {
	if len(s) <= explainValueBytes {
		return s
	}
	i := explainValueBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
