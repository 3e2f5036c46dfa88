package rasp

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
)

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
// must not. Protect replaces AWS_LAMBDA_RUNTIME_API with a random alias
// that only the dials of http.DefaultTransport and its clones map back
// (see the package's egress notes); every guard refuses the real address.
// Call Protect before lambda.Start ([Start] does).
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
	aliasRuntimeAPI()
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
	unaliasRuntimeAPI()
}
