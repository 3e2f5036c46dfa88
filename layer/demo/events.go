package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// securityEvent is the part of the extension's security log line the
// demo shows.
type securityEvent struct {
	RequestID string
	Rule      string
	Category  string
	Action    string
	Path      string
	Sink      string
	Reason    string
	Excerpt   string
}

// parseSecurityEvent reads one JSON log line of the extension; ok is false
// for anything that is not a security event.
func parseSecurityEvent(line string) (securityEvent, bool) {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return securityEvent{}, false
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	ev := securityEvent{
		RequestID: str("request_id", "requestId", "req"),
		Rule:      str("rule", "rule_id", "ruleId"),
		Category:  str("category", "cat"),
		Action:    str("action"),
		Path:      str("path", "field", "field_path"),
		Sink:      str("sink"),
		Reason:    str("reason"),
		Excerpt:   str("excerpt"),
	}
	return ev, ev.Rule != "" && ev.RequestID != ""
}

// logSink collects the children's output lines.
type logSink struct {
	verbose bool
	out     io.Writer

	mu      sync.Mutex
	partial []byte
	lines   []string
	events  []securityEvent
}

// Write implements io.Writer for the simulator's Stdout and Stderr.
func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if len(l.lines) < 10000 {
			l.lines = append(l.lines, line)
		}
		if l.verbose {
			fmt.Fprintf(l.out, "    | %s\n", clip(line, 160))
		}
		if rest, ok := strings.CutPrefix(line, "[lambda-rasp] "); ok {
			if ev, ok := parseSecurityEvent(rest); ok {
				l.events = append(l.events, ev)
			}
		}
	}
	return len(p), nil
}

// waitFor returns the security events of request id; with wait it gives
// the extension up to half a second to log them.
func (l *logSink) waitFor(id string, wait bool) []securityEvent {
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		var evs []securityEvent
		l.mu.Lock()
		for _, ev := range l.events {
			if ev.RequestID == id {
				evs = append(evs, ev)
			}
		}
		l.mu.Unlock()
		if len(evs) > 0 || !wait || time.Now().After(deadline) {
			return evs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (l *logSink) all() []securityEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (l *logSink) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

func hasAction(evs []securityEvent, action string) bool {
	for _, ev := range evs {
		if ev.Action == action {
			return true
		}
	}
	return false
}

// describe lists the distinct rules and fields of evs.
func describe(evs []securityEvent) string {
	var parts []string
	for _, ev := range evs {
		if ev.Action == "allow" {
			continue
		}
		p := ev.Rule
		where := ev.Path
		if where == "" {
			where = ev.Sink
		}
		if where != "" {
			p += " (" + clip(where, 28) + ")"
		}
		if !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	if len(parts) > 3 {
		parts = append(parts[:3], fmt.Sprintf("+%d", len(parts)-3))
	}
	return strings.Join(parts, ", ")
}
