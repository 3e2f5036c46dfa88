package rasp

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// benchGet issues GETs to u with c until the benchmark ends.
func benchGet(b *testing.B, ctx context.Context, c *http.Client, u string) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkTransportPlain is the baseline: a keep-alive GET on loopback
// with a plain transport.
func BenchmarkTransportPlain(b *testing.B) {
	srv := newCountingServer(b)
	c := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	benchGet(b, context.Background(), c, srv.url("127.0.0.1"))
}

// BenchmarkTransportAllowed is the same GET through Transport, inside an
// invocation with inputs: the HTTP-level check (SSRF correlation, the
// decision on the address literal) on every request; dials are rare with
// keep-alive.
func BenchmarkTransportAllowed(b *testing.B) {
	srv := newCountingServer(b)
	g, _ := egressGuard(b, "block", loopbackPolicy(srv.port))
	ctx := invocationCtx(g,
		rules.Field{Source: rules.SourceQuery, Path: "query.search", Value: "espresso cup"},
		rules.Field{Source: rules.SourceHeaders, Path: "headers.user-agent", Value: "Mozilla/5.0 (X11; Linux x86_64)"},
	)
	c := &http.Client{Transport: Transport(nil)}
	benchGet(b, ctx, c, srv.url("127.0.0.1"))
}

// BenchmarkTransportAllowedByName is BenchmarkTransportAllowed with a
// host name, which the dial decides.
func BenchmarkTransportAllowedByName(b *testing.B) {
	srv := newCountingServer(b)
	g, _ := egressGuard(b, "block", "  default: allow\n")
	c := &http.Client{Transport: Transport(nil)}
	benchGet(b, invocationCtx(g), c, srv.url("localhost"))
}

// BenchmarkEgressCheckRequest is the HTTP-level check alone.
func BenchmarkEgressCheckRequest(b *testing.B) {
	g, _ := egressGuard(b, "block", "  default: allow\n")
	ctx := invocationCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.search", Value: "espresso cup"})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://52.94.133.131/items", nil)
	checkRequest(req, true, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := checkRequest(req, true, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDialControl is the control hook's check of one address.
func BenchmarkDialControl(b *testing.B) {
	g, _ := egressGuard(b, "block", "  default: allow\n")
	ctx := withDialInfo(invocationCtx(g), "dynamodb.us-east-1.amazonaws.com:443", true)
	ctl := egressControl(false)
	_ = ctl(ctx, "tcp4", "52.94.133.131:443", nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := ctl(ctx, "tcp4", "52.94.133.131:443", nil); err != nil {
			b.Fatal(err)
		}
	}
}
