package rasp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// hostileV2 builds an API Gateway HTTP API event around body.
func hostileV2(t testing.TB, headers map[string]string, body string, b64 bool) []byte {
	t.Helper()
	ev := map[string]any{
		"version": "2.0", "routeKey": "POST /upload", "rawPath": "/upload", "rawQueryString": "",
		"headers": headers, "body": body, "isBase64Encoded": b64,
		"requestContext": map[string]any{"http": map[string]any{"method": "POST", "path": "/upload"}, "requestId": "r"},
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func gzipped(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestHostileEvents feeds the wrapper, with the embedded default policy,
// events built to exhaust it. Each must end in a decision (never a crash)
// within a bounded amount of memory, and the documented outcome: inputs
// the adapter cannot parse follow on_error, inputs over a limit are
// inspected up to the limit and flagged truncated, and an attack placed
// after the limit is caught when it can be and otherwise counted as an
// incomplete inspection. The README's robustness table lists these cases.
func TestHostileEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds multi-megabyte events")
	}
	eng, err := rules.DefaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	json6MB := `{"data":"` + strings.Repeat("a", 6<<20) + `"}`
	deep := strings.Repeat(`{"a":`, 10000) + `"x"` + strings.Repeat(`}`, 10000)
	deepArr := strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000)
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 100000 {
		if i > 0 {
			many.WriteString(`,`)
		}
		many.WriteString(`"k`)
		many.WriteString(strings.Repeat("x", i%7))
		many.WriteString(`":"v"`)
	}
	many.WriteString(`}`)
	bomb := base64.StdEncoding.EncodeToString([]byte(gzipped(t, strings.Repeat("A", 64<<20))))
	textPlain := map[string]string{"content-type": "text/plain"}
	// The default policy fails closed on every incomplete inspection:
	// HTTP sources get an honest refusal (413 for a limit or the budget),
	// other sources a typed *BlockedError that loses no record.
	tests := []struct {
		name       string
		give       []byte
		wantErr    bool // the invocation fails (a *BlockedError)
		wantStatus int  // the response's status; 0 for none
		maxAlloc   uint64
	}{
		{"6 MB body", hostileV2(t, map[string]string{"content-type": "application/json"}, json6MB, false), false, 413, 64 << 20},
		// A plain JSON event has no body to limit, but each value is
		// inspected up to max_body_bytes.
		{"6 MB event of plain JSON", []byte(json6MB), true, 0, 64 << 20},
		{"JSON nested 10000 deep", []byte(deep), true, 0, 16 << 20},
		{"arrays nested 10000 deep", []byte(deepArr), true, 0, 16 << 20},
		{"100000 fields", []byte(many.String()), true, 0, 64 << 20},
		{"SQLi after invalid UTF-8 in a query", []byte("{\"version\":\"2.0\",\"rawPath\":\"/\",\"rawQueryString\":\"q=\xff\xfe' OR 1=1--\",\"requestContext\":{\"http\":{\"method\":\"GET\"}}}"), false, 403, 1 << 20},
		// What cannot be decoded cannot be inspected: refused.
		{"invalid base64 body", hostileV2(t, textPlain, "!!!not base64%%%", true), false, 413, 1 << 20},
		{"gzip bomb (64 MiB of A)", hostileV2(t, map[string]string{"content-type": "text/plain", "content-encoding": "gzip"}, bomb, true), false, 413, 16 << 20},
		// The adapter cannot parse it: refused as malformed.
		{"malformed JSON", []byte(`{"version":"2.0","rawPath":"/`), true, 0, 1 << 20},
		// Beyond max_body_bytes: refused, not let through uninspected.
		{"attack after 5 MB of padding", hostileV2(t, textPlain, strings.Repeat(" ", 5<<20)+"' UNION SELECT password FROM users--", false), false, 413, 64 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(WithEngine(eng), WithSocket(t.TempDir()+"/none.sock"), WithSecurityLog(zap.NewNop()), WithLogger(zap.NewNop()))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			var seen bool
			h := p.Wrap(lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) (string, error) {
				seen = true
				return "ok", nil
			}))
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out, err := h.Invoke(lambdaCtx("hostile"), tt.give)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			var resp struct {
				StatusCode int `json:"statusCode"`
			}
			_ = json.Unmarshal(out, &resp)
			st := p.Stats()
			t.Logf("handler reached=%v status=%d err=%v internal-errors=%d allocated=%d KiB", seen, resp.StatusCode, err, st.InternalErrors, alloc>>10)
			if seen {
				t.Errorf("the handler ran on an event inspected incompletely or blocked")
			}
			var be *BlockedError
			if (err != nil) != tt.wantErr || err != nil && !errors.As(err, &be) {
				t.Errorf("Invoke() error = %v, want a *BlockedError %v", err, tt.wantErr)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (response %.200s)", resp.StatusCode, tt.wantStatus, out)
			}
			if alloc > tt.maxAlloc+uint64(len(tt.give)) {
				t.Errorf("allocated %d bytes for a %d byte event, want at most %d beyond the event", alloc, len(tt.give), tt.maxAlloc)
			}
		})
	}
}
