package managed

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// functionURL is a Function URL event for GET /stream?release=name&q=q.
func functionURL(release, q string) []byte {
	ev := events.LambdaFunctionURLRequest{
		Version: "2.0", RawPath: "/stream", RawQueryString: "release=" + release + "&q=" + q,
		Headers:               map[string]string{"accept": "text/plain", "user-agent": "load/1.0"},
		QueryStringParameters: map[string]string{"release": release, "q": q},
		RequestContext: events.LambdaFunctionURLRequestContext{
			AccountID: "123456789012", RequestID: "url-1", DomainName: "abc.lambda-url.us-east-1.on.aws", DomainPrefix: "abc",
			HTTP: events.LambdaFunctionURLRequestContextHTTPDescription{Method: "GET", Path: "/stream", Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "load/1.0"},
		},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

const preludeEnd = "\x00\x00\x00\x00\x00\x00\x00\x00"

// TestStreamingThroughStart checks, through the simulator, that a Function
// URL handler started with rasp.Start still streams: the caller reads the
// first chunk while the handler waits for it to do so before writing the
// second. A blocked request gets a stream too, with 403 in its prelude.
func TestStreamingThroughStart(t *testing.T) {
	s, _, data := simFunction(t, map[string]string{"FN_RETURN": "stream"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var res *lambdasim.Result
	for {
		var err error
		res, err = s.InvokeWithOptions(ctx, functionURL("release-1", "shoes"), lambdasim.InvokeOptions{Stream: true, TenantID: "tenant-s"})
		if err != nil {
			t.Fatal(err)
		}
		if res.ErrorType != lambdasim.ErrorTypeUnavailable {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if res.Stream == nil || res.ContentType != "application/vnd.awslambda.http-integration-response" {
		t.Fatalf("result = %d %q %s, want a response stream", res.StatusCode, res.ContentType, res.Body)
	}
	defer res.Stream.Close()
	want := `{"statusCode":201,"headers":{"content-type":"text/plain"}}` + preludeEnd + "first chunk of " + res.RequestID + "\n"
	first := make([]byte, len(want))
	if _, err := io.ReadFull(res.Stream, first); err != nil || string(first) != want {
		t.Fatalf("first chunk = %q, %v; want %q", first, err, want)
	}
	if err := os.WriteFile(filepath.Join(data, "release-1"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	rest, err := io.ReadAll(res.Stream)
	if err != nil || string(rest) != "second chunk of "+res.RequestID+"\n" {
		t.Errorf("rest = %q, %v", rest, err)
	}
	t.Logf("second chunk %v after the release", time.Since(released).Round(time.Millisecond))

	// An attack never reaches the handler and is answered as a stream.
	for {
		res, err = s.InvokeWithOptions(ctx, functionURL("release-2", "x' UNION SELECT password FROM users--"), lambdasim.InvokeOptions{Stream: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.ErrorType != lambdasim.ErrorTypeUnavailable {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if res.Stream == nil {
		t.Fatalf("blocked result = %d %s, want a stream", res.StatusCode, res.Body)
	}
	b, err := io.ReadAll(res.Stream)
	prelude, body, ok := strings.Cut(string(b), preludeEnd)
	if err != nil || !ok || !strings.Contains(prelude, `"statusCode":403`) || !strings.Contains(body, res.RequestID) || strings.Contains(body, "chunk") {
		t.Errorf("blocked stream = %q, %v; want a 403 prelude and the block body", b, err)
	}
}
