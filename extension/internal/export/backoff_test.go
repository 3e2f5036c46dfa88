package export

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	type step struct {
		at        time.Duration // since t0
		wantAllow bool
		failed    bool
		wantSkip  time.Duration
	}
	tests := []struct {
		name  string
		give  [3]time.Duration // Threshold, Base, Max (0: default)
		steps []step
	}{
		{name: "success never skips", steps: []step{
			{0, true, false, 0}, {time.Second, true, false, 0},
		}},
		{name: "one failure is tolerated", steps: []step{
			{0, true, true, 0}, {time.Second, true, false, 0}, {2 * time.Second, true, true, 0},
		}},
		{name: "two failures skip 30s, a failed probe doubles", steps: []step{
			{0, true, true, 0},
			{time.Second, true, true, 30 * time.Second},
			{10 * time.Second, false, false, -1},
			{31 * time.Second, true, true, time.Minute},
			{60 * time.Second, false, false, -1},
			{91 * time.Second, true, false, 0}, // probe succeeds
			{92 * time.Second, true, true, 0},  // counting starts again
		}},
		{name: "capped", give: [3]time.Duration{1, time.Minute, 3 * time.Minute}, steps: []step{
			{0, true, true, time.Minute},
			{time.Minute, true, true, 2 * time.Minute},
			{3 * time.Minute, true, true, 3 * time.Minute},
			{6 * time.Minute, true, true, 3 * time.Minute},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Backoff{Threshold: int(tt.give[0]), Base: tt.give[1], Max: tt.give[2]}
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				if got := b.Allow(now); got != s.wantAllow {
					t.Fatalf("step %d: Allow() = %v, want %v", i, got, s.wantAllow)
				}
				if !s.wantAllow {
					continue
				}
				if got := b.Record(now, s.failed); got != s.wantSkip {
					t.Fatalf("step %d: Record() = %v, want %v", i, got, s.wantSkip)
				}
			}
		})
	}
}
