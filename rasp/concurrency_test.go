package rasp

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
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
