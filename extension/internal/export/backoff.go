package export

import (
	"sync"
	"time"
)

// Backoff defaults: after DefaultBackoffThreshold consecutive failures an
// exporter is skipped for DefaultBackoffBase, doubling with every further
// failure up to DefaultBackoffMax.
const (
	DefaultBackoffThreshold = 2
	DefaultBackoffBase      = 30 * time.Second
	DefaultBackoffMax       = 10 * time.Minute
)

// Backoff tracks one exporter's consecutive failures and says whether a
// due export should go to it. A dead exporter would otherwise cost the
// export timeout on every due export, time the platform bills and the next
// invocation waits for. After the skip period one export is let through
// (a probe); its success resets the count, its failure doubles the skip.
// The zero value uses the defaults. Safe for concurrent use.
type Backoff struct {
	// Threshold is the number of consecutive failures before skipping.
	Threshold int
	// Base is the first skip period; Max caps it.
	Base, Max time.Duration

	mu       sync.Mutex
	failures int
	until    time.Time
}

// Allow reports whether an export at now should be attempted. A nil
// Backoff always allows.
func (b *Backoff) Allow(now time.Time) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return !now.Before(b.until)
}

// Record records the outcome of an export attempted at now and returns
// the skip period it starts (0 when none).
func (b *Backoff) Record(now time.Time, failed bool) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !failed {
		b.failures, b.until = 0, time.Time{}
		return 0
	}
	b.failures++
	threshold, base, limit := b.Threshold, b.Base, b.Max
	if threshold <= 0 {
		threshold = DefaultBackoffThreshold
	}
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if limit <= 0 {
		limit = DefaultBackoffMax
	}
	if b.failures < threshold {
		return 0
	}
	d := base
	for i := threshold; i < b.failures && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	b.until = now.Add(d)
	return d
}

// Failures returns the number of consecutive failures.
func (b *Backoff) Failures() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failures
}
