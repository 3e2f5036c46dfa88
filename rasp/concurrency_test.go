package rasp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// echoEvent is the event and the response of the echo handlers below:
// each invocation's response carries its own id and a body of its own.
type echoEvent struct {
	ID   string `json:"id"`
	Body string `json:"body"`
}

// echoPayload is a distinct event per worker and iteration, big enough
// that a response spans several cache lines.
func echoPayload(w, i int) (payload []byte, want string) {
	ev := echoEvent{ID: fmt.Sprintf("w%d-i%d", w, i), Body: strings.Repeat(string(rune('a'+(w+i)%26)), 200+(w*7+i)%300)}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b, string(b)
}

// TestSharedHandlerResponsesAreOwned invokes one wrapped handler from
// many goroutines at once, as aws-lambda-go's runtime loop does on
// Lambda Managed Instances (one handler, one poll loop per concurrent
// request), and checks every response byte for byte after the other
// invocations had time to run. aws-lambda-go's byte-level Invoke returns
// a pooled buffer it has already put back: a wrapper that returns those
// bytes hands one request's response to another.
func TestSharedHandlerResponsesAreOwned(t *testing.T) {
	p := testProtector(t)
	shapes := []struct {
		name string
		h    lambda.Handler
	}{
		{"typed function", p.Wrap(lambda.NewHandler(func(_ context.Context, ev echoEvent) (echoEvent, error) {
			runtime.Gosched()
			return ev, nil
		}))},
		{"json.RawMessage", p.Wrap(lambda.NewHandler(func(_ context.Context, ev json.RawMessage) (json.RawMessage, error) {
			runtime.Gosched()
			return ev, nil
		}))},
		{"WrapFunc", p.Wrap(lambda.NewHandler(func(ev echoEvent) (*echoEvent, error) { return &ev, nil }))},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			const workers, each = 8, 300
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						payload, want := echoPayload(w, i)
						out, err := s.h.Invoke(lambdaCtx(fmt.Sprintf("req-%d-%d", w, i)), payload)
						if err != nil {
							errs <- err
							return
						}
						runtime.Gosched() // let the other invocations run before the response is read
						if string(out) != want {
							errs <- fmt.Errorf("invocation w%d-i%d got another response: %.80s", w, i, out)
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

// tenantCtx is lambdaCtx for a function in tenant isolation mode.
func tenantCtx(requestID, tenant string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID, TenantID: tenant})
}

// TestTenantOnEvents checks that the tenant the platform names reaches
// the invocation, the inspection and detection events and the sink
// events.
func TestTenantOnEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.sock")
	ln := listen(t, path)
	p := testProtector(t, WithSocket(path))
	h := p.Wrap(lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) (string, error) {
		inv, _ := FromContext(ctx)
		if err := CheckCommand(ctx, "/bin/sh", "-c", "echo a; id"); err == nil {
			return "", errors.New("command injection not refused")
		}
		return inv.TenantID, nil
	}))
	out, err := h.Invoke(tenantCtx("req-t", "tenant-a"), []byte(`{"note":"NOTE","name":"a; id"}`))
	if err != nil || string(out) != `"tenant-a"` {
		t.Fatalf("Invoke() = %s, %v; want the tenant in the invocation", out, err)
	}
	for range 3 { // inspection, detection (monitor), sink
		e := receive(t, ln)
		if e.TenantID != "tenant-a" || e.RequestID != "req-t" {
			t.Errorf("%s event = %+v, want tenant-a on req-t", e.Kind, e)
		}
	}
}

// TestInflight checks the set of invocations in flight under concurrent
// invocations: each handler finds its own invocation with its own inputs
// while the others are in flight too, and the set is empty afterwards.
func TestInflight(t *testing.T) {
	p := testProtector(t)
	const n = 8
	var arrived, counted sync.WaitGroup
	arrived.Add(n)
	counted.Add(n)
	gate := make(chan struct{})
	h := p.Wrap(lambda.NewHandler(func(ctx context.Context, ev echoEvent) (int, error) {
		arrived.Done()
		arrived.Wait() // every invocation is in flight now, none has returned
		defer func() { counted.Done(); <-gate }()
		mine, _ := FromContext(ctx)
		got, ok := p.cur.Load().inflight.find(mine.RequestID)
		if !ok || got != mine || !hasInput(got, ev.Body) {
			return 0, fmt.Errorf("find(%s) = %v, %v", mine.RequestID, got, ok)
		}
		seen := 0
		p.cur.Load().inflight.each(func(*Invocation) bool { seen++; return true })
		return seen, nil
	}))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload, _ := echoPayload(i, i)
			out, err := h.Invoke(lambdaCtx(fmt.Sprintf("req-%d", i)), payload)
			if err != nil {
				errs <- err
			} else if string(out) != fmt.Sprint(n) {
				errs <- fmt.Errorf("invocation %d saw %s in flight, want %d", i, out, n)
			}
		}()
	}
	counted.Wait()
	if c := p.cur.Load().inflight.count(); c != n {
		t.Errorf("count() = %d with every handler running, want %d", c, n)
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c := p.cur.Load().inflight.count(); c != 0 {
		t.Errorf("count() = %d after every invocation returned, want 0", c)
	}
}

// hasInput reports whether inv's inputs hold value.
func hasInput(inv *Invocation, value string) bool {
	for _, f := range inv.Inputs {
		if f.Value == value {
			return true
		}
	}
	return false
}

// TestInflightStreamUntilClosed checks that a streamed response keeps its
// invocation in flight until the runtime loop closes it: the handler may
// still be writing the body.
func TestInflightStreamUntilClosed(t *testing.T) {
	p := testProtector(t)
	fn := loopFunc(t, p.entry(func(context.Context, json.RawMessage) (io.Reader, error) {
		return strings.NewReader("body"), nil
	}))
	r, err := fn(lambdaCtx("s-1"), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if c := p.cur.Load().inflight.count(); c != 1 {
		t.Errorf("count() = %d before the stream was posted, want 1", c)
	}
	posted(t, r)
	if c := p.cur.Load().inflight.count(); c != 0 {
		t.Errorf("count() = %d after the stream was closed, want 0", c)
	}
}
