package rasp

// Egress guard: outbound connections decided on the address actually
// dialled, and SSRF correlation at the HTTP level.
//
// The decision happens in the dialer's control hook, after DNS
// resolution and before connect(2), so a refused connection sends no
// packet, and neither an odd IP spelling nor DNS rebinding can change the
// address between the check and the connection.
//
// # The Lambda Runtime API
//
// aws-lambda-go's runtime client is built inside lambda.Start from a clone
// of http.DefaultTransport (with Proxy set to nil), so after [Protect] it
// dials through the guard too, and it must keep reaching
// AWS_LAMBDA_RUNTIME_API while customer code must not: an SSRF to
// http://127.0.0.1:9001/2018-06-01/runtime/invocation/next would steal the
// next event. The guard tells them apart this way:
//
//   - every guard but one refuses the Lambda API ([Transport],
//     [HTTPClient], [DialContext], [Dialer], and http.DefaultClient after
//     [Protect]) unless the policy allows it explicitly;
//   - http.DefaultTransport after [Protect] (and clones of it, such as the
//     runtime client's) lets a dial reach the Lambda API only when the
//     address is dialled exactly as AWS_LAMBDA_RUNTIME_API spells it, the
//     dial's context carries no invocation (the runtime client uses its
//     own background context, handlers get the invocation's) and no mark
//     of a customer-facing guard;
//   - http.DefaultTransport's Proxy hook, which the runtime client's clone
//     drops, refuses requests to the Lambda API at the HTTP level unless
//     they carry aws-lambda-go's User-Agent outside any invocation, so
//     http.Get and (&http.Client{}).Get of the runtime URL fail even with
//     a background context.
//
// What remains: code that clones http.DefaultTransport itself, sets its
// Proxy to nil (as the runtime client does) and sends a request to the
// literal AWS_LAMBDA_RUNTIME_API address with a context not derived from
// the invocation is indistinguishable from the runtime client and is let
// through. An SSRF rarely has that shape: the URL comes from the
// invocation, and so usually does the context.

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
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

const (
	// envRuntimeAPI is the Lambda Runtime API address, host:port.
	envRuntimeAPI = "AWS_LAMBDA_RUNTIME_API"
	// runtimeUserAgent prefixes the User-Agent of aws-lambda-go's runtime
	// client.
	runtimeUserAgent = "aws-lambda-go/"
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

// apiAddr is a parsed AWS_LAMBDA_RUNTIME_API.
type apiAddr struct {
	raw string
	ap  netip.AddrPort
}

var apiCache atomic.Pointer[apiAddr]

// lambdaAPI returns AWS_LAMBDA_RUNTIME_API as set ("" outside Lambda) and
// its address. A host name ("localhost:9001") stands for 127.0.0.1.
func lambdaAPI() (string, netip.AddrPort) {
	raw := os.Getenv(envRuntimeAPI)
	if c := apiCache.Load(); c != nil && c.raw == raw {
		return c.raw, c.ap
	}
	c := &apiAddr{raw: raw, ap: parseAPIAddr(raw)}
	apiCache.Store(c)
	return c.raw, c.ap
}

// parseAPIAddr parses host:port; a host name is taken as 127.0.0.1. It
// returns the zero AddrPort when s is not host:port with a valid port.
func parseAPIAddr(s string) netip.AddrPort {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return netip.AddrPort{}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	return netip.AddrPortFrom(ip.WithZone(""), uint16(p))
}

// egressCall is what an HTTP-level guard tells the dial about the request
// it serves. It travels in the request's context.
type egressCall struct {
	scheme  string       // URL scheme, lower case
	urlHost string       // URL host name, lower case
	input   *rules.Field // a request input that steers the URL, or nil
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
	raw, api := lambdaAPI()
	if tolerant && !di.strict && di.addr != "" && strings.EqualFold(di.addr, raw) && !inInvocation(ctx) &&
		rules.ClassifyAddr(ip, port, api) == rules.ClassLambdaAPI {
		return nil // the runtime client
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

func inInvocation(ctx context.Context) bool {
	_, ok := FromContext(ctx)
	return ok
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
	return rt.RoundTrip(req.WithContext(context.WithValue(req.Context(), egressCallKey{}, call)))
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
	call.input = steeringInput(ctx, u, call.urlHost)
	raw, api := lambdaAPI()
	runtimeClient := !strict && raw != "" && strings.EqualFold(u.Host, raw) && !inInvocation(ctx) &&
		strings.HasPrefix(req.Header.Get("User-Agent"), runtimeUserAgent)

	if ip, err := netip.ParseAddr(call.urlHost); err == nil {
		class := rules.ClassifyAddr(ip, port, api)
		if runtimeClient && class == rules.ClassLambdaAPI {
			return call, nil
		}
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
	if resolve && !runtimeClient && api.IsValid() && port == api.Port() && strings.EqualFold(u.Host, raw) {
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
func steeringInput(ctx context.Context, u *url.URL, host string) *rules.Field {
	inv, ok := FromContext(ctx)
	if !ok || len(inv.Inputs) == 0 {
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

// indexFold is strings.Index ignoring case, without allocating. It runs
// on every input of the invocation for every outbound request, so it
// skips to candidates of sub's first byte (either case) with IndexByte:
// for an ASCII sub, a window of s that folds to it starts with that byte
// (a non-ASCII rune folding to an ASCII one is longer, so the window
// could not have sub's byte length).
func indexFold(s, sub string) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	c := sub[0]
	if c >= utf8.RuneSelf {
		for i := 0; i+n <= len(s); i++ {
			if strings.EqualFold(s[i:i+n], sub) {
				return i
			}
		}
		return -1
	}
	lower, upper := c|0x20, c&^0x20
	if !('a' <= lower && lower <= 'z') {
		lower, upper = c, c
	}
	for i := 0; i+n <= len(s); {
		j := firstOf(s[i:len(s)-n+1], lower, upper)
		if j < 0 {
			return -1
		}
		i += j
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
		i++
	}
	return -1
}

// firstOf is the index of the first a or b in s, or -1.
func firstOf(s string, a, b byte) int {
	i := strings.IndexByte(s, a)
	if a == b {
		return i
	}
	if i >= 0 {
		s = s[:i] // b only matters before the first a
	}
	if j := strings.IndexByte(s, b); j >= 0 {
		return j
	}
	return i
}

// protected is what Protect installed.
type protected struct {
	orig    *http.Transport   // http.DefaultTransport before Protect
	t       *http.Transport   // the guarded http.DefaultTransport
	stdDial bool              // orig dialled with the standard dialer
	client  http.RoundTripper // http.DefaultClient.Transport before Protect
}

var (
	protectMu        sync.Mutex
	protectedDefault atomic.Pointer[protected]
	sharedTransport  = sync.OnceValue(func() http.RoundTripper { return Transport(nil) })
)

// HTTPClient returns a new *http.Client whose transport is the shared
// [Transport] with http.DefaultTransport's settings. Build clients at init
// and reuse them; each shares one connection pool. With the AWS SDK for
// Go v2: config.WithHTTPClient(rasp.HTTPClient()).
func HTTPClient() *http.Client {
	return &http.Client{Transport: sharedTransport()}
}

// Protect installs the egress guard process-wide, for code that uses the
// default client or transport (http.Get, &http.Client{}, and libraries
// that clone http.DefaultTransport):
//
//   - http.DefaultTransport stays an *http.Transport (aws-lambda-go clones
//     it for its runtime client) and becomes a guarded clone of itself:
//     its dials are decided on the resolved address, and its Proxy hook
//     checks address-literal hosts, input-steered host names (by looking
//     them up) and requests to the Lambda API;
//   - http.DefaultClient's transport becomes a [Transport], which also
//     enforces scheme rules and refuses the Lambda API outright.
//
// Dials of http.DefaultTransport know the host name but not the URL's
// scheme, so scheme restrictions of the policy apply through
// http.DefaultClient, [HTTPClient] and [Transport] only.
//
// The Lambda Runtime API: aws-lambda-go builds its runtime client in
// lambda.Start from a clone of http.DefaultTransport with no proxy, so
// that clone must still reach AWS_LAMBDA_RUNTIME_API while customer code
// must not. Every guard refuses the Lambda API except the dials of
// http.DefaultTransport and its clones, which let it through only when
// the address is dialled exactly as AWS_LAMBDA_RUNTIME_API spells it,
// from a context without an invocation or a customer-facing guard's mark;
// and the Proxy hook of http.DefaultTransport (which the runtime clone
// drops) refuses requests to the Lambda API without aws-lambda-go's
// User-Agent or from within an invocation. Residual limit: code that
// clones http.DefaultTransport itself, sets its Proxy to nil and requests
// the literal runtime address with a context not derived from the
// invocation passes, as the runtime client does.
//
// Local agents are destinations like any other: under the embedded
// default policy, which denies loopback, allow the ones the function uses
// (AppConfig on 127.0.0.1:2772, Parameters and Secrets on :2773, an
// OpenTelemetry collector on :4318) with a cidr rule and their ports.
//
// Protect does not load a policy. Until the first [Protector] is built
// (by [Start], [Wrap] or [New]), only the always-denied destinations are
// refused: metadata, link-local and unspecified addresses and the Lambda
// API. Call Protect at the top of main, before anything clones
// http.DefaultTransport; calling it again does nothing. When
// http.DefaultTransport is not an *http.Transport (another library
// replaced it), Protect leaves it alone and guards http.DefaultClient only.
func Protect() {
	protectMu.Lock()
	defer protectMu.Unlock()
	if protectedDefault.Load() != nil {
		return
	}
	if _, ok := http.DefaultClient.Transport.(*guardedTransport); ok {
		return
	}
	orig, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		if http.DefaultClient.Transport == nil {
			http.DefaultClient.Transport = Transport(http.DefaultTransport)
		}
		return
	}
	p := &protected{orig: orig, stdDial: orig == stdDefaultTransport || (orig.DialContext == nil && orig.Dial == nil), client: http.DefaultClient.Transport}
	t := guardTransport(orig, true)
	proxy := orig.Proxy
	t.Proxy = func(req *http.Request) (*url.URL, error) {
		if _, err := checkRequest(req, false, true); err != nil {
			return nil, err
		}
		if proxy == nil {
			return nil, nil
		}
		return proxy(req)
	}
	p.t = t
	protectedDefault.Store(p)
	if http.DefaultClient.Transport == nil || http.DefaultClient.Transport == http.DefaultTransport {
		http.DefaultClient.Transport = Transport(orig)
	} else {
		http.DefaultClient.Transport = Transport(http.DefaultClient.Transport)
	}
	http.DefaultTransport = t
}

// unprotect undoes Protect, for tests.
func unprotect() {
	protectMu.Lock()
	defer protectMu.Unlock()
	p := protectedDefault.Swap(nil)
	if p == nil {
		return
	}
	http.DefaultTransport = p.orig
	http.DefaultClient.Transport = p.client
}
