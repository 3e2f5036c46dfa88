package egresslog

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// fakeClock advances by one second on every reading.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestRecordAndSummary(t *testing.T) {
	tab := New(8, fakeClock())
	tab.Record("API.Stripe.com.", 443, "HTTPS", "monitor")
	tab.Record("api.stripe.com", 443, "https", "monitor")
	tab.Record("10.20.1.5", 5432, "", "allow")
	tab.Record("", 443, "", "allow") // ignored
	tab.Record("x.example", 0, "", "allow")
	s := tab.Summary()
	if len(s.Destinations) != 2 || s.Dropped != 0 {
		t.Fatalf("summary = %+v, want 2 destinations", s)
	}
	d := s.Destinations[0]
	if d.Host != "api.stripe.com" || d.Port != 443 || d.Scheme != "https" || d.Count != 2 || d.Decision != "monitor" {
		t.Errorf("first destination = %+v, want api.stripe.com:443 https ×2 monitor", d)
	}
	if !d.First.Before(d.Last) || !s.Since.Before(d.First) || !d.Last.Before(s.Until) {
		t.Errorf("times out of order: since %v first %v last %v until %v", s.Since, d.First, d.Last, s.Until)
	}
	// The summary is a valid wire line that suggest can read back.
	line, err := wire.EncodeEgressSummary(&s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.DecodeEgressSummary(line); err != nil {
		t.Errorf("DecodeEgressSummary(summary) = %v", err)
	}
}

func TestBounded(t *testing.T) {
	tab := New(3, nil)
	for i := range 10 {
		tab.Record(fmt.Sprintf("h%d.example", i), 443, "", "allow")
	}
	tab.Record("h0.example", 443, "", "allow") // known: still counted
	s := tab.Summary()
	if tab.Len() != 3 || s.Dropped != 7 {
		t.Errorf("Len() = %d, dropped = %d; want 3 and 7", tab.Len(), s.Dropped)
	}
	if s.Destinations[0].Host != "h0.example" || s.Destinations[0].Count != 2 {
		t.Errorf("most used = %+v, want h0.example ×2", s.Destinations[0])
	}
}

// TestConcurrent records from many goroutines (run with -race): every
// connection is counted once.
func TestConcurrent(t *testing.T) {
	tab := New(16, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				tab.Record(fmt.Sprintf("h%d.example", (g+i)%4), 443, "https", "allow")
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, d := range tab.Summary().Destinations {
		total += d.Count
	}
	if total != 8000 || tab.Len() != 4 {
		t.Errorf("total = %d over %d destinations, want 8000 over 4", total, tab.Len())
	}
}

func BenchmarkRecordKnown(b *testing.B) {
	tab := New(0, nil)
	tab.Record("api.stripe.com", 443, "https", "allow")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tab.Record("api.stripe.com", 443, "https", "allow")
		}
	})
}
