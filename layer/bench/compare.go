package bench

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Config configures a comparison run.
type Config struct {
	// Corpus is the loaded (possibly sampled) corpus.
	Corpus *Corpus
	// Examples is how many payloads per category to list that one engine
	// detects and the other does not.
	Examples int
	// Progress, if set, receives a line per finished category.
	Progress io.Writer
	// BinaryBodies is how many binary and compressed bodies to send.
	BinaryBodies int
}

// Counter counts hits out of a total.
type Counter struct{ Hit, Total int }

func (c *Counter) add(hit bool) {
	c.Total++
	if hit {
		c.Hit++
	}
}

func (c Counter) Pct() float64 {
	if c.Total == 0 {
		return 0
	}
	return 100 * float64(c.Hit) / float64(c.Total)
}

// Result is what one engine did.
type Result struct {
	Name     string
	Init     time.Duration
	PerEvent bool // false: one run per payload, positions do not apply

	Detect   map[string]*[NumPositions]Counter // attack category -> position
	FP       map[string]*[NumPositions]Counter // benign list -> position
	Lat      []time.Duration                   // every timed call, sorted at the end
	LatByPos [NumPositions][]time.Duration
	Mallocs  uint64
	Bytes    uint64
	Calls    uint64
	Errors   map[string]int
	FPCauses map[string]int
	// FPExamples lists some benign events blocked, with the cause.
	FPExamples []string
	// Slowest is the slowest call and the event it was on.
	Slowest      time.Duration
	SlowestEvent string
}

func newResult(name string, perEvent bool) *Result {
	r := &Result{Name: name, PerEvent: perEvent, Detect: map[string]*[NumPositions]Counter{}, FP: map[string]*[NumPositions]Counter{}, FPCauses: map[string]int{}}
	for _, c := range Categories {
		r.Detect[c] = new([NumPositions]Counter)
	}
	for _, l := range BenignLists {
		r.FP[l] = new([NumPositions]Counter)
	}
	return r
}

// Sum adds up counters over the given positions.
func sum(cs *[NumPositions]Counter) Counter {
	var t Counter
	for _, c := range cs {
		t.Hit += c.Hit
		t.Total += c.Total
	}
	return t
}

// Category is detection in one category over every position.
func (r *Result) Category(cat string) Counter { return sum(r.Detect[cat]) }

// Position is detection in one position over every category.
func (r *Result) Position(p Position) Counter {
	var t Counter
	for _, c := range Categories {
		t.Hit += r.Detect[c][p].Hit
		t.Total += r.Detect[c][p].Total
	}
	return t
}

// Detection is overall detection: every attack event.
func (r *Result) Detection() Counter {
	var t Counter
	for _, c := range Categories {
		s := sum(r.Detect[c])
		t.Hit += s.Hit
		t.Total += s.Total
	}
	return t
}

// FalsePositives is the rate over every benign event.
func (r *Result) FalsePositives() Counter {
	var t Counter
	for _, l := range BenignLists {
		s := sum(r.FP[l])
		t.Hit += s.Hit
		t.Total += s.Total
	}
	return t
}

// Quantile returns the q quantile of the sorted latencies.
func Quantile(lat []time.Duration, q float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	i := int(q * float64(len(lat)))
	return lat[min(i, len(lat)-1)]
}

func mean(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	var t time.Duration
	for _, d := range lat {
		t += d
	}
	return t / time.Duration(len(lat))
}

// Diff counts, per category, attack events one engine detects and the
// other misses.
type Diff struct {
	OnlyA, OnlyB map[string]int
	ExamplesA    map[string][]string // payloads (position) only A detects
	ExamplesB    map[string][]string
}

// Report is the outcome of Run.
type Report struct {
	Corpus *Corpus
	Ours   *Result
	Parse  *Result // our adapter alone, latency only
	Coraza *Result
	Lib    *Result
	Diff   Diff // A: ours, B: Coraza
	// Binary counts, per body kind, the binary and compressed bodies
	// each engine blocked (BinaryBodies, one POST each).
	Binary   map[string][2]Counter // kind -> {ours, Coraza}
	BinKinds []string
	Events   int
	Payloads int
	Elapsed  time.Duration
}

const chunkSize = 256

// Run builds every (payload, position) event of the corpus and runs our
// engine and Coraza on each, and libinjection on each payload; every call
// is timed on its own, one at a time on one goroutine.
func Run(cfg Config) (*Report, error) {
	start := time.Now()
	rep := &Report{Corpus: cfg.Corpus, Diff: Diff{OnlyA: map[string]int{}, OnlyB: map[string]int{}, ExamplesA: map[string][]string{}, ExamplesB: map[string][]string{}}}

	t0 := time.Now()
	ours, err := NewOurs()
	if err != nil {
		return nil, err
	}
	oursInit := time.Since(t0)
	t0 = time.Now()
	cz, err := NewCoraza()
	if err != nil {
		return nil, err
	}
	czInit := time.Since(t0)

	rep.Ours = newResult(ours.Name(), true)
	rep.Ours.Init = oursInit
	rep.Parse = newResult(ParseOnly{}.Name(), true)
	rep.Coraza = newResult(cz.Name(), true)
	rep.Coraza.Init = czInit
	rep.Lib = newResult(Libinjection{}.Name(), false)

	type group struct {
		name   string
		lines  []string
		benign bool
	}
	var groups []group
	for _, c := range Categories {
		groups = append(groups, group{c, cfg.Corpus.Attacks[c], false})
	}
	for _, l := range BenignLists {
		groups = append(groups, group{l, cfg.Corpus.Benign[l], true})
	}
	total := 0
	for _, g := range groups {
		total += len(g.lines)
	}
	rep.Payloads = total
	rep.Events = total * int(NumPositions)
	for _, r := range []*Result{rep.Ours, rep.Parse, rep.Coraza} {
		r.Lat = make([]time.Duration, 0, rep.Events)
	}
	rep.Lib.Lat = make([]time.Duration, 0, total)

	warmUp(cfg.Corpus, ours, ParseOnly{}, cz, Libinjection{})

	hitsA := make([]bool, chunkSize*int(NumPositions))
	hitsB := make([]bool, chunkSize*int(NumPositions))
	hitsP := make([]bool, chunkSize*int(NumPositions))
	hitsL := make([]bool, chunkSize)
	evs := make([]Event, 0, chunkSize*int(NumPositions))
	firsts := make([]Event, 0, chunkSize)
	for _, g := range groups {
		for off := 0; off < len(g.lines); off += chunkSize {
			lines := g.lines[off:min(off+chunkSize, len(g.lines))]
			evs, firsts = evs[:0], firsts[:0]
			for _, p := range lines {
				for pos := range NumPositions {
					evs = append(evs, BuildEvent(Case{Payload: p, Pos: pos, Category: g.name, Benign: g.benign}))
				}
				firsts = append(firsts, evs[len(evs)-int(NumPositions)])
			}
			measure(ours, evs, hitsA, rep.Ours)
			measure(ParseOnly{}, evs, hitsP, rep.Parse)
			measure(cz, evs, hitsB, rep.Coraza)
			measure(Libinjection{}, firsts, hitsL, rep.Lib)
			for i := range evs {
				ev := &evs[i]
				rep.Ours.record(ours, ev, hitsA[i], cfg.Examples)
				rep.Coraza.record(cz, ev, hitsB[i], cfg.Examples)
				if !g.benign && hitsA[i] != hitsB[i] {
					only, ex := rep.Diff.OnlyA, rep.Diff.ExamplesA
					if hitsB[i] {
						only, ex = rep.Diff.OnlyB, rep.Diff.ExamplesB
					}
					only[g.name]++
					if len(ex[g.name]) < cfg.Examples {
						ex[g.name] = append(ex[g.name], fmt.Sprintf("%s: %q", ev.Pos, clip(ev.Payload, 100)))
					}
				}
			}
			for i := range firsts {
				rep.Lib.record(Libinjection{}, &firsts[i], hitsL[i], cfg.Examples)
			}
		}
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%-15s %6d payloads done (%v)\n", g.name, len(g.lines), time.Since(start).Round(time.Second))
		}
	}
	rep.Binary = map[string][2]Counter{}
	for _, b := range BinaryBodies(cfg.BinaryBodies, 7) {
		ev := BuildBinaryEvent(b)
		c, seen := rep.Binary[b.Name]
		if !seen {
			rep.BinKinds = append(rep.BinKinds, b.Name)
		}
		c[0].add(ours.Detect(&ev))
		c[1].add(cz.Detect(&ev))
		rep.Binary[b.Name] = c
	}
	rep.Ours.Errors, rep.Coraza.Errors = ours.Errors, cz.Errors
	for _, r := range []*Result{rep.Ours, rep.Parse, rep.Coraza, rep.Lib} {
		slices.Sort(r.Lat)
		for p := range r.LatByPos {
			slices.Sort(r.LatByPos[p])
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// measure times eng on every event, one call at a time, and counts heap
// allocations over the whole chunk.
func measure(eng Engine, evs []Event, hits []bool, r *Result) {
	lat := r.Lat
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for i := range evs {
		t := time.Now()
		hits[i] = eng.Detect(&evs[i])
		lat = append(lat, time.Since(t))
	}
	runtime.ReadMemStats(&m1)
	for i, d := range lat[len(lat)-len(evs):] {
		if d > r.Slowest {
			ev := &evs[i]
			r.Slowest, r.SlowestEvent = d, fmt.Sprintf("%s in %s, %d bytes: %q", ev.Category, ev.Pos, len(ev.Payload), clip(ev.Payload, 80))
		}
	}
	r.Lat = lat
	r.Mallocs += m1.Mallocs - m0.Mallocs
	r.Bytes += m1.TotalAlloc - m0.TotalAlloc
	r.Calls += uint64(len(evs))
	if r.PerEvent {
		for i := range evs {
			p := evs[i].Pos
			r.LatByPos[p] = append(r.LatByPos[p], lat[len(lat)-len(evs)+i])
		}
	}
}

// record counts one outcome; a benign hit is explained (untimed), and
// the first few are kept as examples.
func (r *Result) record(eng Engine, ev *Event, hit bool, examples int) {
	if !ev.Benign {
		r.Detect[ev.Category][ev.Pos].add(hit)
		return
	}
	r.FP[ev.Category][ev.Pos].add(hit)
	if !hit {
		return
	}
	why := eng.Explain(ev)
	for _, w := range why {
		r.FPCauses[w]++
	}
	if len(r.FPExamples) < examples*4 {
		pos := ev.Pos.String()
		if !r.PerEvent {
			pos = "any position"
		}
		r.FPExamples = append(r.FPExamples, fmt.Sprintf("%s, %s: %q (%s)", ev.Category, pos, clip(ev.Payload, 100), strings.Join(why, " ")))
	}
}

// warmUp runs each engine on a few events of every category so that lazy
// initialisation and cold caches do not land in the first measurements.
func warmUp(c *Corpus, engines ...Engine) {
	for _, cat := range Categories {
		for _, p := range c.Attacks[cat][:min(8, len(c.Attacks[cat]))] {
			for pos := range NumPositions {
				ev := BuildEvent(Case{Payload: p, Pos: pos, Category: cat})
				for _, e := range engines {
					e.Detect(&ev)
				}
			}
		}
	}
	for _, e := range engines {
		switch e := e.(type) {
		case *Ours:
			clear(e.Errors)
		case *Coraza:
			clear(e.Errors)
		}
	}
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// topCauses returns the n most frequent causes, most frequent first.
func topCauses(m map[string]int, n int) []string {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return cmp.Compare(a.k, b.k)
	})
	var out []string
	for _, e := range all[:min(n, len(all))] {
		out = append(out, fmt.Sprintf("%s ×%d", e.k, e.v))
	}
	return out
}
