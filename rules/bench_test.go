package rules_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// corpusDir returns <repo root>/../shared/corpus, or skips.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("repository root not found")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		tb.Skipf("corpus not found: %v", err)
	}
	return corpus
}

// eventRequest runs raw through the production event adapter.
func eventRequest(tb testing.TB, raw []byte) *rules.Request {
	tb.Helper()
	ev, err := adapter.Parse(raw, adapter.Limits{})
	if err != nil {
		tb.Fatalf("adapter.Parse: %v", err)
	}
	return &ev.Request
}

func defaultEngine(tb testing.TB) *rules.Engine {
	tb.Helper()
	e, err := rules.DefaultEngine()
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// bigBodyEvent returns an API Gateway v2 event whose JSON body is about
// 64 KiB of order records (about 1,000 fields, under the default
// max_fields); attack puts one SQL injection in the middle.
func bigBodyEvent(tb testing.TB, attack bool) []byte {
	tb.Helper()
	type item struct {
		SKU   string `json:"sku"`
		Name  string `json:"name"`
		Note  string `json:"note"`
		Qty   int    `json:"qty"`
		Price string `json:"price"`
	}
	var items []item
	size := 0
	for i := 0; size < 64<<10; i++ {
		it := item{SKU: "SKU-" + strings.Repeat("7", 6), Name: "Stainless steel water bottle, 750 ml",
			Note: strings.Repeat("Please gift-wrap it and leave the parcel with the neighbour at number 12. ", 4), Qty: i % 5, Price: "19.90"}
		items = append(items, it)
		size += 400
	}
	if attack {
		items[len(items)/2].Note = "x' UNION SELECT password FROM users--"
	}
	body, err := json.Marshal(map[string]any{"customer": "Ada Lovelace", "items": items})
	if err != nil {
		tb.Fatal(err)
	}
	ev, err := json.Marshal(map[string]any{
		"version": "2.0", "routeKey": "POST /orders", "rawPath": "/orders", "rawQueryString": "",
		"headers": map[string]string{"content-type": "application/json", "host": "shop.example.com", "user-agent": "Mozilla/5.0"},
		"requestContext": map[string]any{"http": map[string]string{"method": "POST", "path": "/orders", "sourceIp": "203.0.113.7"},
			"domainName": "shop.example.com", "requestId": "bench"},
		"body": string(body), "isBase64Encoded": false,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

func BenchmarkCompileDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.DefaultEngine(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspect inspects the fields of each corpus event, and of a
// 64 KiB JSON body, clean and with an attack, with the default policy.
func BenchmarkInspect(b *testing.B) {
	e := defaultEngine(b)
	events, err := filepath.Glob(filepath.Join(corpusDir(b), "events", "*.json"))
	if err != nil || len(events) == 0 {
		b.Skip("no corpus events")
	}
	type tc struct {
		name string
		req  *rules.Request
	}
	var cases []tc
	for _, file := range events {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		cases = append(cases, tc{strings.TrimSuffix(filepath.Base(file), ".json"), eventRequest(b, raw)})
	}
	cases = append(cases,
		tc{"body64k-clean", eventRequest(b, bigBodyEvent(b, false))},
		tc{"body64k-attack", eventRequest(b, bigBodyEvent(b, true))},
	)
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				e.Inspect(ctx, c.req)
			}
			b.ReportMetric(float64(len(c.req.Fields)), "fields")
			// Whether the last inspection ran out of limits.budget.
			truncated := 0.0
			if e.Inspect(ctx, c.req).Truncated {
				truncated = 1
			}
			b.ReportMetric(truncated, "truncated")
		})
	}
}

// BenchmarkInspectLatency reports the p50 and p99 latency of inspecting a
// typical API Gateway REST event (apigw-request.json, about 3 KiB).
func BenchmarkInspectLatency(b *testing.B) {
	e := defaultEngine(b)
	raw, err := os.ReadFile(filepath.Join(corpusDir(b), "events", "apigw-request.json"))
	if err != nil {
		b.Fatal(err)
	}
	req := eventRequest(b, raw)
	ctx := context.Background()
	samples := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		e.Inspect(ctx, req)
		if len(samples) < cap(samples) {
			samples = append(samples, time.Since(start))
		}
	}
	slices.Sort(samples)
	if n := len(samples); n > 0 {
		b.ReportMetric(float64(samples[n/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(samples[n*99/100].Nanoseconds()), "p99-ns")
	}
}

func BenchmarkInspectParallel(b *testing.B) {
	e := defaultEngine(b)
	raw, err := os.ReadFile(filepath.Join(corpusDir(b), "events", "apigw-request.json"))
	if err != nil {
		b.Fatal(err)
	}
	req := eventRequest(b, raw)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			e.Inspect(ctx, req)
		}
	})
}
