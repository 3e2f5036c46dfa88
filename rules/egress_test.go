package rules

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// egressFrom compiles a policy whose egress section is body (indented
// YAML under "egress:"), with the given global mode.
func egressFrom(t testing.TB, mode, body string) *Egress {
	t.Helper()
	src := "version: 1\nname: egress-test\nmode: " + mode + "\negress:\n" + body
	p, err := policy.Parse("egress-test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", src, err)
	}
	e, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e.Egress()
}

// looseIPv4 reads an IPv4 address the way inet_aton does (the C
// resolver's view of a host name): one to four parts, each decimal,
// octal (leading 0) or hex (0x), the last part filling the remaining
// bytes. The tests use it to show which address an odd spelling reaches
// when a resolver accepts it; the guard itself only sees that address.
func looseIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var vals []uint64
	for _, p := range parts {
		base := 10
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, p = 16, p[2:]
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		if p == "" && base != 8 {
			return netip.Addr{}, false
		}
		if p == "" {
			p = "0"
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals = append(vals, v)
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// finalIP is the address an odd spelling reaches: a bracketed or plain
// IPv6 literal, a standard IPv4 literal, or an inet_aton spelling.
func finalIP(t testing.TB, s string) netip.Addr {
	t.Helper()
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a
	}
	a, ok := looseIPv4(s)
	if !ok {
		t.Fatalf("cannot read %q as an address", s)
	}
	return a
}

var testAPI = netip.MustParseAddrPort("127.0.0.1:9001")

func TestClassifyAddr(t *testing.T) {
	tests := []struct {
		give string
		port uint16
		want EgressClass
	}{
		{"8.8.8.8", 443, ClassPublic},
		{"2606:4700::1111", 443, ClassPublic},
		{"10.1.2.3", 5432, ClassPrivate},
		{"172.16.0.1", 80, ClassPrivate},
		{"172.31.255.255", 80, ClassPrivate},
		{"172.32.0.1", 80, ClassPublic},
		{"192.168.1.1", 80, ClassPrivate},
		{"100.64.0.1", 80, ClassPrivate},
		{"fd12::1", 80, ClassPrivate},
		{"127.0.0.1", 80, ClassLoopback},
		{"127.8.9.10", 80, ClassLoopback},
		{"::1", 80, ClassLoopback},
		{"169.254.1.1", 80, ClassLinkLocal},
		{"fe80::1", 80, ClassLinkLocal},
		{"fe80::1%eth0", 80, ClassLinkLocal},
		{"169.254.169.254", 80, ClassMetadata},
		{"169.254.170.2", 80, ClassMetadata},
		{"169.254.170.23", 80, ClassMetadata},
		{"fd00:ec2::254", 80, ClassMetadata},
		{"100.100.100.200", 80, ClassMetadata},
		{"::ffff:169.254.169.254", 80, ClassMetadata},
		{"64:ff9b::a9fe:a9fe", 80, ClassMetadata}, // NAT64 of 169.254.169.254
		{"::ffff:10.0.0.1", 80, ClassPrivate},
		{"0.0.0.0", 80, ClassUnspecified},
		{"0.1.2.3", 80, ClassUnspecified},
		{"::", 80, ClassUnspecified},
		{"127.0.0.1", 9001, ClassLambdaAPI},
		{"127.0.0.2", 9001, ClassLambdaAPI},
		{"::1", 9001, ClassLambdaAPI},
		{"::ffff:127.0.0.1", 9001, ClassLambdaAPI},
		{"0.0.0.0", 9001, ClassLambdaAPI},
		{"::", 9001, ClassLambdaAPI},
		{"10.0.0.1", 9001, ClassPrivate},
		{"224.0.0.1", 80, ClassOther},
		{"255.255.255.255", 80, ClassOther},
		{"ff02::1", 80, ClassOther},
		{"::7f00:1", 80, ClassOther},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.give, tt.port), func(t *testing.T) {
			got := ClassifyAddr(netip.MustParseAddr(tt.give), tt.port, testAPI)
			if got != tt.want {
				t.Errorf("ClassifyAddr(%s, %d) = %s, want %s", tt.give, tt.port, got, tt.want)
			}
		})
	}
	if got := ClassifyAddr(netip.MustParseAddr("127.0.0.1"), 9001, netip.AddrPort{}); got != ClassLoopback {
		t.Errorf("without a Lambda API address: %s, want loopback", got)
	}
	if got := ClassifyAddr(netip.Addr{}, 80, testAPI); got != ClassOther {
		t.Errorf("invalid address: %s, want other", got)
	}
	for c := ClassPublic; c <= ClassOther+1; c++ {
		if c.String() == "" {
			t.Errorf("class %d has no name", c)
		}
	}
}

// defaultEgress is the embedded default policy's egress section.
func defaultEgress(t testing.TB) *Egress {
	t.Helper()
	e, err := DefaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	return e.Egress()
}

func TestEgressDecideDefaultPolicy(t *testing.T) {
	e := defaultEgress(t)
	tests := []struct {
		// give is the host as the caller wrote it; the decision is made
		// on the address it reaches.
		give       string
		port       uint16
		host       string
		wantAction Action
		wantClass  EgressClass
	}{
		{"93.184.216.34", 443, "example.com", ActionAllow, ClassPublic},
		{"52.94.133.131", 443, "dynamodb.us-east-1.amazonaws.com", ActionAllow, ClassPublic},
		{"10.0.0.5", 5432, "db.internal.corp", ActionBlock, ClassPrivate},
		{"127.0.0.1", 8080, "", ActionBlock, ClassLoopback},
		{"0x7f.1", 80, "", ActionBlock, ClassLoopback},
		{"2130706433", 80, "", ActionBlock, ClassLoopback},
		{"017700000001", 80, "", ActionBlock, ClassLoopback},
		{"0", 80, "", ActionBlock, ClassUnspecified},
		{"[::]", 80, "", ActionBlock, ClassUnspecified},
		{"[::1]", 80, "", ActionBlock, ClassLoopback},
		{"::ffff:169.254.169.254", 80, "", ActionBlock, ClassMetadata},
		{"169.254.169.254", 80, "", ActionBlock, ClassMetadata},
		{"0xa9.0xfe.0xa9.0xfe", 80, "", ActionBlock, ClassMetadata},
		{"2852039166", 80, "", ActionBlock, ClassMetadata},
		{"169.254.170.2", 80, "", ActionBlock, ClassMetadata},
		{"[fd00:ec2::254]", 80, "", ActionBlock, ClassMetadata},
		{"127.0.0.1", 9001, "", ActionBlock, ClassLambdaAPI},
		{"0", 9001, "", ActionBlock, ClassLambdaAPI},
		// A public-looking name that resolved inward: the IP decides.
		{"127.0.0.1", 80, "localtest.me", ActionBlock, ClassLoopback},
		{"169.254.169.254", 80, "metadata.example.com", ActionBlock, ClassMetadata},
		// Host deny rules match the name even on a public address.
		{"93.184.216.34", 443, "localhost", ActionBlock, ClassPublic},
		{"93.184.216.34", 443, "foo.internal", ActionBlock, ClassPublic},
		{"93.184.216.34", 443, "FOO.Internal.", ActionBlock, ClassPublic},
	}
	for _, tt := range tests {
		t.Run(tt.give+"/"+tt.host, func(t *testing.T) {
			d := e.Decide(EgressDest{IP: finalIP(t, tt.give), Port: tt.port, Host: tt.host, LambdaAPI: testAPI})
			if d.Action != tt.wantAction || d.Class != tt.wantClass {
				t.Fatalf("Decide = %+v, want action %s class %s", d, tt.wantAction, tt.wantClass)
			}
			if d.Denied() != (d.RuleID == RuleEgressDeny) || d.Reason == "" {
				t.Errorf("inconsistent decision %+v", d)
			}
		})
	}
}

func TestEgressDecideRules(t *testing.T) {
	const policy = `  default: deny
  allow:
    - host: '*.amazonaws.com'
      ports: [443]
    - host: api.partner.example
      schemes: [https]
    - cidr: 10.20.0.0/16
      ports: [5432]
    - cidr: 127.0.0.1/32
    - cidr: 169.254.169.254/32
      ports: [80]
    - cidr: 169.0.0.0/8
    - cidr: 0.0.0.0/0
      ports: [8443]
    - cidr: 127.0.0.0/8
      ports: [9001]
  deny:
    - host: evil.amazonaws.com
    - cidr: 10.20.30.0/24
`
	e := egressFrom(t, "block", policy)
	ip := netip.MustParseAddr
	tests := []struct {
		name   string
		give   EgressDest
		want   Action
		reason string
	}{
		{"wildcard subdomain", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "s3.us-east-1.amazonaws.com"}, ActionAllow, "allowed by egress.allow[0] (host *.amazonaws.com)"},
		{"wildcard not apex", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "amazonaws.com"}, ActionBlock, "not in egress.allow"},
		{"wildcard wrong port", EgressDest{IP: ip("52.1.2.3"), Port: 80, Host: "s3.amazonaws.com"}, ActionBlock, "not in egress.allow"},
		{"lookalike suffix", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "evilamazonaws.com"}, ActionBlock, "not in egress.allow"},
		{"deny wins", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "evil.amazonaws.com"}, ActionBlock, "denied by egress.deny[0] (host evil.amazonaws.com)"},
		{"exact host https", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "api.partner.example", Scheme: "https"}, ActionAllow, "allowed by egress.allow[1] (host api.partner.example)"},
		{"exact host http refused", EgressDest{IP: ip("52.1.2.3"), Port: 80, Host: "api.partner.example", Scheme: "http"}, ActionBlock, "not in egress.allow"},
		{"exact host scheme unknown", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "api.partner.example"}, ActionAllow, "allowed by egress.allow[1] (host api.partner.example)"},
		{"exact host case", EgressDest{IP: ip("52.1.2.3"), Port: 443, Host: "API.Partner.Example.", Scheme: "HTTPS"}, ActionAllow, "allowed by egress.allow[1] (host api.partner.example)"},
		{"cidr port", EgressDest{IP: ip("10.20.1.1"), Port: 5432}, ActionAllow, "allowed by egress.allow[2] (cidr 10.20.0.0/16)"},
		{"cidr other port", EgressDest{IP: ip("10.20.1.1"), Port: 22}, ActionBlock, "not in egress.allow"},
		{"cidr deny inside allow", EgressDest{IP: ip("10.20.30.4"), Port: 5432}, ActionBlock, "denied by egress.deny[1] (cidr 10.20.30.0/24)"},
		{"mapped v6 matches v4 cidr", EgressDest{IP: ip("::ffff:10.20.1.1"), Port: 5432}, ActionAllow, "allowed by egress.allow[2] (cidr 10.20.0.0/16)"},
		{"loopback allowed", EgressDest{IP: ip("127.0.0.1"), Port: 8080}, ActionAllow, "allowed by egress.allow[3] (cidr 127.0.0.1/32)"},
		{"metadata explicit", EgressDest{IP: ip("169.254.169.254"), Port: 80}, ActionAllow, "allowed by egress.allow[4] (cidr 169.254.169.254/32)"},
		{"metadata other port", EgressDest{IP: ip("169.254.169.254"), Port: 8080}, ActionBlock, "metadata address"},
		{"metadata not opened by /8", EgressDest{IP: ip("169.254.170.2"), Port: 80}, ActionBlock, "metadata address"},
		{"link-local not opened by /8", EgressDest{IP: ip("169.254.9.9"), Port: 80}, ActionBlock, "link-local address"},
		{"public via /0", EgressDest{IP: ip("8.8.8.8"), Port: 8443}, ActionAllow, "allowed by egress.allow[6] (cidr 0.0.0.0/0)"},
		{"metadata not opened by /0", EgressDest{IP: ip("169.254.169.254"), Port: 8443}, ActionBlock, "metadata address"},
		{"unspecified not opened by /0", EgressDest{IP: ip("0.0.0.0"), Port: 8443}, ActionBlock, "unspecified address"},
		{"lambda api explicit", EgressDest{IP: ip("127.0.0.1"), Port: 9001, LambdaAPI: testAPI}, ActionAllow, "allowed by egress.allow[7] (cidr 127.0.0.0/8)"},
		{"lambda api explicit v4 literal", EgressDest{IP: ip("127.0.0.1"), Port: 9001, LambdaAPI: netip.MustParseAddrPort("127.0.0.1:9001")}, ActionAllow, "allowed by egress.allow[7] (cidr 127.0.0.0/8)"},
		{"invalid address", EgressDest{Port: 80}, ActionBlock, "invalid address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // computed, then cached
				d := e.Decide(tt.give)
				if d.Action != tt.want || d.Reason != tt.reason {
					t.Fatalf("Decide(%+v) = %+v, want %s %q", tt.give, d, tt.want, tt.reason)
				}
			}
		})
	}

	// The Lambda API is not opened by a rule without its port.
	e2 := egressFrom(t, "block", "  default: allow\n  allow:\n    - cidr: 127.0.0.1/32\n")
	if d := e2.Decide(EgressDest{IP: ip("127.0.0.1"), Port: 9001, LambdaAPI: testAPI}); d.Action != ActionBlock || d.Class != ClassLambdaAPI {
		t.Errorf("lambda api via portless rule: %+v, want block", d)
	}
	if d := e2.Decide(EgressDest{IP: ip("127.0.0.1"), Port: 9002, LambdaAPI: testAPI}); d.Action != ActionAllow {
		t.Errorf("loopback other port: %+v, want allow", d)
	}
}

func TestEgressModes(t *testing.T) {
	dest := EgressDest{IP: netip.MustParseAddr("169.254.169.254"), Port: 80}
	tests := []struct {
		mode, body string
		want       Action
	}{
		{"block", "  default: allow\n", ActionBlock},
		{"monitor", "  default: allow\n", ActionMonitor},
		{"off", "  default: allow\n", ActionAllow},
		{"block", "  default: allow\n  mode: monitor\n", ActionMonitor},
		{"monitor", "  default: allow\n  mode: block\n", ActionBlock},
		{"off", "  default: deny\n  mode: block\n", ActionAllow},
		{"block", "  default: deny\n  mode: off\n", ActionAllow},
	}
	for _, tt := range tests {
		t.Run(tt.mode+"/"+strings.TrimSpace(strings.ReplaceAll(tt.body, "\n", " ")), func(t *testing.T) {
			e := egressFrom(t, tt.mode, tt.body)
			if d := e.Decide(dest); d.Action != tt.want {
				t.Errorf("Decide = %+v, want %s", d, tt.want)
			}
		})
	}
}

func TestBaselineEgress(t *testing.T) {
	e := BaselineEgress()
	ip := netip.MustParseAddr
	for _, tt := range []struct {
		ip   string
		port uint16
		want Action
	}{
		{"8.8.8.8", 443, ActionAllow},
		{"10.0.0.1", 5432, ActionAllow},
		{"127.0.0.1", 2772, ActionAllow},
		{"127.0.0.1", 9001, ActionBlock},
		{"169.254.169.254", 80, ActionBlock},
		{"fe80::1", 80, ActionBlock},
		{"0.0.0.0", 80, ActionBlock},
	} {
		if d := e.Decide(EgressDest{IP: ip(tt.ip), Port: tt.port, LambdaAPI: testAPI}); d.Action != tt.want {
			t.Errorf("%s:%d: %+v, want %s", tt.ip, tt.port, d, tt.want)
		}
	}
}

func TestEgressCacheBounded(t *testing.T) {
	e := defaultEgress(t)
	for i := range 20 * egressCacheSize {
		e.Decide(EgressDest{IP: netip.AddrFrom4([4]byte{8, byte(i >> 16), byte(i >> 8), byte(i)}), Port: 443, Host: fmt.Sprintf("h%d.example.com", i)})
	}
	// The table is a fixed array, so it cannot grow; what matters is that
	// evicted and colliding entries never change a decision.
	first := EgressDest{IP: netip.AddrFrom4([4]byte{8, 0, 0, 0}), Port: 443, Host: "h0.example.com"}
	if got := e.Decide(first); got.Action != ActionAllow || got.Class != ClassPublic {
		t.Fatalf("Decide(first) after %d others = %+v, want a public allow", 20*egressCacheSize, got)
	}
	meta := EgressDest{IP: netip.MustParseAddr("169.254.169.254"), Port: 80}
	if got := e.Decide(meta); got.Action != ActionBlock {
		t.Fatalf("Decide(metadata) after eviction = %+v, want block", got)
	}
	// An over-long host is decided but not cached.
	long := strings.Repeat("a", 300)
	d := EgressDest{IP: netip.MustParseAddr("8.8.8.8"), Port: 443, Host: long}
	e.Decide(d)
	if e.Decide(d).Cached {
		t.Error("over-long host was cached")
	}
}

func TestEgressConcurrent(t *testing.T) {
	e := defaultEgress(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				ip := netip.AddrFrom4([4]byte{10, 0, byte(g), byte(i % 64)})
				want := ActionBlock
				if i%2 == 0 {
					ip = netip.AddrFrom4([4]byte{8, 8, byte(g), byte(i % 64)})
					want = ActionAllow
				}
				if d := e.Decide(EgressDest{IP: ip, Port: 443}); d.Action != want {
					t.Errorf("%s: %+v, want %s", ip, d, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestLooseIPv4(t *testing.T) {
	for give, want := range map[string]string{
		"0x7f.1":              "127.0.0.1",
		"2130706433":          "127.0.0.1",
		"017700000001":        "127.0.0.1",
		"0":                   "0.0.0.0",
		"127.1":               "127.0.0.1",
		"0xa9.0xfe.0xa9.0xfe": "169.254.169.254",
		"169.254.43518":       "169.254.169.254",
	} {
		got, ok := looseIPv4(give)
		if !ok || got.String() != want {
			t.Errorf("looseIPv4(%q) = %v, %v; want %s", give, got, ok, want)
		}
	}
	for _, bad := range []string{"", "a.b", "1.2.3.4.5", "256.1", "0x", "1.2.3.256", "09"} {
		if got, ok := looseIPv4(bad); ok {
			t.Errorf("looseIPv4(%q) = %v, want failure", bad, got)
		}
	}
}

func BenchmarkEgressDecisionCached(b *testing.B) {
	e := defaultEgress(b)
	d := EgressDest{IP: netip.MustParseAddr("52.94.133.131"), Port: 443, Host: "dynamodb.us-east-1.amazonaws.com", Scheme: "https", LambdaAPI: testAPI}
	e.Decide(d)
	b.ReportAllocs()
	for b.Loop() {
		if e.Decide(d).Action != ActionAllow {
			b.Fatal("denied")
		}
	}
}

func BenchmarkEgressDecisionCachedParallel(b *testing.B) {
	e := defaultEgress(b)
	d := EgressDest{IP: netip.MustParseAddr("52.94.133.131"), Port: 443, Host: "dynamodb.us-east-1.amazonaws.com", Scheme: "https", LambdaAPI: testAPI}
	e.Decide(d)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Decide(d)
		}
	})
}

func BenchmarkEgressDecisionUncached(b *testing.B) {
	e := defaultEgress(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e.decide(&EgressDest{IP: netip.AddrFrom4([4]byte{52, byte(i >> 16), byte(i >> 8), byte(i)}), Port: 443, Host: "dynamodb.us-east-1.amazonaws.com"})
	}
}
