package bench

import (
	"testing"
)

// benchEvents is a fixed mixed set: the first 16 payloads of every attack
// category and the first 64 of every benign list (file order, no
// sampling), each in every position.
func benchEvents(b *testing.B) []Event {
	b.Helper()
	c := loadCorpus(b)
	var evs []Event
	add := func(cat string, lines []string, n int, benign bool) {
		for _, p := range lines[:min(n, len(lines))] {
			for pos := range NumPositions {
				evs = append(evs, BuildEvent(Case{Payload: p, Pos: pos, Category: cat, Benign: benign}))
			}
		}
	}
	for _, cat := range Categories {
		add(cat, c.Attacks[cat], 16, false)
	}
	for _, l := range BenignLists {
		add(l, c.Benign[l], 64, true)
	}
	return evs
}

func loadCorpus(tb testing.TB) *Corpus {
	tb.Helper()
	dir, err := FindCorpus("")
	if err != nil {
		tb.Skip(err)
	}
	c, err := LoadCorpus(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// runEvents reports one op per event, cycling through the set.
func runEvents(b *testing.B, e Engine, evs []Event) {
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if e.Detect(&evs[i]) {
			hits++
		}
		if i++; i == len(evs) {
			i = 0
		}
	}
	b.ReportMetric(float64(len(evs)), "events")
}

func BenchmarkOurs(b *testing.B) {
	evs := benchEvents(b)
	o, err := NewOurs()
	if err != nil {
		b.Fatal(err)
	}
	runEvents(b, o, evs)
}

func BenchmarkCoraza(b *testing.B) {
	evs := benchEvents(b)
	c, err := NewCoraza()
	if err != nil {
		b.Fatal(err)
	}
	runEvents(b, c, evs)
}

// BenchmarkLibinjection runs on the same events, so each payload is
// checked once per position.
func BenchmarkLibinjection(b *testing.B) {
	runEvents(b, Libinjection{}, benchEvents(b))
}

func BenchmarkInitOurs(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewOurs(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInitCoraza is a warm figure: Coraza memoizes compiled
// operators per process, so only the first creation (what a Lambda cold
// start pays, and what cmd/compare reports) compiles the CRS regexps.
func BenchmarkInitCoraza(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCoraza(); err != nil {
			b.Fatal(err)
		}
	}
}
