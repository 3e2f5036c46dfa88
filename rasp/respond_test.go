package rasp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

// loopFunc is what aws-lambda-go's runtime loop calls for a value given
// to lambda.Start: the function of the handler lambda.Start builds.
func loopFunc(t testing.TB, handler any) respondFunc {
	t.Helper()
	fn, lib := respondPath(lambda.NewHandler(handler))
	if !lib || fn == nil {
		t.Fatal("respondPath(lambda.NewHandler(...)) found no function: aws-lambda-go's handler layout changed")
	}
	return fn
}

// posted is what the runtime loop posts for a response: its bytes and
// its content type, the response closed afterwards as the loop does.
func posted(t testing.TB, r io.Reader) (body, contentType string) {
	t.Helper()
	contentType = contentTypeBytes
	if c, ok := r.(interface{ ContentType() string }); ok {
		contentType = c.ContentType()
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
	return string(b), contentType
}

func TestRespondPath(t *testing.T) {
	fn, lib := respondPath(lambda.NewHandler(func() (string, error) { return "x", nil }))
	if !lib || fn == nil {
		t.Fatalf("respondPath(lambda.NewHandler) = %v, %v; want the function of the pinned aws-lambda-go", fn != nil, lib)
	}
	r, err := fn(context.Background(), []byte(`{}`))
	if body, ct := posted(t, r); err != nil || body != `"x"` || ct != contentTypeJSON {
		t.Errorf("function returned %q (%s), %v", body, ct, err)
	}
	if fn, lib := respondPath(invokeFunc(nil)); lib || fn != nil {
		t.Error("respondPath(another Handler) reports aws-lambda-go's handler")
	}
	var nilLib lambda.Handler
	if fn, lib := respondPath(nilLib); lib || fn != nil {
		t.Error("respondPath(nil) reports aws-lambda-go's handler")
	}
}

// closeCounter is a streamed body that records being closed.
type closeCounter struct {
	io.Reader
	closed *int
}

func (c closeCounter) Close() error { *c.closed++; return nil }

// TestStartShapes compares what the runtime loop posts for each handler
// shape lambda.Start accepts, with and without the wrapper: same bytes,
// same content type, streams not read before the loop reads them.
func TestStartShapes(t *testing.T) {
	p := testProtector(t)
	closed := 0
	tests := []struct {
		name    string
		handler any
		// wantCT is the wrapper's content type when it differs from
		// lambda.Start's: a response the wrapper turned into bytes.
		wantCT string
	}{
		{"typed function", func(_ context.Context, ev echoEvent) (echoEvent, error) { return ev, nil }, contentTypeBytes},
		{"no event", func() (string, error) { return "hello", nil }, contentTypeBytes},
		{"error only", func(context.Context, echoEvent) error { return nil }, contentTypeBytes},
		{"json.RawMessage", func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) { return ev, nil }, contentTypeBytes},
		{"io.Reader", func(_ context.Context, ev echoEvent) (io.Reader, error) {
			return strings.NewReader("plain " + ev.ID), nil
		}, ""},
		{"any holding a struct", func(_ context.Context, ev echoEvent) (any, error) { return ev, nil }, ""},
		{"function URL stream", func(_ context.Context, ev *events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
			return &events.LambdaFunctionURLStreamingResponse{StatusCode: 201, Headers: map[string]string{"content-type": "text/plain"},
				Body: closeCounter{strings.NewReader("streamed " + ev.RawPath), &closed}}, nil
		}, ""},
		{"lambda.Handler", invokeFunc(func(_ context.Context, b []byte) ([]byte, error) { return bytes.ToUpper(b), nil }), ""},
		{"lambda.NewHandler", lambda.NewHandler(func(_ context.Context, ev echoEvent) (echoEvent, error) { return ev, nil }), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(`{"id":"r-1","body":"b","rawPath":"/x"}`)
			plain, wrapped := loopFunc(t, tt.handler), loopFunc(t, p.entry(tt.handler))
			r, err := plain(lambdaCtx("r-1"), payload)
			if err != nil {
				t.Fatal(err)
			}
			wantBody, wantCT := posted(t, r)
			if tt.wantCT != "" {
				wantCT = tt.wantCT
			}
			closed = 0
			r, err = wrapped(lambdaCtx("r-1"), payload)
			if err != nil {
				t.Fatal(err)
			}
			body, ct := posted(t, r)
			if body != wantBody || ct != wantCT {
				t.Errorf("wrapped handler posts %q as %s, want %q as %s", body, ct, wantBody, wantCT)
			}
			if tt.name == "function URL stream" && closed != 1 {
				t.Errorf("stream body closed %d times, want once, after it was posted", closed)
			}
		})
	}
}

// TestStartStreamsUnread checks that a streaming handler's body reaches
// the runtime loop unread: the wrapper does not buffer it.
func TestStartStreamsUnread(t *testing.T) {
	p := testProtector(t)
	pr, pw := io.Pipe()
	fn := loopFunc(t, p.entry(func(context.Context, *events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
		return &events.LambdaFunctionURLStreamingResponse{StatusCode: 200, Body: pr}, nil
	}))
	// The handler returns before its body is written: a wrapper that
	// read the body first would never return.
	r, err := fn(lambdaCtx("s-1"), readFixture(t, "lambda-urls-request.json"))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = pw.Write([]byte("chunk 1,"))
		_, _ = pw.Write([]byte("chunk 2"))
		_ = pw.Close()
	}()
	body, ct := posted(t, r)
	if ct != contentTypeHTTPStream || !strings.HasSuffix(body, "\x00\x00\x00\x00\x00\x00\x00\x00chunk 1,chunk 2") || !strings.HasPrefix(body, `{"statusCode":200}`) {
		t.Errorf("posted %q as %s", body, ct)
	}
}

// TestStartBlocksStreamsAsStreams checks that a blocked request to a
// streaming handler is answered with a stream: the platform takes status
// and headers from the stream's prelude, a JSON block response would
// reach the client as a 200.
func TestStartBlocksStreamsAsStreams(t *testing.T) {
	p := testProtector(t)
	called := false
	fn := loopFunc(t, p.entry(func(context.Context, *events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
		called = true
		return &events.LambdaFunctionURLStreamingResponse{StatusCode: 200}, nil
	}))
	r, err := fn(lambdaCtx("s-2"), inject(t, "lambda-urls-request.json", `"Hello from client!"`, `"EVIL"`))
	if err != nil {
		t.Fatal(err)
	}
	body, ct := posted(t, r)
	prelude, rest, ok := strings.Cut(body, "\x00\x00\x00\x00\x00\x00\x00\x00")
	if called || ct != contentTypeHTTPStream || !ok || !strings.Contains(prelude, `"statusCode":403`) || !strings.Contains(rest, "s-2") {
		t.Errorf("handler called %v; posted %q as %s", called, body, ct)
	}
}

// TestStartEntryConcurrent runs the function the runtime loop calls from
// many goroutines, reading each response only after the others ran, for
// the byte-level entry and the streaming one.
func TestStartEntryConcurrent(t *testing.T) {
	p := testProtector(t)
	for _, tt := range []struct {
		name    string
		handler any
	}{
		{"bytes", func(_ context.Context, ev echoEvent) (echoEvent, error) { return ev, nil }},
		{"reader", func(_ context.Context, ev echoEvent) (io.Reader, error) {
			b, _ := json.Marshal(ev)
			return bytes.NewReader(b), nil
		}},
		{"any", func(_ context.Context, ev echoEvent) (any, error) { return ev, nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fn := loopFunc(t, p.entry(tt.handler))
			const workers, each = 8, 200
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						payload, want := echoPayload(w, i)
						r, err := fn(lambdaCtx(fmt.Sprintf("req-%d-%d", w, i)), payload)
						if err != nil {
							errs <- err
							return
						}
						runtime.Gosched()
						if body, _ := posted(t, r); body != want {
							errs <- fmt.Errorf("invocation w%d-i%d got another response: %.80s", w, i, body)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

// TestSerializedFallback checks the fallback for an aws-lambda-go whose
// handler function cannot be found: invocations run one at a time and
// each gets its own bytes.
func TestSerializedFallback(t *testing.T) {
	p := testProtector(t)
	next := lambda.NewHandler(func(_ context.Context, ev echoEvent) (echoEvent, error) {
		runtime.Gosched()
		return ev, nil
	})
	h := &handler{p: p, next: next, call: serialized(next)}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				payload, want := echoPayload(w, i)
				out, err := h.Invoke(lambdaCtx("r"), payload)
				runtime.Gosched()
				if err != nil || string(out) != want {
					errs <- fmt.Errorf("w%d-i%d: %.60s, %v", w, i, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
