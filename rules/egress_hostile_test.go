package rules

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// TestEgressManyRules: a policy at the rule limit compiles, and decides
// uncached destinations in bounded time (host rules by map lookup, cidr
// rules by one scan).
func TestEgressManyRules(t *testing.T) {
	if testing.Short() {
		t.Skip("large policy")
	}
	n := policy.MaxRules / 2 // host and cidr rules share one list
	var b strings.Builder
	b.WriteString("  default: deny\n  allow:\n")
	for i := range n {
		fmt.Fprintf(&b, "    - host: 'h%d.example.com'\n      ports: [443]\n", i)
		fmt.Fprintf(&b, "    - cidr: 10.%d.%d.0/24\n", i>>8&255, i&255)
	}
	start := time.Now()
	e := egressFrom(t, "block", b.String())
	t.Logf("compiled %d rules in %v", 2*n, time.Since(start))

	start = time.Now()
	const decisions = 2000
	for i := range decisions {
		d := e.Decide(EgressDest{IP: netip.AddrFrom4([4]byte{52, 0, byte(i >> 8), byte(i)}), Port: 443, Host: fmt.Sprintf("h%d.example.com", i%n)})
		if d.Action != ActionAllow {
			t.Fatalf("h%d: %+v", i, d)
		}
		d = e.Decide(EgressDest{IP: netip.AddrFrom4([4]byte{10, 200, 200, byte(i)}), Port: 5432})
		if d.Action != ActionBlock {
			t.Fatalf("10.200.200.%d: %+v", i, d)
		}
	}
	per := time.Since(start) / (2 * decisions)
	t.Logf("%v per uncached decision", per)
	if per > 5*time.Millisecond {
		t.Errorf("uncached decision takes %v", per)
	}
}
