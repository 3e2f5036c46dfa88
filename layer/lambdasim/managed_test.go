package lambdasim_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// invokeRetry invokes until a runtime worker takes the invoke: in
// managed-instances mode an invoke no worker waits for is refused with
// Runtime.Unavailable, and a load driver retries it.
func invokeRetry(t testing.TB, s *lambdasim.Sim, payload []byte, opts lambdasim.InvokeOptions) *lambdasim.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		res, err := s.InvokeWithOptions(ctx, payload, opts)
		if err != nil {
			t.Fatalf("Invoke(%.60s) error: %v", payload, err)
		}
		if res.ErrorType != lambdasim.ErrorTypeUnavailable {
			return res
		}
		time.Sleep(time.Millisecond)
	}
}

// TestManagedInstancesRefusesWithoutWorker fills every runtime worker,
// then invokes once more: the invoke is refused at once, as AWS's
// emulator does, not queued.
func TestManagedInstancesRefusesWithoutWorker(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{ManagedInstances: true, MaxConcurrency: 2, Timeout: 20 * time.Second})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	release := filepath.Join(t.TempDir(), "release")
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A stream that holds its worker until release exists.
			res := invokeRetry(t, s, []byte(`{"action":"stream","message":"`+release+`"}`), lambdasim.InvokeOptions{})
			if res.StatusCode != http.StatusOK {
				t.Errorf("busy invoke = %d %s", res.StatusCode, res.Body)
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(eventsOf(s, lambdasim.EventInvokeStart, "")) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	res, err := s.Invoke(context.Background(), []byte(`{"n":3}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusBadRequest || res.ErrorType != lambdasim.ErrorTypeUnavailable || string(res.Body) != `{"errorType":"Runtime.Unavailable"}` {
		t.Errorf("invoke with every worker busy = %d %q %s, want 400 Runtime.Unavailable", res.StatusCode, res.ErrorType, res.Body)
	}
	// The invoke endpoint answers the same, with the Error-Type header.
	resp, err := http.Post(s.InvokeURL(), "application/json", strings.NewReader(`{"n":4}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Error-Type") != lambdasim.ErrorTypeUnavailable {
		t.Errorf("invoke endpoint = %d %q %s", resp.StatusCode, resp.Header.Get("Error-Type"), body)
	}
	if refused := eventsOf(s, lambdasim.EventInvokeRefused, ""); len(refused) < 2 {
		t.Errorf("refusals logged = %v, want both", refused)
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	shutdown(t, s)
}

// TestManagedInstancesOwnResponses drives concurrent invokes with distinct
// payloads through several runtime workers and checks that every caller
// got its own response, byte for byte.
func TestManagedInstancesOwnResponses(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{ManagedInstances: true, MaxConcurrency: 8})
	const callers, each = 8, 40
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				payload := fmt.Sprintf(`{"caller":%d,"i":%d,"pad":%q}`, c, i, strings.Repeat("x", (c*each+i)%700))
				res := invokeRetry(t, s, []byte(payload), lambdasim.InvokeOptions{})
				if res.StatusCode != http.StatusOK || string(res.Body) != payload {
					t.Errorf("caller %d invoke %d got %d %.80s", c, i, res.StatusCode, res.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	shutdown(t, s)
}

func TestTenantID(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{ManagedInstances: true})
	res := invokeRetry(t, s, []byte(`{"action":"context"}`), lambdasim.InvokeOptions{TenantID: "tenant-a"})
	var got struct{ TenantID string }
	if err := json.Unmarshal(res.Body, &got); err != nil || got.TenantID != "tenant-a" {
		t.Errorf("context = %s, want tenantId tenant-a", res.Body)
	}
	// The invoke endpoint takes it from X-Amz-Tenant-Id.
	for {
		req, err := http.NewRequest(http.MethodPost, s.InvokeURL(), strings.NewReader(`{"action":"context"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Tenant-Id", "tenant-b")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Error-Type") == lambdasim.ErrorTypeUnavailable {
			continue
		}
		if err := json.Unmarshal(body, &got); err != nil || got.TenantID != "tenant-b" {
			t.Errorf("context via the endpoint = %s, want tenantId tenant-b", body)
		}
		break
	}
	shutdown(t, s)
}

// TestResponseStream checks that a streamed response reaches a caller
// that asked for a stream chunk by chunk: the function writes its second
// chunk only once the caller has read the first.
func TestResponseStream(t *testing.T) {
	for _, managed := range []bool{false, true} {
		t.Run(fmt.Sprintf("managed=%v", managed), func(t *testing.T) {
			s, _ := newSim(t, lambdasim.Config{ManagedInstances: managed, Timeout: 20 * time.Second})
			release := filepath.Join(t.TempDir(), "release")
			res := invokeRetry(t, s, []byte(`{"action":"stream","message":"`+release+`"}`), lambdasim.InvokeOptions{Stream: true})
			if res.Stream == nil || res.ContentType != "application/vnd.awslambda.http-integration-response" {
				t.Fatalf("stream result = %+v", res)
			}
			defer res.Stream.Close()
			const prelude = `{"statusCode":201,"headers":{"content-type":"text/plain"}}` + "\x00\x00\x00\x00\x00\x00\x00\x00"
			first := make([]byte, len(prelude+"first,"))
			if _, err := io.ReadFull(res.Stream, first); err != nil || string(first) != prelude+"first," {
				t.Fatalf("first chunk = %q, %v", first, err)
			}
			if err := os.WriteFile(release, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(res.Stream)
			if err != nil || string(rest) != "second" {
				t.Errorf("rest = %q, %v", rest, err)
			}
			// Without asking for a stream, the response comes whole with
			// its content type.
			_ = os.WriteFile(release, nil, 0o644)
			res = invokeRetry(t, s, []byte(`{"action":"stream","message":"`+release+`"}`), lambdasim.InvokeOptions{})
			if string(res.Body) != prelude+"first,second" || res.ContentType != "application/vnd.awslambda.http-integration-response" {
				t.Errorf("buffered stream = %q as %q", res.Body, res.ContentType)
			}
			shutdown(t, s)
		})
	}
}

// TestResponseStreamError checks that a function error midway through a
// stream ends it with a StreamError.
func TestResponseStreamError(t *testing.T) {
	s, _ := newSim(t, lambdasim.Config{})
	res := invokeRetry(t, s, []byte(`{"action":"streamerror","message":"stream broke"}`), lambdasim.InvokeOptions{Stream: true})
	if res.Stream == nil {
		t.Fatalf("result = %+v, want a stream", res)
	}
	b, err := io.ReadAll(res.Stream)
	var se *lambdasim.StreamError
	if string(b) != "partial" || !errors.As(err, &se) || se.Type != "errorString" || !strings.Contains(string(se.Body), "stream broke") {
		t.Errorf("stream = %q, %v", b, err)
	}
	shutdown(t, s)
}
