package rasp

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestWrapEndToEnd runs a real typed handler through Wrap.
func TestWrapEndToEnd(t *testing.T) {
	var (
		calls int
		seen  *Invocation
	)
	fn := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		calls++
		inv, ok := FromContext(ctx)
		if !ok {
			t.Error("FromContext() ok = false in a wrapped handler")
		}
		seen = inv
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "hi " + req.RawPath}, nil
	}
	p := testProtector(t)
	h := p.Wrap(lambda.NewHandler(fn))

	out, err := h.Invoke(lambdaCtx("req-1"), readFixture(t, "apigw-v2-request-no-authorizer.json"))
	if err != nil {
		t.Fatalf("Invoke(benign) error = %v", err)
	}
	if got, want := string(out), `{"statusCode":200,"headers":null,"multiValueHeaders":null,"body":"hi /","cookies":null}`; got != want {
		t.Errorf("Invoke(benign) = %s, want %s", got, want)
	}
	if calls != 1 || seen == nil {
		t.Fatalf("handler calls = %d, want 1", calls)
	}
	if seen.RequestID != "req-1" || seen.EventSource != adapter.SourceAPIGatewayV2 || seen.Route != "GET /" || len(seen.Inputs) == 0 {
		t.Errorf("Invocation = %+v, want request id, source, route and inputs", seen)
	}

	attack := inject(t, "apigw-v2-request-no-authorizer.json", `"curl/7.58.0"`, `"curl EVIL"`)
	out, err = h.Invoke(lambdaCtx("req-2"), attack)
	if err != nil {
		t.Fatalf("Invoke(attack) error = %v", err)
	}
	if calls != 1 {
		t.Errorf("handler ran for a blocked request")
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 403 || resp.Body != `{"message":"Forbidden","requestId":"req-2"}` || resp.Headers["content-type"] != "application/json" {
		t.Errorf("block response = %s", out)
	}
	if strings.Contains(string(out), "EVIL") {
		t.Errorf("block response echoes the payload: %s", out)
	}
	if got := p.Stats(); got.Invocations != 2 || got.Blocked != 1 {
		t.Errorf("Stats() = %+v, want 2 invocations, 1 blocked", got)
	}
}

// TestBlockResponseGolden checks the block response of every HTTP-shaped
// source against testdata/golden.
func TestBlockResponseGolden(t *testing.T) {
	tests := []struct {
		name     string
		give     string
		old, new string
		opts     []Option
	}{
		{"apigw-v1", "apigw-request.json", `"PostmanRuntime/2.4.5"`, `"EVIL"`, nil},
		{"apigw-v2", "apigw-v2-request-no-authorizer.json", `"curl/7.58.0"`, `"EVIL"`, nil},
		{"function-url", "lambda-urls-request.json", `"Hello from client!"`, `"EVIL"`, nil},
		{"alb", "alb-lambda-target-request-headers-only.json", `"hello"`, `"EVIL"`, nil},
		{"alb-multi-value", "alb-lambda-target-request-multivalue-headers.json", `"hello"`, `"EVIL"`, nil},
		{"websocket", "apigw-websocket-request-send-message.json", `\"a\"`, `\"EVIL\"`, nil},
		{"custom", "apigw-v2-request-no-authorizer.json", `"curl/7.58.0"`, `"EVIL"`, []Option{WithBlockResponse(451, `{"error":"unavailable","id":"{{requestId}}"}`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			next := lambda.NewHandler(func(json.RawMessage) error { called = true; return nil })
			h := testProtector(t, tt.opts...).Wrap(next)
			out, err := h.Invoke(lambdaCtx("8f5e0a1c-5d3b-4c61-9c1e-2f0f6a1b7c42"), inject(t, tt.give, tt.old, tt.new))
			if err != nil {
				t.Fatalf("Invoke() error = %v", err)
			}
			if called {
				t.Error("handler ran for a blocked request")
			}
			golden := filepath.Join("testdata", "golden", tt.name+".json")
			if *update {
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(out) + "\n"; got != string(want) {
				t.Errorf("Invoke() =\n%s\nwant (%s):\n%s", got, golden, want)
			}
		})
	}
}

func TestRecordSourcesFailWithBlockedError(t *testing.T) {
	tests := []struct {
		name        string
		give        []byte
		opts        []Option
		wantRecords []string
	}{
		{"sqs", inject(t, "sqs-sns-event.json", `' OR 1=1--`, `EVIL`), nil, []string{"8c1f3a9e-0002"}},
		{"sns even with partial batch", inject(t, "sns-event.json", `"Hello from SNS!"`, `"EVIL"`), []Option{WithPartialBatch(true)}, []string{"95df01b4-ee98-5cb9-9903-4c221d41eb5e"}},
		{"s3", inject(t, "s3-event.json", `Happy%20Face.jpg`, `EV%49L.jpg`), []Option{WithPartialBatch(true)}, []string{"C3D13FE58DE4C810"}},
		{"eventbridge", inject(t, "eventbridge-event.json", `leave at the door`, `EVIL`), []Option{WithPartialBatch(true)}, []string{"6a7e8feb-b491-4cf7-a9f1-bf3703467718"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called := false
			next := lambda.NewHandler(func(json.RawMessage) error { called = true; return nil })
			_, err := testProtector(t, tt.opts...).Wrap(next).Invoke(lambdaCtx("r1"), tt.give)
			var be *BlockedError
			if !errors.As(err, &be) {
				t.Fatalf("Invoke() error = %v, want *BlockedError", err)
			}
			if called {
				t.Error("handler ran for a blocked event")
			}
			if strings.Join(be.RecordIDs, ",") != strings.Join(tt.wantRecords, ",") || be.RuleIDs[0] != "evil-marker" || be.Categories[0] != "custom" {
				t.Errorf("BlockedError = %+v, want records %v and rule evil-marker", be, tt.wantRecords)
			}
			if strings.Contains(be.Error(), "EVIL") {
				t.Errorf("Error() = %q contains the payload", be.Error())
			}
		})
	}
}

// sqsIDs decodes the message ids of an SQS event.
func sqsIDs(t *testing.T, payload []byte) []string {
	t.Helper()
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("handler got invalid JSON: %v", err)
	}
	var ids []string
	for _, r := range ev.Records {
		ids = append(ids, r.MessageId)
	}
	return ids
}

func threeMessages(bad ...int) []byte {
	var recs []string
	for i := range 3 {
		body := `{\"note\":\"fine\"}`
		for _, b := range bad {
			if b == i {
				body = `{\"note\":\"EVIL\"}`
			}
		}
		recs = append(recs, `{"messageId":"m`+string(rune('0'+i))+`","body":"`+body+`","eventSource":"aws:sqs"}`)
	}
	return []byte(`{"Records": [` + strings.Join(recs, ", ") + `], "extra": 1}`)
}

func TestPartialBatch(t *testing.T) {
	tests := []struct {
		name      string
		give      []byte
		resp      string // the handler's response
		respErr   error
		wantIDs   []string // records the handler sees
		wantOut   string
		wantErr   bool
		wantCalls int
	}{
		{"one bad, handler reports nothing", threeMessages(1), `null`, nil, []string{"m0", "m2"}, `{"batchItemFailures":[{"itemIdentifier":"m1"}]}`, false, 1},
		{"merged with the handler's failures", threeMessages(0), `{"batchItemFailures":[{"itemIdentifier":"m2"}]}`, nil, []string{"m1", "m2"}, `{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m0"}]}`, false, 1},
		{"all bad, handler not called", threeMessages(0, 1, 2), ``, nil, nil, `{"batchItemFailures":[{"itemIdentifier":"m0"},{"itemIdentifier":"m1"},{"itemIdentifier":"m2"}]}`, false, 0},
		{"handler error fails the batch", threeMessages(2), ``, errors.New("db down"), []string{"m0", "m1"}, ``, true, 1},
		{"unmergeable response fails the batch", threeMessages(2), `"ok"`, nil, []string{"m0", "m1"}, ``, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			var got []string
			next := lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
				calls++
				got = sqsIDs(t, raw)
				if !strings.HasSuffix(string(raw), `], "extra": 1}`) {
					t.Errorf("bytes outside the records array changed: %s", raw)
				}
				if tt.resp == "" {
					return nil, tt.respErr
				}
				return json.RawMessage(tt.resp), tt.respErr
			})
			out, err := testProtector(t, WithPartialBatch(true)).Wrap(next).Invoke(lambdaCtx("r"), tt.give)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Invoke() error = %v, want error %v", err, tt.wantErr)
			}
			if calls != tt.wantCalls || strings.Join(got, ",") != strings.Join(tt.wantIDs, ",") {
				t.Errorf("handler calls = %d with records %v, want %d with %v", calls, got, tt.wantCalls, tt.wantIDs)
			}
			if !tt.wantErr && string(out) != tt.wantOut {
				t.Errorf("Invoke() = %s, want %s", out, tt.wantOut)
			}
		})
	}
}

func TestPartialBatchKinesis(t *testing.T) {
	raw := inject(t, "kinesis-event.json", `"partitionKey": "s1",
			"sequenceNumber": "49568167373333333334444444444444444444444444444444444444"`, `"partitionKey": "EVIL",
			"sequenceNumber": "49568167373333333334444444444444444444444444444444444444"`)
	var seen int
	next := lambda.NewHandler(func(ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		seen = len(ev.Records)
		return events.KinesisEventResponse{}, nil
	})
	out, err := testProtector(t, WithPartialBatch(true)).Wrap(next).Invoke(lambdaCtx("r"), raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"batchItemFailures":[{"itemIdentifier":"49568167373333333334444444444444444444444444444444444444"}]}`; string(out) != want || seen != 1 {
		t.Errorf("Invoke() = %s with %d records seen, want %s with 1", out, seen, want)
	}
}

func TestMonitorModeNeverDisrupts(t *testing.T) {
	eng := testEngine(t, "marker.yaml", "mode: block", "mode: monitor")
	called := false
	var dec rules.Decision
	next := lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) error {
		called = true
		inv, _ := FromContext(ctx)
		dec = inv.Decision
		return nil
	})
	_, err := testProtector(t, WithEngine(eng)).Wrap(next).Invoke(lambdaCtx("r"), threeMessages(1))
	if err != nil || !called {
		t.Fatalf("Invoke() error = %v, handler called = %v, want nil, true", err, called)
	}
	if dec.Action != rules.ActionMonitor || len(dec.Matches) != 1 || dec.Matches[0].Path != "record[1].body.note" {
		t.Errorf("Decision = %+v, want one monitor match at record[1].body.note", dec)
	}
}

func TestModeOffPassesThrough(t *testing.T) {
	env := map[string]string{"LAMBDA_RASP_MODE": "off"}
	p, err := New(withGetenv(func(k string) string { return env[k] }), WithSocket(filepath.Join(t.TempDir(), "x.sock")))
	if err != nil {
		t.Fatal(err)
	}
	called := false
	next := lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) error {
		called = true
		if _, ok := FromContext(ctx); ok {
			t.Error("FromContext() ok = true with mode off, want a pass-through")
		}
		return nil
	})
	if _, err := p.Wrap(next).Invoke(lambdaCtx("r"), threeMessages(0, 1)); err != nil || !called {
		t.Errorf("Invoke() error = %v, called = %v, want nil, true", err, called)
	}
	if got := p.Stats().Invocations; got != 0 {
		t.Errorf("Stats().Invocations = %d, want 0 (no inspection)", got)
	}
}

func TestInvalidPolicyFailsEveryInvoke(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nmode: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LAMBDA_RASP_POLICY": bad}
	getenv := withGetenv(func(k string) string { return env[k] })
	_, newErr := New(getenv)
	if newErr == nil || !strings.Contains(newErr.Error(), "policy.yaml") {
		t.Fatalf("New() error = %v, want the loader's message naming the file", newErr)
	}
	h := Wrap(lambda.NewHandler(func() error { return nil }), getenv)
	for range 2 {
		if _, err := h.Invoke(context.Background(), []byte(`{}`)); err == nil || err.Error() != newErr.Error() {
			t.Errorf("Invoke() error = %v, want %v", err, newErr)
		}
	}
}

func TestInternalErrorsFollowOnError(t *testing.T) {
	tests := []struct {
		name       string
		onError    string
		parse      func([]byte, adapter.Limits) (*adapter.Event, error)
		give       string
		wantCalled bool
		wantReason string
	}{
		{"malformed, fail open", "allow", nil, `{"a":`, true, ""},
		{"malformed, fail closed", "block", nil, `{"a":`, false, "malformed event"},
		{"adapter panic, fail open", "allow", func([]byte, adapter.Limits) (*adapter.Event, error) { panic("boom") }, `{}`, true, ""},
		{"adapter panic, fail closed", "block", func([]byte, adapter.Limits) (*adapter.Event, error) { panic("boom") }, `{}`, false, "internal panic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testProtector(t, WithEngine(testEngine(t, "marker.yaml", "on_error: allow", "on_error: "+tt.onError)))
			if tt.parse != nil {
				p.parse = tt.parse
			}
			called := false
			next := invokeFunc(func(context.Context, []byte) ([]byte, error) { called = true; return nil, nil })
			_, err := p.Wrap(next).Invoke(lambdaCtx("r"), []byte(tt.give))
			if called != tt.wantCalled {
				t.Errorf("handler called = %v, want %v (err %v)", called, tt.wantCalled, err)
			}
			var be *BlockedError
			if tt.wantReason != "" && (!errors.As(err, &be) || be.Reason != tt.wantReason) {
				t.Errorf("Invoke() error = %v, want *BlockedError with reason %q", err, tt.wantReason)
			}
			if got := p.Stats().InternalErrors; got != 1 {
				t.Errorf("Stats().InternalErrors = %d, want 1", got)
			}
		})
	}
}

func TestCustomerErrorsAndPanicsPassThrough(t *testing.T) {
	want := errors.New("customer failure")
	h := testProtector(t).Wrap(lambda.NewHandler(func() error { return want }))
	if _, err := h.Invoke(lambdaCtx("r"), []byte(`{}`)); err != want {
		t.Errorf("Invoke() error = %v, want %v untouched", err, want)
	}
	h = testProtector(t).Wrap(panicHandler{})
	defer func() {
		if r := recover(); r != "customer panic" {
			t.Errorf("recovered %v, want the customer's panic", r)
		}
	}()
	_, _ = h.Invoke(lambdaCtx("r"), []byte(`{}`))
	t.Error("Invoke() returned, want the customer's panic to propagate")
}

// invokeFunc is a byte-level lambda.Handler.
type invokeFunc func(context.Context, []byte) ([]byte, error)

func (f invokeFunc) Invoke(ctx context.Context, b []byte) ([]byte, error) { return f(ctx, b) }

type panicHandler struct{}

func (panicHandler) Invoke(context.Context, []byte) ([]byte, error) { panic("customer panic") }

func TestConcurrentInvocations(t *testing.T) {
	p := testProtector(t)
	// One wrapped handler shared by every goroutine, as the runtime loops
	// of a Managed Instance share it.
	h := p.Wrap(lambda.NewHandler(func(ctx context.Context, _ json.RawMessage) (string, error) {
		inv, ok := FromContext(ctx)
		if !ok {
			return "", errors.New("no invocation")
		}
		return inv.RequestID, nil
	}))
	benign := readFixture(t, "apigw-v2-request-no-authorizer.json")
	attack := inject(t, "apigw-v2-request-no-authorizer.json", `"curl/7.58.0"`, `"EVIL"`)
	var wg sync.WaitGroup
	const workers, each = 16, 50
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := string(rune('a'+w)) + "-" + string(rune('a'+i%26))
				raw, blocked := benign, false
				if i%5 == 0 {
					raw, blocked = attack, true
				}
				out, err := h.Invoke(lambdaCtx(id), raw)
				switch {
				case err != nil:
					errs <- err
					return
				case blocked && !strings.Contains(string(out), `"statusCode":403`):
					errs <- errors.New("attack not blocked: " + string(out))
					return
				case !blocked && string(out) != `"`+id+`"`:
					errs <- errors.New("request " + id + " saw " + string(out))
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
	if got := p.Stats(); got.Invocations != workers*each || got.Blocked != workers*each/5 {
		t.Errorf("Stats() = %+v, want %d invocations, %d blocked", got, workers*each, workers*each/5)
	}
}

func TestMergeFailures(t *testing.T) {
	tests := []struct {
		give    string
		ids     []string
		want    string
		wantErr bool
	}{
		{"", []string{"a"}, `{"batchItemFailures":[{"itemIdentifier":"a"}]}`, false},
		{`{"batchItemFailures":null}`, []string{"a"}, `{"batchItemFailures":[{"itemIdentifier":"a"}]}`, false},
		{`{"batchItemFailures":[{"itemIdentifier":"a"}],"x":1}`, []string{"a", "b"}, `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"b"}],"x":1}`, false},
		{`[1]`, []string{"a"}, ``, true},
		{`{"batchItemFailures":3}`, []string{"a"}, ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			got, err := mergeFailures([]byte(tt.give), tt.ids)
			if (err != nil) != tt.wantErr || string(got) != tt.want {
				t.Errorf("mergeFailures(%s) = %s, %v, want %s, error %v", tt.give, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestGuardForSinkGuards(t *testing.T) {
	p := testProtector(t)
	if processGuard.Load() == nil {
		t.Fatal("processGuard = nil after New, want the first Protector's guard")
	}
	var got *guard
	h := p.Wrap(invokeFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
		got = guardFor(ctx)
		return nil, nil
	}))
	if _, err := h.Invoke(lambdaCtx("r"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if got != p.cur.Load() {
		t.Errorf("guardFor(handler ctx) = %p, want the wrapping Protector's guard %p", got, p.cur.Load())
	}
}

func TestPartialBatchFailsClosedOnIncompleteInspection(t *testing.T) {
	eng := testEngine(t, "marker.yaml", "on_error: allow", "on_error: block\nlimits: {max_fields: 3}")
	called := false
	next := invokeFunc(func(context.Context, []byte) ([]byte, error) { called = true; return nil, nil })
	_, err := testProtector(t, WithEngine(eng), WithPartialBatch(true)).Wrap(next).Invoke(lambdaCtx("r"), threeMessages(0))
	var be *BlockedError
	if !errors.As(err, &be) || called {
		t.Errorf("Invoke() error = %v, handler called = %v, want *BlockedError for the whole batch", err, called)
	}
}

func TestLoggerSeesInternalErrors(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	h := testProtector(t, WithLogger(zap.New(core))).Wrap(invokeFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil }))
	if _, err := h.Invoke(lambdaCtx("req-7"), []byte(`{"secret":"hunter2"`)); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 1 {
		t.Fatalf("%d log entries, want 1", logs.Len())
	}
	e := logs.All()[0]
	if e.ContextMap()["request_id"] != "req-7" || strings.Contains(fmt.Sprint(e.ContextMap()), "hunter2") {
		t.Errorf("log entry = %v, want the request id and no payload", e.ContextMap())
	}
}

// TestConcurrentPartialBatches runs partial batch responses from many
// goroutines on one Protector (Lambda Managed Instances): each invocation
// must withhold exactly its own offending record and report exactly it.
func TestConcurrentPartialBatches(t *testing.T) {
	p := testProtector(t, WithPartialBatch(true))
	var wg sync.WaitGroup
	const workers, each = 8, 40
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := p.Wrap(lambda.NewHandler(func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
				var ev struct {
					Records []struct {
						MessageID string `json:"messageId"`
					}
				}
				if err := json.Unmarshal(raw, &ev); err != nil {
					return nil, err
				}
				ids := make([]string, len(ev.Records))
				for i, r := range ev.Records {
					ids[i] = r.MessageID
				}
				return json.Marshal(map[string]any{"seen": ids})
			}))
			for i := range each {
				bad := (w + i) % 3
				out, err := h.Invoke(lambdaCtx(fmt.Sprintf("w%d-%d", w, i)), threeMessages(bad))
				if err != nil {
					errs <- err
					return
				}
				// The handler's own keys are kept next to the merged failures.
				var seen []string
				for r := range 3 {
					if r != bad {
						seen = append(seen, fmt.Sprintf(`"m%d"`, r))
					}
				}
				want := fmt.Sprintf(`{"batchItemFailures":[{"itemIdentifier":"m%d"}],"seen":[%s]}`, bad, strings.Join(seen, ","))
				if string(out) != want {
					errs <- fmt.Errorf("worker %d invoke %d: got %s, want %s", w, i, out, want)
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
	if got := p.Stats(); got.Invocations != workers*each {
		t.Errorf("Stats() = %+v, want %d invocations", got, workers*each)
	}
}
