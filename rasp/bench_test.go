package rasp

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// typicalV2 is a ~2 KiB API Gateway HTTP API event with a JSON body.
const typicalV2 = `{"version":"2.0","routeKey":"POST /orders","rawPath":"/orders","rawQueryString":"expand=items&lang=en",
"cookies":["session=3f9a1c2b7d","theme=dark"],
"headers":{"accept":"application/json","accept-encoding":"gzip, deflate, br","accept-language":"en-US,en;q=0.9",
"authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl","content-length":"310",
"content-type":"application/json","host":"abc123.execute-api.us-east-1.amazonaws.com",
"user-agent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
"x-amzn-trace-id":"Root=1-5e9f0c65-1de4d666d4dd26aced652b6c","x-forwarded-for":"203.0.113.7","x-forwarded-port":"443","x-forwarded-proto":"https"},
"queryStringParameters":{"expand":"items","lang":"en"},
"requestContext":{"accountId":"123456789012","apiId":"abc123","domainName":"abc123.execute-api.us-east-1.amazonaws.com","domainPrefix":"abc123",
"http":{"method":"POST","path":"/orders","protocol":"HTTP/1.1","sourceIp":"203.0.113.7","userAgent":"Mozilla/5.0"},
"requestId":"LV7fzho-PHcEJPw=","routeKey":"POST /orders","stage":"$default","time":"23/Nov/2026:03:00:00 +0000","timeEpoch":1795402800000},
"body":"{\"order\":{\"id\":\"o-12345\",\"customer\":{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.com\"},\"items\":[{\"sku\":\"A-1\",\"qty\":2,\"note\":\"gift wrap please\"},{\"sku\":\"B-7\",\"qty\":1,\"note\":\"\"}],\"shipping\":{\"street\":\"12 Analytical Row\",\"city\":\"London\",\"zip\":\"N1 9GU\"}}}",
"isBase64Encoded":false}`

// benchEvents are the events of BenchmarkWrap, by source.
var benchEvents = []struct{ source, file string }{
	{"apigw-v1", "apigw-request.json"},
	{"alb", "alb-lambda-target-request-multivalue-headers.json"},
	{"function-url", "lambda-urls-request.json"},
	{"websocket", "apigw-websocket-request-send-message.json"},
	{"sqs", "sqs-event.json"},
	{"sns", "sns-event.json"},
	{"eventbridge", "eventbridge-event.json"},
	{"s3", "s3-event.json"},
	{"kinesis", "kinesis-event.json"},
	{"dynamodb", "dynamodb-event.json"},
}

// benchProtector wraps a no-op handler with the default policy.
func benchProtector(b *testing.B) *handler {
	b.Helper()
	eng, err := rules.DefaultEngine()
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(WithEngine(eng), WithSocket(filepath.Join(b.TempDir(), "absent.sock")), WithSecurityLog(zap.NewNop()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return p.Wrap(invokeFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil })).(*handler)
}

// BenchmarkWrap measures the wrapper end to end (adapter, default policy,
// reporting) around a handler that does nothing.
func BenchmarkWrap(b *testing.B) {
	h := benchProtector(b)
	ctx := lambdaCtx("8f5e0a1c-5d3b-4c61-9c1e-2f0f6a1b7c42")
	run := func(name string, raw []byte) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Invoke(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("apigw-v2", []byte(typicalV2))
	for _, be := range benchEvents {
		run(be.source, readFixture(b, be.file))
	}
}

// BenchmarkWrapLatency reports p50 and p99 of the wrapper's per-invoke
// time for the typical 2 KiB API Gateway v2 event.
func BenchmarkWrapLatency(b *testing.B) {
	h := benchProtector(b)
	ctx := lambdaCtx("8f5e0a1c-5d3b-4c61-9c1e-2f0f6a1b7c42")
	raw := []byte(typicalV2)
	durs := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := h.Invoke(ctx, raw); err != nil {
			b.Fatal(err)
		}
		durs = append(durs, time.Since(start))
	}
	slices.Sort(durs)
	q := func(p float64) float64 { return float64(durs[int(p*float64(len(durs)-1))].Nanoseconds()) }
	b.ReportMetric(q(0.50), "p50-ns")
	b.ReportMetric(q(0.99), "p99-ns")
}

// BenchmarkReporterSend measures one Emit with the extension listening
// (datagrams drained by a reader) and with no socket at all.
func BenchmarkReporterSend(b *testing.B) {
	ev := wire.Event{Kind: wire.KindDetection, Function: "orders", RequestID: "8f5e0a1c-5d3b-4c61-9c1e-2f0f6a1b7c42",
		EventSource: "apigw-v2", Action: "block", RuleID: "sqli", Category: "sqli", Source: "query",
		Path: "query.id", Excerpt: "1' OR '1'='1", PolicyVersion: "default@3f9a1c2b"}
	b.Run("socket", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "events.sock")
		ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, wire.MaxDatagram)
			for {
				if _, err := ln.Read(buf); err != nil {
					return
				}
			}
		}()
		r := newReporter(path, zap.NewNop())
		b.ReportAllocs()
		for b.Loop() {
			e := ev
			r.Emit(&e)
		}
		b.StopTimer()
		_ = r.Close()
		_ = ln.Close()
		<-done
	})
	b.Run("no-socket", func(b *testing.B) {
		r := newReporter(filepath.Join(b.TempDir(), "absent.sock"), zap.NewNop())
		b.ReportAllocs()
		for b.Loop() {
			e := ev
			e.Kind = wire.KindInspection
			e.Action = "allow"
			r.Emit(&e)
		}
	})
}

// BenchmarkWrapParallel measures concurrent invocations sharing one
// Protector (Lambda Managed Instances).
func BenchmarkWrapParallel(b *testing.B) {
	h := benchProtector(b)
	raw := []byte(typicalV2)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := lambdaCtx("8f5e0a1c-5d3b-4c61-9c1e-2f0f6a1b7c42")
		for pb.Next() {
			if _, err := h.Invoke(ctx, raw); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
