package rules

import (
	"net/netip"
	"testing"
)

// FuzzEgressDecide checks, for arbitrary addresses, ports, hosts and
// schemes, that Decide never panics, that a cached decision equals the
// computed one, that the always-denied classes are never allowed by the
// baseline policy, and that the inet_aton reader used by the tests agrees
// with netip on dotted quads.
func FuzzEgressDecide(f *testing.F) {
	f.Add([]byte{169, 254, 169, 254}, uint16(80), "metadata.example.com", "http", "169.254.169.254")
	f.Add([]byte{127, 0, 0, 1}, uint16(9001), "", "", "0x7f.1")
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1}, uint16(5432), "DB.Internal.", "HTTPS", "2130706433")
	f.Add([]byte{}, uint16(0), "*.", "", "")
	def, err := DefaultEngine()
	if err != nil {
		f.Fatal(err)
	}
	base := BaselineEgress()
	f.Fuzz(func(t *testing.T, raw []byte, port uint16, host, scheme, spelling string) {
		var ip netip.Addr
		switch len(raw) {
		case 4:
			ip = netip.AddrFrom4([4]byte(raw))
		case 16:
			ip = netip.AddrFrom16([16]byte(raw))
		}
		d := EgressDest{IP: ip, Port: port, Host: host, Scheme: scheme, LambdaAPI: testAPI}
		for _, e := range []*Egress{def.Egress(), base} {
			first := e.Decide(d)
			again := e.Decide(d)
			again.Cached = first.Cached
			if first != again {
				t.Fatalf("decisions differ: %+v then %+v", first, again)
			}
			if first.Denied() != (first.RuleID == RuleEgressDeny) {
				t.Fatalf("inconsistent %+v", first)
			}
		}
		if bd := base.Decide(d); bd.Class.alwaysDenied() && !bd.Denied() {
			t.Fatalf("baseline allowed %s class %s", ip, bd.Class)
		}
		if a, ok := looseIPv4(spelling); ok {
			if std, err := netip.ParseAddr(spelling); err == nil && std.Is4() && std != a {
				t.Fatalf("looseIPv4(%q) = %s, netip says %s", spelling, a, std)
			}
		}
	})
}
