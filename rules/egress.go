package rules

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// EgressClass is the class of an outbound destination, a low-cardinality
// label for metrics and events (see wire.Event.Class).
type EgressClass uint8

// The destination classes. The zero value is ClassPublic.
const (
	ClassPublic      EgressClass = iota // any address not in another class
	ClassPrivate                        // 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7
	ClassLoopback                       // 127/8, ::1
	ClassLinkLocal                      // 169.254/16, fe80::/10 (other than metadata)
	ClassMetadata                       // instance, container and pod metadata services
	ClassLambdaAPI                      // the Lambda Runtime, Extensions and Telemetry APIs
	ClassUnspecified                    // 0.0.0.0/8, ::
	ClassOther                          // multicast, broadcast, reserved, invalid
)

var classNames = [...]string{
	ClassPublic:      "public",
	ClassPrivate:     "private",
	ClassLoopback:    "loopback",
	ClassLinkLocal:   "link_local",
	ClassMetadata:    "metadata",
	ClassLambdaAPI:   "lambda_api",
	ClassUnspecified: "unspecified",
	ClassOther:       "other",
}

// String returns the class's label: "public", "private", "loopback",
// "link_local", "metadata", "lambda_api", "unspecified" or "other".
func (c EgressClass) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "other"
}

// alwaysDenied reports whether destinations of class c are denied unless a
// cidr allow rule names them explicitly (see [Egress.Decide]).
func (c EgressClass) alwaysDenied() bool {
	switch c {
	case ClassMetadata, ClassLinkLocal, ClassUnspecified, ClassLambdaAPI:
		return true
	}
	return false
}

// metadataAddrs are the cloud metadata and credential endpoints. Some are
// outside link-local space; they are denied wherever they are.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // EC2 IMDS (also GCP, Azure, OpenStack)
	netip.MustParseAddr("169.254.170.2"),   // ECS task metadata and credentials
	netip.MustParseAddr("169.254.170.23"),  // EKS Pod Identity agent
	netip.MustParseAddr("fd00:ec2::254"),   // EC2 IMDS over IPv6
	netip.MustParseAddr("fd00:ec2::23"),    // EKS Pod Identity agent over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud metadata
	netip.MustParseAddr("168.63.129.16"),   // Azure WireServer
}

var (
	pfxUnspec4   = netip.MustParsePrefix("0.0.0.0/8")
	pfxNAT64     = netip.MustParsePrefix("64:ff9b::/96")
	pfxCompat    = netip.MustParsePrefix("::/96")
	pfxReserved4 = netip.MustParsePrefix("240.0.0.0/4")
	pfxPrivate   = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"),
		netip.MustParsePrefix("fc00::/7"),
	}
)

// ClassifyAddr returns the class of the destination ip:port. IPv4-mapped
// IPv6 addresses (::ffff:a.b.c.d) and NAT64 addresses (64:ff9b::a.b.c.d)
// are classified by the IPv4 address they carry; zones are ignored.
// lambdaAPI is the address of the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API,
// which the Extensions and Telemetry APIs share); the zero AddrPort means
// unknown. A destination on its port that is its address, any loopback
// address when it is a loopback address, or an unspecified address (which
// connects to the local host) is [ClassLambdaAPI].
func ClassifyAddr(ip netip.Addr, port uint16, lambdaAPI netip.AddrPort) EgressClass {
	ip = normalizeAddr(ip)
	if !ip.IsValid() {
		return ClassOther
	}
	if lambdaAPI.IsValid() && port == lambdaAPI.Port() {
		api := normalizeAddr(lambdaAPI.Addr())
		if ip == api || ip.IsLoopback() && api.IsLoopback() || ip.IsUnspecified() || pfxUnspec4.Contains(ip) {
			return ClassLambdaAPI
		}
	}
	if slices.Contains(metadataAddrs, ip) {
		return ClassMetadata
	}
	switch {
	case pfxUnspec4.Contains(ip), ip.IsUnspecified():
		return ClassUnspecified
	case ip.IsLoopback():
		return ClassLoopback
	case ip.IsLinkLocalUnicast():
		return ClassLinkLocal
	case pfxCompat.Contains(ip):
		// IPv4-compatible (deprecated, not routed) addresses other
		// than :: and ::1.
		return ClassOther
	}
	for _, p := range pfxPrivate {
		if p.Contains(ip) {
			return ClassPrivate
		}
	}
	if ip.IsMulticast() || pfxReserved4.Contains(ip) {
		return ClassOther
	}
	return ClassPublic
}

// normalizeAddr drops the zone and unwraps IPv4-mapped and NAT64
// addresses.
func normalizeAddr(ip netip.Addr) netip.Addr {
	ip = ip.WithZone("").Unmap()
	if ip.Is6() && pfxNAT64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return ip
}

// classPrefixBits is how specific a cidr allow rule must be to name a
// destination of an always-denied class explicitly: as specific as the
// class's own range (so 0.0.0.0/0 or 169.0.0.0/8 never opens the metadata
// service, while 169.254.169.254/32 does).
func classPrefixBits(c EgressClass, ip netip.Addr) int {
	v4 := ip.Is4()
	switch c {
	case ClassMetadata:
		return ip.BitLen()
	case ClassLinkLocal:
		if v4 {
			return 16
		}
		return 10
	case ClassUnspecified, ClassLambdaAPI:
		if v4 {
			return 8
		}
		return 128
	}
	return 0
}

// EgressDest is one outbound destination to decide on.
type EgressDest struct {
	// IP is the address actually dialled (after DNS resolution).
	IP netip.Addr
	// Port is the destination port.
	Port uint16
	// Host is the host name the caller asked for, when known; empty
	// when the caller dialled an address. Host rules match it; it is
	// matched case-insensitively and a trailing dot is ignored.
	Host string
	// Scheme is the URL scheme ("https") when an HTTP-level guard knows
	// it; empty below HTTP.
	Scheme string
	// LambdaAPI is the address of the Lambda Runtime API, when known
	// (see [ClassifyAddr]).
	LambdaAPI netip.AddrPort
}

// EgressDecision is the egress policy's verdict on one destination.
type EgressDecision struct {
	// Action is [ActionAllow], or for a denied destination what the
	// egress mode asks for: [ActionBlock] or [ActionMonitor]. With mode
	// off it is always ActionAllow.
	Action Action
	// Class is the destination's class.
	Class EgressClass
	// RuleID is [RuleEgressDeny] when the destination is denied, else
	// empty.
	RuleID string
	// Rule names the policy rule that decided, e.g.
	// "egress.deny[2] (cidr 10.0.0.0/8)"; empty when the policy default
	// or the destination's class decided.
	Rule string
	// Reason is a short explanation without payload: "metadata address",
	// "denied by egress.deny[2] (cidr 10.0.0.0/8)", "not in egress.allow",
	// "allowed by egress.allow[0] (host *.amazonaws.com)", "default allow".
	Reason string
	// Cached reports that the decision came from the decision cache, so
	// an identical destination was decided before.
	Cached bool
}

// Denied reports whether the policy denies the destination (whether or
// not the mode blocks it).
func (d EgressDecision) Denied() bool { return d.Action != ActionAllow }

// Reasons for class denials.
const (
	reasonMetadata    = "metadata address"
	reasonLinkLocal   = "link-local address"
	reasonUnspecified = "unspecified address"
	reasonLambdaAPI   = "Lambda runtime API"
	reasonNotAllowed  = "not in egress.allow"
	reasonDefault     = "default allow"
	reasonOff         = "egress mode off"
	reasonBadAddr     = "invalid address"
)

// egressRule is a compiled EgressRule.
type egressRule struct {
	prefix   netip.Prefix // valid for cidr rules
	host     string       // exact name, or the domain of a wildcard
	wildcard bool
	ports    []uint16
	schemes  []string
	name     string // "egress.deny[2] (cidr 10.0.0.0/8)"
	reason   string // "denied by ..." or "allowed by ..."
}

// egressRules is one list (allow or deny), indexed for lookup.
type egressRules struct {
	rules []egressRule
	exact map[string][]int32 // host → rule indexes
	wild  map[string][]int32 // domain of "*.domain" → rule indexes
	cidrs []int32
}

// Egress is the compiled egress policy. It is immutable and safe for
// concurrent use; decisions are cached in a small bounded table.
type Egress struct {
	mode         Mode
	defaultAllow bool
	allow, deny  egressRules
	cache        *egressCache
}

// compileEgress compiles p under mode, resolved by the engine.
func compileEgress(p *policy.EgressPolicy, mode Mode) (*Egress, error) {
	e := &Egress{mode: mode, defaultAllow: p.Default != "deny", cache: newEgressCache()}
	var err error
	if e.allow, err = compileEgressRules(p.Allow, "egress.allow", "allowed by "); err != nil {
		return nil, err
	}
	if e.deny, err = compileEgressRules(p.Deny, "egress.deny", "denied by "); err != nil {
		return nil, err
	}
	return e, nil
}

// BaselineEgress returns an egress policy that allows every destination
// except the always-denied classes (metadata, link-local, unspecified and,
// when a [EgressDest.LambdaAPI] is given, the Lambda APIs), in block mode.
// Sink guards use it before any policy is loaded.
func BaselineEgress() *Egress {
	e, _ := compileEgress(&policy.EgressPolicy{Default: "allow"}, ModeBlock)
	return e
}

func compileEgressRules(in []policy.EgressRule, list, verb string) (egressRules, error) {
	rs := egressRules{exact: map[string][]int32{}, wild: map[string][]int32{}}
	for i, r := range in {
		cr := egressRule{ports: r.Ports}
		for _, s := range r.Schemes {
			cr.schemes = append(cr.schemes, strings.ToLower(s))
		}
		idx := int32(len(rs.rules))
		switch {
		case r.CIDR != "":
			pfx, err := netip.ParsePrefix(r.CIDR)
			if err != nil {
				a, aerr := netip.ParseAddr(r.CIDR)
				if aerr != nil {
					return rs, fmt.Errorf("%s[%d]: bad cidr %q", list, i, r.CIDR)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			a := pfx.Addr()
			if a.Is4In6() && pfx.Bits() >= 96 {
				// ::ffff:10.0.0.0/104 is 10.0.0.0/8.
				pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
			}
			cr.prefix = pfx.Masked()
			cr.name = fmt.Sprintf("%s[%d] (cidr %s)", list, i, cr.prefix)
			rs.cidrs = append(rs.cidrs, idx)
		case r.Host != "":
			h := strings.ToLower(strings.TrimSuffix(r.Host, "."))
			cr.name = fmt.Sprintf("%s[%d] (host %s)", list, i, h)
			if d, ok := strings.CutPrefix(h, "*."); ok {
				cr.host, cr.wildcard = d, true
				rs.wild[d] = append(rs.wild[d], idx)
			} else {
				cr.host = h
				rs.exact[h] = append(rs.exact[h], idx)
			}
		default:
			return rs, fmt.Errorf("%s[%d]: needs a host or a cidr", list, i)
		}
		cr.reason = verb + cr.name
		rs.rules = append(rs.rules, cr)
	}
	return rs, nil
}

// match returns the index of the first rule (in policy order) that
// matches d, or -1. ip is normalized, host lower-case.
func (rs *egressRules) match(ip netip.Addr, port uint16, host, scheme string) int32 {
	best := int32(-1)
	consider := func(idx []int32) {
		for _, i := range idx {
			if best >= 0 && i >= best {
				return
			}
			if rs.rules[i].restrictionsMatch(port, scheme) {
				best = i
				return
			}
		}
	}
	if host != "" {
		consider(rs.exact[host])
		for d := host; ; {
			dot := strings.IndexByte(d, '.')
			if dot < 0 {
				break
			}
			d = d[dot+1:]
			consider(rs.wild[d])
		}
	}
	if ip.IsValid() {
		for _, i := range rs.cidrs {
			if best >= 0 && i >= best {
				break
			}
			r := &rs.rules[i]
			if r.prefix.Contains(ip) && r.restrictionsMatch(port, scheme) {
				best = i
				break
			}
		}
	}
	return best
}

// restrictionsMatch checks the rule's ports and schemes. An unknown
// scheme (a dial below HTTP) satisfies any scheme restriction: only
// HTTP-level guards can enforce schemes.
func (r *egressRule) restrictionsMatch(port uint16, scheme string) bool {
	if len(r.ports) > 0 && !slices.Contains(r.ports, port) {
		return false
	}
	if len(r.schemes) > 0 && scheme != "" && !slices.Contains(r.schemes, scheme) {
		return false
	}
	return true
}

// Mode returns the egress mode: the policy's "egress.mode", else the
// policy's mode (after LAMBDA_RASP_MODE).
func (e *Egress) Mode() Mode { return e.mode }

// Decide decides whether the policy lets the caller connect to d.
//
// The destination is classified first ([ClassifyAddr]). Then:
//
//  1. a matching deny rule denies (deny wins over allow);
//  2. metadata, link-local, unspecified and Lambda API destinations are
//     denied unless a cidr allow rule names them explicitly: its prefix
//     is at least as specific as the class's range (169.254.169.254/32
//     for the metadata service, 169.254.0.0/16 for link-local), and for
//     the Lambda API it lists the port. Host rules never open these
//     classes, since a name can resolve anywhere;
//  3. a matching allow rule allows;
//  4. otherwise the policy's default decides.
//
// Host rules match d.Host (exactly, or "*.example.com" for sub-domains of
// example.com), cidr rules match d.IP; a rule's ports and schemes restrict
// it, and an empty d.Scheme satisfies any scheme restriction. A denied
// destination gets [ActionBlock] or [ActionMonitor] as the egress mode
// says; with mode off every destination is allowed.
//
// Decisions are cached in a fixed-size table: a repeated destination is
// decided without allocating, in well under a microsecond.
func (e *Egress) Decide(d EgressDest) EgressDecision {
	d.IP = normalizeAddr(d.IP)
	if d.Host != "" {
		d.Host = strings.TrimSuffix(d.Host, ".")
		if hasUpper(d.Host) {
			d.Host = strings.ToLower(d.Host)
		}
	}
	if d.Scheme != "" && hasUpper(d.Scheme) {
		d.Scheme = strings.ToLower(d.Scheme)
	}
	if e.mode == ModeOff {
		return EgressDecision{Action: ActionAllow, Class: ClassifyAddr(d.IP, d.Port, d.LambdaAPI), Reason: reasonOff}
	}
	h := d.hash()
	if dec, ok := e.cache.get(h, &d); ok {
		dec.Cached = true
		return dec
	}
	dec := e.decide(&d)
	e.cache.put(h, &d, dec)
	return dec
}

// decide is Decide without the cache.
func (e *Egress) decide(d *EgressDest) EgressDecision {
	class := ClassifyAddr(d.IP, d.Port, d.LambdaAPI)
	dec := EgressDecision{Class: class}
	deny := func(rule, reason string) EgressDecision {
		dec.RuleID, dec.Rule, dec.Reason = RuleEgressDeny, rule, reason
		dec.Action = ActionBlock
		if e.mode == ModeMonitor {
			dec.Action = ActionMonitor
		}
		return dec
	}
	if !d.IP.IsValid() {
		return deny("", reasonBadAddr)
	}
	if i := e.deny.match(d.IP, d.Port, d.Host, d.Scheme); i >= 0 {
		r := &e.deny.rules[i]
		return deny(r.name, r.reason)
	}
	if class.alwaysDenied() {
		if i := e.allow.matchExplicit(d, class); i >= 0 {
			r := &e.allow.rules[i]
			dec.Rule, dec.Reason = r.name, r.reason
			return dec
		}
		return deny("", classReason(class))
	}
	if i := e.allow.match(d.IP, d.Port, d.Host, d.Scheme); i >= 0 {
		r := &e.allow.rules[i]
		dec.Rule, dec.Reason = r.name, r.reason
		return dec
	}
	if !e.defaultAllow {
		return deny("", reasonNotAllowed)
	}
	dec.Reason = reasonDefault
	return dec
}

// matchExplicit returns the first cidr rule that names d, of an
// always-denied class, explicitly (see Decide), or -1.
func (rs *egressRules) matchExplicit(d *EgressDest, class EgressClass) int32 {
	bits := classPrefixBits(class, d.IP)
	for _, i := range rs.cidrs {
		r := &rs.rules[i]
		if r.prefix.Bits() < bits || !r.prefix.Contains(d.IP) || !r.restrictionsMatch(d.Port, d.Scheme) {
			continue
		}
		if class == ClassLambdaAPI && !slices.Contains(r.ports, d.Port) {
			continue
		}
		return i
	}
	return -1
}

func classReason(c EgressClass) string {
	switch c {
	case ClassMetadata:
		return reasonMetadata
	case ClassLinkLocal:
		return reasonLinkLocal
	case ClassUnspecified:
		return reasonUnspecified
	case ClassLambdaAPI:
		return reasonLambdaAPI
	}
	return reasonNotAllowed
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// egressCacheSize is the number of slots of the decision cache (a power
// of two). A slot holds one destination; a colliding destination replaces
// it, so memory stays bounded whatever the traffic.
const egressCacheSize = 1024

// egressCache is a direct-mapped, lock-free decision cache.
type egressCache struct {
	slots [egressCacheSize]atomic.Pointer[egressEntry]
}

type egressEntry struct {
	key EgressDest
	dec EgressDecision
}

func newEgressCache() *egressCache { return &egressCache{} }

func (c *egressCache) get(h uint64, d *EgressDest) (EgressDecision, bool) {
	e := c.slots[h&(egressCacheSize-1)].Load()
	if e == nil || e.key != *d {
		return EgressDecision{}, false
	}
	return e.dec, true
}

func (c *egressCache) put(h uint64, d *EgressDest, dec EgressDecision) {
	if len(d.Host) > 253 || len(d.Scheme) > 32 {
		return // not a valid name; do not let it displace real entries
	}
	c.slots[h&(egressCacheSize-1)].Store(&egressEntry{key: *d, dec: dec})
}

// hash is FNV-1a over the destination's fields.
func (d *EgressDest) hash() uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	b := d.IP.As16()
	for _, c := range b {
		h = (h ^ uint64(c)) * prime
	}
	if d.IP.Is4() {
		h = (h ^ 4) * prime
	}
	h = (h ^ uint64(d.Port)) * prime
	for i := 0; i < len(d.Host); i++ {
		h = (h ^ uint64(d.Host[i])) * prime
	}
	h = (h ^ 0xff) * prime
	for i := 0; i < len(d.Scheme); i++ {
		h = (h ^ uint64(d.Scheme[i])) * prime
	}
	h = (h ^ uint64(d.LambdaAPI.Port())) * prime
	b = d.LambdaAPI.Addr().As16()
	for _, c := range b[12:] {
		h = (h ^ uint64(c)) * prime
	}
	return h
}

// EgressExcerpt returns the redacted excerpt of value around
// value[start:end] that egress events carry (digit runs masked, cut
// short), for an input that steers an outbound call.
func EgressExcerpt(value string, start, end int) string {
	return excerpt(value, start, end)
}
