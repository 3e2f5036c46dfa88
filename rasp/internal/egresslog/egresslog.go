// Package egresslog is egress discovery: a bounded table of the distinct
// outbound destinations a process connected to (host as requested, port,
// scheme, count, first and last seen, the policy's decision), written as
// one wire.EgressSummary log line at SHUTDOWN. Host names never become
// metric labels; "raspctl egress suggest" turns the lines into an
// egress.allow list.
//
// Recording a destination already in the table takes a read lock and two
// atomic updates, so the dial path does not serialise concurrent
// invocations (Lambda Managed Instances). When the table is full, new
// destinations are counted as dropped, never evicting what was learnt.
package egresslog

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// DefaultMaxDestinations bounds a table created with a zero size.
const DefaultMaxDestinations = 512

// maxHostLen bounds a recorded host name (DNS names are at most 253).
const maxHostLen = 255

type key struct {
	host   string
	port   uint16
	scheme string
}

type entry struct {
	count    atomic.Uint64
	first    int64 // unix nanoseconds, set once
	last     atomic.Int64
	decision atomic.Uint32 // index into decisions
}

// decisions are the recorded decision names; index 0 is unknown.
var decisions = [...]string{"", "allow", "monitor", "deny"}

func decisionIndex(d string) uint32 {
	for i, name := range decisions {
		if name == d {
			return uint32(i)
		}
	}
	return 0
}

// Table records destinations. The zero value is not usable; use New.
type Table struct {
	max   int
	now   func() time.Time
	since time.Time

	mu      sync.RWMutex
	entries map[key]*entry
	dropped atomic.Uint64
}

// New returns a table of at most max destinations (DefaultMaxDestinations
// when max <= 0). now is the clock (time.Now when nil).
func New(max int, now func() time.Time) *Table {
	if max <= 0 {
		max = DefaultMaxDestinations
	}
	if now == nil {
		now = time.Now
	}
	return &Table{max: max, now: now, since: now(), entries: make(map[key]*entry)}
}

// Record notes one connection to host:port. host is the host as the code
// requested it (a name, or an IP literal); scheme is the URL scheme when
// known; decision is "allow", "monitor" or "deny".
func (t *Table) Record(host string, port uint16, scheme, decision string) {
	if host == "" || port == 0 {
		return
	}
	if len(host) > maxHostLen {
		host = host[:maxHostLen]
	}
	k := key{host: strings.ToLower(strings.TrimSuffix(host, ".")), port: port, scheme: strings.ToLower(scheme)}
	now := t.now().UnixNano()
	t.mu.RLock()
	e := t.entries[k]
	t.mu.RUnlock()
	if e == nil {
		t.mu.Lock()
		if e = t.entries[k]; e == nil {
			if len(t.entries) >= t.max {
				t.mu.Unlock()
				t.dropped.Add(1)
				return
			}
			e = &entry{first: now}
			t.entries[k] = e
		}
		t.mu.Unlock()
	}
	e.count.Add(1)
	e.last.Store(now)
	e.decision.Store(decisionIndex(decision))
}

// Len returns the number of distinct destinations recorded.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.entries)
}

// Summary returns the table as an egress summary, most used destinations
// first. The identity fields (function, environment, process, policy)
// are the caller's.
func (t *Table) Summary() wire.EgressSummary {
	t.mu.RLock()
	dests := make([]wire.EgressDestination, 0, len(t.entries))
	for k, e := range t.entries {
		d := decisions[e.decision.Load()]
		dests = append(dests, wire.EgressDestination{
			Host: k.host, Port: k.port, Scheme: k.scheme, Count: e.count.Load(),
			First: time.Unix(0, e.first).UTC(), Last: time.Unix(0, e.last.Load()).UTC(), Decision: d,
		})
	}
	t.mu.RUnlock()
	sortDestinations(dests)
	return wire.EgressSummary{Since: t.since.UTC(), Until: t.now().UTC(), Dropped: t.dropped.Load(), Destinations: dests}
}

// sortDestinations orders by count (descending), then host, port, scheme.
func sortDestinations(d []wire.EgressDestination) {
	less := func(a, b wire.EgressDestination) int {
		switch {
		case a.Count != b.Count:
			if a.Count > b.Count {
				return -1
			}
			return 1
		case a.Host != b.Host:
			return strings.Compare(a.Host, b.Host)
		case a.Port != b.Port:
			return int(a.Port) - int(b.Port)
		}
		return strings.Compare(a.Scheme, b.Scheme)
	}
	for i := 1; i < len(d); i++ { // insertion sort keeps it allocation-free; the table is small
		for j := i; j > 0 && less(d[j], d[j-1]) < 0; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}
