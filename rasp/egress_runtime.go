package rasp

// # The Lambda Runtime API
//
// aws-lambda-go's runtime client is built inside lambda.Start from a clone
// of http.DefaultTransport (with Proxy set to nil), so after [Protect] it
// dials through the guard too, and it must keep reaching
// AWS_LAMBDA_RUNTIME_API while customer code must not: an SSRF to
// http://127.0.0.1:9001/2018-06-01/runtime/invocation/next would steal the
// next event. No shape of transport, header or context tells the runtime
// client from a copy customer code could make, so the guard tells them
// apart by a name nobody else has:
//
//   - [Protect], which runs before lambda.Start reads
//     AWS_LAMBDA_RUNTIME_API, replaces it with an alias: a random host
//     name under the reserved .invalid domain and the same port. The
//     runtime client (and aws-lambda-go's SIGTERM extension client) build
//     their URLs from it;
//   - the dial function of http.DefaultTransport and its clones maps the
//     alias to the real address, and only a dial of the alias may reach
//     the Lambda API; every guard refuses the real address, however it is
//     spelled, dialled or proxied, unless the policy allows it with an
//     explicit cidr rule. Strict guards ([Transport], [HTTPClient],
//     [DialContext], [Dialer], http.DefaultClient) never map the alias;
//   - the first invocation of a wrapped handler puts the real value back
//     into the environment, so handler code (and a child process) reads
//     the address as usual — and is refused there. The alias lives on only
//     inside aws-lambda-go's client.
//
// Residual: code that reads the environment between Protect and the
// first invocation (init code running after rasp.Start, a goroutine
// started at init) can learn the alias and use it through a clone of
// http.DefaultTransport. An SSRF, whose URL comes from a request, cannot.

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// runtimeAliasState is the alias Protect gave AWS_LAMBDA_RUNTIME_API.
type runtimeAliasState struct {
	alias string // host:port, the host a random name under .invalid
	real  string // the value Lambda set
	// restored is set once the real value is back in the environment.
	restored atomic.Bool
}

var runtimeAlias atomic.Pointer[runtimeAliasState]

// aliasRuntimeAPI replaces AWS_LAMBDA_RUNTIME_API with an alias that only
// the dials of http.DefaultTransport and its clones map back; it does
// nothing outside Lambda, twice, or when the value is not host:port.
func aliasRuntimeAPI() {
	real := os.Getenv(envRuntimeAPI)
	if real == "" || runtimeAlias.Load() != nil {
		return
	}
	_, port, err := net.SplitHostPort(real)
	if err != nil || port == "" {
		return
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return
	}
	a := &runtimeAliasState{alias: net.JoinHostPort("runtime-"+hex.EncodeToString(b[:])+".lambda-rasp.invalid", port), real: real}
	if err := os.Setenv(envRuntimeAPI, a.alias); err != nil {
		return
	}
	runtimeAlias.Store(a)
}

// restoreRuntimeAPI puts the real AWS_LAMBDA_RUNTIME_API back, once, when
// the environment still holds the alias.
func restoreRuntimeAPI() {
	a := runtimeAlias.Load()
	if a == nil || a.restored.Load() || !a.restored.CompareAndSwap(false, true) {
		return
	}
	if os.Getenv(envRuntimeAPI) == a.alias {
		_ = os.Setenv(envRuntimeAPI, a.real)
	}
}

// unaliasRuntimeAPI undoes aliasRuntimeAPI, for tests.
func unaliasRuntimeAPI() {
	if a := runtimeAlias.Swap(nil); a != nil && os.Getenv(envRuntimeAPI) == a.alias {
		_ = os.Setenv(envRuntimeAPI, a.real)
	}
}

// runtimeDial returns the real address and true when addr is the alias.
func runtimeDial(addr string) (string, bool) {
	a := runtimeAlias.Load()
	if a == nil || !strings.EqualFold(addr, a.alias) {
		return addr, false
	}
	return a.real, true
}

// isRuntimeAlias reports whether hostport is the alias.
func isRuntimeAlias(hostport string) bool {
	a := runtimeAlias.Load()
	return a != nil && strings.EqualFold(hostport, a.alias)
}

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
	if a := runtimeAlias.Load(); a != nil && raw == a.alias {
		raw = a.real
	}
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
