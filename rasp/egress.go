package rasp

// Egress guard: outbound connections decided on the address actually
// dialled, and SSRF correlation at the HTTP level.
//
// The decision happens in the dialer's control hook, after DNS
// resolution and before connect(2), so a refused connection sends no
// packet, and neither an odd IP spelling nor DNS rebinding can change the
// address between the check and the connection.

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

const (
	// envRuntimeAPI is the Lambda Runtime API address, host:port.
	envRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"
	// minSteeringInput is the shortest input considered to steer a URL.
	minSteeringInput = 3
	// resolveTimeout bounds the lookup the Proxy hook of
	// http.DefaultTransport makes for input-steered host names.
	resolveTimeout = 5 * time.Second
)

// stdDefaultTransport is http.DefaultTransport as the process started,
// before anything replaced it: its dial function is the standard one.
var stdDefaultTransport = http.DefaultTransport

// baselineEgress decides before any policy is loaded (see guardEgress).
var baselineEgress = sync.OnceValue(rules.BaselineEgress)

// egressCall is what an HTTP-level guard tells the dial about the request
// it serves. It travels in the request's context.
type egressCall struct {
	scheme  string       // URL scheme, lower case
	urlHost string       // URL host name, lower case
	input   *rules.Field // a request input that steers the URL, or nil
	// from is the invocation input came from when the request's context
	// carries none (see steeringInput), so the dial reports under it.
	from *Invocation
	// checked is the literal destination the HTTP level already decided.
	checked netip.AddrPort
	// strict marks a customer-facing guard: never the Lambda API.
	strict bool
}

type egressCallKey struct{}

func callFrom(ctx context.Context) *egressCall {
	c, _ := ctx.Value(egressCallKey{}).(*egressCall)
	return c
}

// dialInfo is what the guarded dial function tells its control hook.
type dialInfo struct {
	addr    string // the address as given to DialContext
	host    string // its host when a name, lower case; "" for an address
	scheme  string
	input   *rules.Field
	checked netip.AddrPort
	strict  bool
	// runtime marks a dial of the runtime alias by http.DefaultTransport
	// or a clone of it: aws-lambda-go's own client.
	runtime bool
}

type dialInfoKey struct{}

// guardEgress returns the egress policy for ctx, the guard that reports
// its events (nil before any Protector exists) and whether to check at
// all. Before any [Protector] is built (init code, a policy fetched from
// a URL) the baseline applies: only the metadata service, link-local and
// unspecified addresses and the Lambda API are refused, silently, unless
// LAMBDA_RASP_MODE is monitor or off. Loopback and private destinations
// stay reachable then, so init code may fetch the policy from the AppConfig
// agent or open a database in the VPC.
func guardEgress(ctx context.Context) (*rules.Egress, *guard, bool) {
	if g := guardFor(ctx); g != nil {
		eg := g.engine.Egress()
		if eg == nil || eg.Mode() == rules.ModeOff {
			return nil, nil, false
		}
		return eg, g, true
	}
	if m, err := policy.ParseMode(os.Getenv(policy.EnvMode)); err == nil && m != rules.ModeBlock {
		return nil, nil, false // an invalid value stops the Protector's init; until then, the baseline
	}
	return baselineEgress(), nil, true
}

// checkDest decides on one destination. tolerant says that the caller may
// be aws-lambda-go's runtime client (http.DefaultTransport after Protect).
// It reports the event and returns a *BlockedError when the call must
// fail.
func checkDest(ctx context.Context, ip netip.Addr, port uint16, di *dialInfo, tolerant bool) (err error) {
	defer recoverEgress(ctx, netip.AddrPortFrom(ip, port), &err)
	eg, g, ok := guardEgress(ctx)
	if !ok {
		return nil
	}
	if di == nil {
		di = &dialInfo{strict: true}
	}
	_, api := lambdaAPI()
	if tolerant && di.runtime && rules.ClassifyAddr(ip, port, api) == rules.ClassLambdaAPI {
		return nil // the runtime client, which alone knows the alias
	}
	dec := eg.Decide(rules.EgressDest{IP: ip, Port: port, Host: di.host, Scheme: di.scheme, LambdaAPI: api})
	if quietAllow(dec, g, di.input) {
		return nil
	}
	dest := di.host
	if dest == "" {
		dest = ip.WithZone("").String()
	}
	dest = net.JoinHostPort(dest, strconv.Itoa(int(port)))
	return decideEgress(ctx, eg, g, dec, dest, di.input)
}

// quietAllow reports whether dec needs neither an event nor an error: a
// repeated allow that no input steers.
func quietAllow(dec rules.EgressDecision, g *guard, input *rules.Field) bool {
	return input == nil && !dec.Denied() && (dec.Cached || g == nil)
}

// decideEgress reports dec (and an SSRF when input steers a call to a
// non-public or denied destination) and returns the call's error.
func decideEgress(ctx context.Context, eg *rules.Egress, g *guard, dec rules.EgressDecision, dest string, input *rules.Field) error {
	c := sinkCheck{Sink: sinkEgress, Dest: dest, Class: dec.Class.String()}
	switch {
	case input != nil && (dec.Class != rules.ClassPublic || dec.Denied()):
		c.Action = rules.ActionBlock
		if eg.Mode() == rules.ModeMonitor {
			c.Action = rules.ActionMonitor
		}
		c.RuleID, c.Category, c.Input = rules.RuleSSRFSink, sinkCategory(rules.RuleSSRFSink), input
		c.Reason = "request input " + input.Path + " steers the URL to a " + dec.Class.String() + " destination"
		if dec.Denied() {
			c.Reason += " (" + dec.Reason + ")"
		}
		c.Excerpt = inputExcerpt(input, dest)
	case dec.Denied():
		c.Action, c.RuleID, c.Category, c.Reason = dec.Action, dec.RuleID, sinkCategory(rules.RuleEgressDeny), dec.Reason
	case !dec.Cached && g != nil:
		// The first allow of a destination feeds egress_total.
		c.Action, c.Reason = rules.ActionAllow, dec.Reason
		_ = reportSink(ctx, g, &c)
		return nil
	default:
		return nil
	}
	if g == nil { // the baseline: no events, but refusals still fail
		if c.Action != rules.ActionBlock {
			return nil
		}
		inv, _ := FromContext(ctx)
		return c.blocked(inv)
	}
	return reportSink(ctx, g, &c)
}

// recoverEgress turns a panic in an egress check (dials run on their own
// goroutines, where a panic would end the process) into what the policy's
// on_error asks for: a refusal when it says block, else the call goes on.
// Without a Protector (the baseline) the call goes on. dest, when valid,
// names the destination in the refusal.
func recoverEgress(ctx context.Context, dest netip.AddrPort, err *error) {
	if recover() == nil {
		return
	}
	*err = nil
	if g := guardFor(ctx); g != nil && g.engine.OnError() == rules.ActionBlock {
		d := ""
		if dest.IsValid() {
			d = dest.String()
		}
		*err = egressRefusal(d, "egress check failed")
	}
}

// egressRefusal is a refusal that no policy rule decided: a dial whose
// address cannot be read (the guard fails closed), or a failed check.
func egressRefusal(dest, reason string) *BlockedError {
	c := sinkCheck{Sink: sinkEgress, Dest: dest, Reason: reason, RuleID: rules.RuleEgressDeny, Category: sinkCategory(rules.RuleEgressDeny)}
	return c.blocked(nil)
}

// inputExcerpt is a redacted excerpt of input around the destination's
// host.
func inputExcerpt(in *rules.Field, dest string) string {
	host, _, err := net.SplitHostPort(dest)
	if err != nil {
		host = dest
	}
	i := indexFold(in.Value, host)
	if i < 0 {
		return rules.EgressExcerpt(in.Value, 0, 0)
	}
	return rules.EgressExcerpt(in.Value, i, i+len(host))
}

// egressControl is the control hook of guarded dialers: it decides on
// the address about to be connected.
func egressControl(tolerant bool) func(ctx context.Context, network, address string, c syscall.RawConn) error {
	return func(ctx context.Context, network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			// Control runs for IP networks only; fail closed.
			return egressRefusal(address, "unreadable address")
		}
		di, _ := ctx.Value(dialInfoKey{}).(*dialInfo)
		if di != nil && di.checked.IsValid() && di.checked == netip.AddrPortFrom(ap.Addr().WithZone("").Unmap(), ap.Port()) {
			return nil // decided at the HTTP level
		}
		return checkDest(ctx, ap.Addr(), ap.Port(), di, tolerant)
	}
}

// guardDialer returns a copy of d (a new one when nil) whose control hook
// checks every connection, before any existing hook of d.
func guardDialer(d *net.Dialer, tolerant bool) *net.Dialer {
	var nd net.Dialer
	if d != nil {
		nd = *d
	}
	check := egressControl(tolerant)
	prevCtx, prev := nd.ControlContext, nd.Control
	nd.Control = nil
	nd.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if err := check(ctx, network, address, c); err != nil {
			return err
		}
		switch {
		case prevCtx != nil:
			return prevCtx(ctx, network, address, c)
		case prev != nil:
			return prev(network, address, c)
		}
		return nil
	}
	return &nd
}

// withDialInfo returns ctx carrying what the control hook needs to know
// about a dial of addr.
func withDialInfo(ctx context.Context, addr string, strict bool) context.Context {
	di := &dialInfo{addr: addr, strict: strict}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if _, err := netip.ParseAddr(host); err != nil {
		di.host = strings.ToLower(strings.TrimSuffix(host, "."))
	}
	if c := callFrom(ctx); c != nil {
		di.strict = di.strict || c.strict
		// Through a proxy the dial goes to the proxy, not the URL's host:
		// the URL's scheme and input do not apply to it.
		if strings.EqualFold(strings.Trim(host, "[]"), c.urlHost) {
			di.scheme, di.input, di.checked = c.scheme, c.input, c.checked
		}
	}
	return context.WithValue(ctx, dialInfoKey{}, di)
}

// dialFunc returns a DialContext function dialling with d's guarded copy.
func dialFunc(d *net.Dialer, tolerant bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	gd := guardDialer(d, tolerant)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if tolerant {
			if real, ok := runtimeDial(addr); ok {
				ctx = withDialInfo(ctx, real, false)
				ctx.Value(dialInfoKey{}).(*dialInfo).runtime = true
				return gd.DialContext(ctx, network, real)
			}
		}
		return gd.DialContext(withDialInfo(ctx, addr, !tolerant), network, addr)
	}
}

// checkedDial wraps a dial function the guard cannot hook (a custom
// DialContext or DialTLSContext of a transport): the connection's remote
// address is checked once connected, before the caller can write to it.
// The TCP handshake (and a custom TLS handshake) has reached the
// destination by then, but no request byte has.
func checkedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error), tolerant bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx = withDialInfo(ctx, addr, !tolerant)
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		ap, ok := remoteAddrPort(conn)
		var cerr error
		if !ok {
			cerr = egressRefusal(addr, "unreadable remote address")
		} else {
			di, _ := ctx.Value(dialInfoKey{}).(*dialInfo)
			cerr = checkDest(ctx, ap.Addr(), ap.Port(), di, tolerant)
		}
		if cerr != nil {
			_ = conn.Close()
			return nil, &net.OpError{Op: "dial", Net: network, Addr: conn.RemoteAddr(), Err: cerr}
		}
		return conn, nil
	}
}

func remoteAddrPort(c net.Conn) (netip.AddrPort, bool) {
	switch a := c.RemoteAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort(), true
	case *net.UDPAddr:
		return a.AddrPort(), true
	case nil:
		return netip.AddrPort{}, false
	}
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap, err == nil
}

// defaultDialer has http.DefaultTransport's dial settings.
func defaultDialer() *net.Dialer {
	return &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
}

var stdDial = sync.OnceValue(func() func(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialFunc(defaultDialer(), false)
})

// DialContext dials like a net.Dialer with http.DefaultTransport's
// settings, refusing destinations the egress policy denies: the check runs
// on each address the name resolves to, just before it is connected, so a
// refused destination gets no packet. Host rules of the policy match the
// name in addr. A refusal is a *[BlockedError] (Sink "egress") inside the
// *net.OpError, for errors.As. The Lambda Runtime API is always refused
// unless the policy allows it explicitly. It suits any client that takes
// a dial function (database drivers, gRPC, Redis):
//
//	grpc.WithContextDialer(rasp.DialContext)
//
// Do not use it as a net.Resolver's Dial: Lambda's DNS server has a
// link-local address, which the guard refuses.
func DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return stdDial()(ctx, network, addr)
}

// Dialer returns a copy of d (a default dialer when d is nil) whose
// ControlContext checks each address before it is connected, then calls
// d's own ControlContext (or Control), if any. A refusal is a
// *[BlockedError] inside the *net.OpError.
//
// A *net.Dialer's control hook sees only the resolved address, not the
// name that was dialled, so host rules of the policy do not apply to its
// dials (cidr rules, the destination classes and the default do); prefer
// [DialContext] or [Transport], which pass the name along, under a policy
// that allows by host name.
func Dialer(d *net.Dialer) *net.Dialer {
	return guardDialer(d, false)
}

// Transport returns a RoundTripper that refuses requests the egress policy
// denies and requests a request input steers inward (SSRF).
//
// When base is an *http.Transport (or nil, for http.DefaultTransport's
// settings), its clone dials through the guard: the decision is made on
// the resolved address, in the dialer's control hook, with the URL's host
// name and scheme, so host, port, scheme and cidr rules all apply and DNS
// rebinding cannot pass. A base with its own DialContext or DialTLSContext
// keeps it; the connection's remote address is then checked as soon as
// it is connected, before any request byte is written.
//
// SSRF: when an input of the current invocation (see [FromContext]; at
// least 3 bytes) contains the URL's host name, begins with its scheme, or
// is its port, and the destination is not public or is denied, the
// request fails with rule "ssrf-sink" naming that input, even when the
// policy allows the destination. Such requests never reuse a pooled
// connection, so every one of them is checked on a fresh dial.
//
// Through a proxy (HTTPS_PROXY), the dial goes to the proxy: the proxy's
// address is checked, and the URL's host only by name (host rules) and,
// when it is an address literal, by address. When base is another
// RoundTripper, the guard cannot reach its dials: only URL hosts that are
// address literals are checked, and the Lambda API by name; wrap the
// transport underneath instead.
//
// Refusals are a *[BlockedError] (Sink "egress"), inside the *url.Error
// that http.Client returns; no connection is made.
func Transport(base http.RoundTripper) http.RoundTripper {
	if _, ok := base.(*guardedTransport); ok {
		return base
	}
	t := &guardedTransport{}
	ht, ok := base.(*http.Transport)
	if base == nil {
		ht, ok = baseHTTPTransport(), true
	}
	if !ok {
		t.inner = base
		return t
	}
	t.inner = guardTransport(ht, false)
	t.hooked = true
	fresh := guardTransport(ht, false)
	fresh.DisableKeepAlives = true
	t.fresh = fresh
	return t
}

// baseHTTPTransport returns a transport with http.DefaultTransport's
// settings: a clone of it when it is an *http.Transport.
func baseHTTPTransport() *http.Transport {
	if p := protectedDefault.Load(); p != nil {
		return p.orig
	}
	if ht, ok := http.DefaultTransport.(*http.Transport); ok {
		return ht
	}
	if ht, ok := stdDefaultTransport.(*http.Transport); ok {
		return ht
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true}
}

// guardTransport returns a clone of ht whose dials go through the guard.
func guardTransport(ht *http.Transport, tolerant bool) *http.Transport {
	nt := ht.Clone()
	std := ht == stdDefaultTransport || (nt.DialContext == nil && nt.Dial == nil)
	if p := protectedDefault.Load(); p != nil && (ht == p.orig || ht == p.t) {
		std = p.stdDial
		// The Proxy hook of the protected default is not needed (nor
		// wanted: it would report twice) under the strict check.
		nt.Proxy = p.orig.Proxy
	}
	switch {
	case std:
		nt.Dial = nil
		nt.DialContext = dialFunc(defaultDialer(), tolerant)
	case nt.DialContext != nil:
		nt.DialContext = checkedDial(nt.DialContext, tolerant)
		nt.Dial = nil
	default:
		dial := nt.Dial
		nt.DialContext = checkedDial(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }, tolerant)
		nt.Dial = nil
	}
	if nt.DialTLSContext != nil {
		nt.DialTLSContext = checkedDial(nt.DialTLSContext, tolerant)
		nt.DialTLS = nil
	} else if nt.DialTLS != nil {
		dial := nt.DialTLS
		nt.DialTLSContext = checkedDial(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }, tolerant)
		nt.DialTLS = nil
	}
	return nt
}

// guardedTransport is the RoundTripper of [Transport].
type guardedTransport struct {
	inner  http.RoundTripper
	hooked bool // inner dials through the guard
	// fresh is inner without keep-alives, for input-steered requests:
	// each gets its own dial, hence its own check. Nil when not hooked.
	fresh http.RoundTripper
}

// RoundTrip checks req, then sends it with the guarded transport.
func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	call, err := checkRequest(req, true, !t.hooked)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	if call == nil {
		return t.inner.RoundTrip(req)
	}
	rt := t.inner
	if call.input != nil && t.fresh != nil {
		rt = t.fresh
	}
	ctx := req.Context()
	if call.from != nil {
		ctx = newContext(ctx, call.from)
	}
	return rt.RoundTrip(req.WithContext(context.WithValue(ctx, egressCallKey{}, call)))
}

// CloseIdleConnections closes the idle connections of the transports
// underneath.
func (t *guardedTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.inner.(closer); ok {
		c.CloseIdleConnections()
	}
	if c, ok := t.fresh.(closer); ok {
		c.CloseIdleConnections()
	}
}

// checkRequest is the HTTP-level check. strict is false only for the Proxy
// hook of http.DefaultTransport, where the runtime client may pass; resolve
// asks to look up input-steered host names here because no dial-level
// check will see the input (the Proxy hook, or a base the guard cannot
// hook). It returns what the dial needs to know, or nil when the guard
// is off.
func checkRequest(req *http.Request, strict, resolve bool) (_ *egressCall, err error) {
	ctx := req.Context()
	defer recoverEgress(ctx, netip.AddrPort{}, &err)
	eg, g, ok := guardEgress(ctx)
	if !ok || req.URL == nil {
		return nil, nil
	}
	u := req.URL
	call := &egressCall{scheme: strings.ToLower(u.Scheme), urlHost: strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), strict: strict}
	port := portOf(u)
	var from *Invocation
	call.input, from = steeringInput(ctx, u, call.urlHost)
	if from != nil {
		// Decided and reported as part of the invocation whose input
		// chose the destination.
		ctx = newContext(ctx, from)
		call.from = from
	}
	raw, api := lambdaAPI()
	if !strict && isRuntimeAlias(u.Host) {
		return call, nil // the runtime client; its dial maps the alias
	}

	if ip, err := netip.ParseAddr(call.urlHost); err == nil {
		class := rules.ClassifyAddr(ip, port, api)
		if !strict && call.input == nil && class != rules.ClassLambdaAPI {
			// The dial decides, with the same address.
			return call, nil
		}
		dec := eg.Decide(rules.EgressDest{IP: ip, Port: port, Scheme: call.scheme, LambdaAPI: api})
		if !quietAllow(dec, g, call.input) {
			dest := net.JoinHostPort(u.Hostname(), strconv.Itoa(int(port)))
			if err := decideEgress(ctx, eg, g, dec, dest, call.input); err != nil {
				return nil, err
			}
		}
		if strict {
			call.checked = netip.AddrPortFrom(ip.WithZone("").Unmap(), port)
		}
		return call, nil
	}
	if call.urlHost == "" {
		return call, nil
	}
	// A name. The dial decides on its addresses; a name that stands for
	// the Lambda API is refused here wherever no guarded dial follows
	// (resolve: the Proxy hook, whose dial lets the exact
	// AWS_LAMBDA_RUNTIME_API spelling through, and foreign base
	// RoundTrippers, whose dial is not ours).
	if resolve && api.IsValid() && port == api.Port() && strings.EqualFold(u.Host, raw) {
		dec := eg.Decide(rules.EgressDest{IP: api.Addr(), Port: port, Host: call.urlHost, Scheme: call.scheme, LambdaAPI: api})
		if err := decideEgress(ctx, eg, g, dec, net.JoinHostPort(u.Hostname(), strconv.Itoa(int(port))), call.input); err != nil {
			return nil, err
		}
	}
	if resolve && call.input != nil {
		if err := checkResolved(ctx, eg, g, call, port, api); err != nil {
			return nil, err
		}
	}
	return call, nil
}

// checkResolved looks up an input-steered host name and decides on each
// address. The dial may see other addresses (DNS rebinding); its own
// policy check still applies, only the SSRF verdict comes from here.
func checkResolved(ctx context.Context, eg *rules.Egress, g *guard, call *egressCall, port uint16, api netip.AddrPort) error {
	lctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(lctx, "ip", call.urlHost)
	if err != nil {
		return nil // the dial fails the same way
	}
	dest := net.JoinHostPort(call.urlHost, strconv.Itoa(int(port)))
	for _, ip := range ips {
		dec := eg.Decide(rules.EgressDest{IP: ip, Port: port, Host: call.urlHost, Scheme: call.scheme, LambdaAPI: api})
		if dec.Class == rules.ClassPublic && !dec.Denied() {
			continue
		}
		return decideEgress(ctx, eg, g, dec, dest, call.input)
	}
	return nil
}

// portOf returns the URL's port, or its scheme's default.
func portOf(u *url.URL) uint16 {
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err == nil {
			return uint16(n)
		}
		return 0
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "wss":
		return 443
	case "ftp":
		return 21
	}
	return 80
}

// steeringInput returns the first input of the invocation in ctx that
// steers u: it contains the host name, the URL begins with it (from
// "scheme://" on), or it is the explicit port. Inputs shorter than 3 bytes are
// ignored.
//
// A request without an invocation in ctx (http.Get with a client built at
// init, a goroutine's context.Background()) is matched against the inputs
// of every invocation in flight in the process — one in classic mode,
// several on Lambda Managed Instances — and the invocation whose input
// chose the destination is returned with it (nil when ctx carries the
// invocation), so the refusal is reported under that invocation and no
// other.
func steeringInput(ctx context.Context, u *url.URL, host string) (*rules.Field, *Invocation) {
	if inv, ok := FromContext(ctx); ok {
		return steeringField(inv, u, host), nil // ctx already names it
	}
	g := processGuard.Load()
	if g == nil {
		return nil, nil
	}
	var (
		field *rules.Field
		from  *Invocation
	)
	g.inflight.each(func(inv *Invocation) bool {
		if f := steeringField(inv, u, host); f != nil {
			field, from = f, inv
			return false
		}
		return true
	})
	return field, from
}

// steeringField returns the input of inv that chose u's destination, or
// nil.
func steeringField(inv *Invocation, u *url.URL, host string) *rules.Field {
	if len(inv.Inputs) == 0 {
		return nil
	}
	port := u.Port()
	urlStr := ""
	for i := range inv.Inputs {
		f := &inv.Inputs[i]
		v := f.Value
		if len(v) < minSteeringInput {
			continue
		}
		switch {
		case len(host) >= minSteeringInput && indexFold(v, host) >= 0,
			len(port) >= minSteeringInput && strings.TrimSpace(v) == port:
			return f
		case u.Scheme != "" && len(v) >= len(u.Scheme)+3 && strings.EqualFold(v[:len(u.Scheme)], u.Scheme) && v[len(u.Scheme):len(u.Scheme)+3] == "://":
			if urlStr == "" {
				urlStr = u.String()
			}
			if len(urlStr) >= len(v) && strings.EqualFold(urlStr[:len(v)], v) {
				return f // the URL begins with the input: it chose the scheme
			}
		}
	}
	return nil
}

// HTTPClient returns a new *http.Client whose transport is the shared
// [Transport] with http.DefaultTransport's settings. Build clients at init
// and reuse them; each shares one connection pool. With the AWS SDK for
// Go v2: config.WithHTTPClient(rasp.HTTPClient()).
func HTTPClient() *http.Client {
	return &http.Client{Transport: sharedTransport()}
}
