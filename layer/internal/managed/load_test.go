package managed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// The kinds of invocation the load mixes, each with its expected verdict.
const (
	kindEcho       = "apigw-v2 benign"
	kindEchoAttack = "apigw-v2 attack (blocked by the input guard)"
	kindBatch      = "sqs batch benign"
	kindBatchBad   = "sqs batch with an attack record (reported failed)"
	kindFile       = "rasp.ReadFile benign"
	kindFileAttack = "rasp.ReadFile traversal (refused by the file guard)"
)

// call is one invocation of the load and what its caller must get back.
type call struct {
	kind    string
	payload []byte
	tenant  string
	// want returns the exact response expected for requestID.
	want func(requestID string) []byte
}

// result is an invocation's outcome as a caller sees it, from the
// simulator or from AWS's emulator.
type result struct {
	status    int
	body      []byte
	errorType string
	requestID string // when the platform reports it
}

// invoker invokes the function once; refused reports a
// Runtime.Unavailable refusal, which the driver retries.
type invoker func(ctx context.Context, c *call) (res result, refused bool, err error)

// fileCount is how many distinct files the file route serves.
const fileCount = 16

// writeData fills dir with the files of the file route.
func writeData(t testing.TB, dir string) {
	t.Helper()
	for k := range fileCount {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%d.txt", k)), []byte(fileContent(k)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fileContent(k int) string {
	return fmt.Sprintf("content of file %d: %s", k, strings.Repeat(string(rune('a'+k)), 40+k))
}

// testPolicy is the default policy with the traversal input rule in
// monitor mode, so a traversal reaches the handler and the file guard is
// the one that refuses it, and a time budget the race detector cannot
// exhaust (an inspection past it would be decided by on_error).
func testPolicy(t testing.TB, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "rules", "policy", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range [][2]string{
		{"  - id: traversal\n    detector: traversal\n", "  - id: traversal\n    detector: traversal\n    mode: monitor\n"},
		{"  budget: 2ms\n", "  budget: 1s\n"},
	} {
		if !strings.Contains(s, r[0]) {
			t.Fatalf("default policy lacks %q: update the test", r[0])
		}
		s = strings.Replace(s, r[0], r[1], 1)
	}
	if i := strings.Index(s, "\ntests:"); i >= 0 {
		s = s[:i+1] // its event files are relative to the policy's directory
	}
	path := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// apigw is an API Gateway HTTP API event for GET path?query.
func apigw(path string, query map[string]string) []byte {
	var qs []string
	for k, v := range query {
		qs = append(qs, k+"="+v)
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET " + path, RawPath: path, RawQueryString: strings.Join(qs, "&"),
		Headers:               map[string]string{"accept": "application/json", "user-agent": "load/1.0", "host": "abc.execute-api.us-east-1.amazonaws.com"},
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "123456789012", APIID: "abc", Stage: "$default", RequestID: "gw-" + path,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: "load/1.0"},
		},
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// fnBody is the JSON body of the function's HTTP responses (testdata/fn
// Body: same fields, same order).
type fnBody struct {
	RequestID string `json:"requestId"`
	Tenant    string `json:"tenant,omitempty"`
	Token     string `json:"token,omitempty"`
	File      string `json:"file,omitempty"`
	Error     string `json:"error,omitempty"`
}

// httpResponse is the function's answer to an HTTP route.
func httpResponse(status int, body fnBody) []byte {
	bb, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	b, err := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"content-type": "application/json"}, Body: string(bb)})
	if err != nil {
		panic(err)
	}
	return b
}

// blockResponse is the wrapper's block response to an API Gateway HTTP
// API request (rasp/testdata/golden/apigw-v2.json).
func blockResponse(requestID string) []byte {
	return []byte(`{"statusCode":403,"headers":{"content-type":"application/json"},"body":"{\"message\":\"Forbidden\",\"requestId\":\"` + requestID + `\"}"}`)
}

// sqsBatch is an SQS event of three records; bad (when ≥ 0) carries an
// SQL injection.
func sqsBatch(i, bad int) ([]byte, []string) {
	var ev events.SQSEvent
	var ids []string
	for r := range 3 {
		id := fmt.Sprintf("m-%d-%d", i, r)
		body := fmt.Sprintf(`{"order":"o-%d-%d","note":"leave at the door"}`, i, r)
		if r == bad {
			body = fmt.Sprintf(`{"order":"o-%d-%d' OR '1'='1' --","note":"x"}`, i, r)
		}
		ids = append(ids, id)
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: id, ReceiptHandle: "rh-" + id, Body: body, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:orders", AWSRegion: "us-east-1",
			Attributes: map[string]string{"ApproximateReceiveCount": "1"},
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b, ids
}

// batchResponse is the function's answer to an SQS batch, with the
// records the wrapper reported failed.
func batchResponse(processed, failed []string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"batchItemFailures":[`)
	for i, id := range failed {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"itemIdentifier":"` + id + `"}`)
	}
	b.WriteString(`],"processed":[`)
	for i, id := range processed {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + id + `"`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// makeCalls builds n invocations mixing every kind; with tenants, each
// HTTP request names a tenant of its own, which its response echoes.
func makeCalls(n int, tenants bool) []*call {
	calls := make([]*call, 0, n)
	for i := range n {
		c := &call{}
		tenant := ""
		if tenants {
			tenant = fmt.Sprintf("tenant-%d", i%7)
			c.tenant = tenant
		}
		body := func(requestID string) fnBody { return fnBody{RequestID: requestID, Tenant: tenant} }
		switch i % 10 {
		case 0, 1, 2, 3:
			token := fmt.Sprintf("t%05d-%s", i, strings.Repeat("z", i%50))
			c.kind, c.payload = kindEcho, apigw("/echo", map[string]string{"token": token})
			c.want = func(id string) []byte { b := body(id); b.Token = token; return httpResponse(200, b) }
		case 4:
			c.kind, c.payload = kindEchoAttack, apigw("/echo", map[string]string{"token": fmt.Sprintf("x%d' UNION SELECT password FROM users --", i)})
			c.want = blockResponse
		case 5, 6:
			payload, ids := sqsBatch(i, -1)
			c.kind, c.payload = kindBatch, payload
			c.want = func(string) []byte { return batchResponse(ids, nil) }
		case 7:
			payload, ids := sqsBatch(i, 1)
			c.kind, c.payload = kindBatchBad, payload
			c.want = func(string) []byte { return batchResponse([]string{ids[0], ids[2]}, []string{ids[1]}) }
		case 8:
			k := i % fileCount
			c.kind, c.payload = kindFile, apigw("/file", map[string]string{"name": fmt.Sprintf("file-%d.txt", k)})
			c.want = func(id string) []byte { b := body(id); b.File = fileContent(k); return httpResponse(200, b) }
		case 9:
			// filepath.Join cleans the ".." out of the path the guard sees;
			// the destination is on the policy's deny list.
			c.kind, c.payload = kindFileAttack, apigw("/file", map[string]string{"name": "../../../../../../proc/self/environ"})
			c.want = func(id string) []byte { b := body(id); b.Error = "refused"; return httpResponse(403, b) }
		}
		calls = append(calls, c)
	}
	return calls
}

// requestIDOf extracts the request id the function or the wrapper put in
// an HTTP response body; "" for batch responses.
func requestIDOf(resp []byte) string {
	var outer struct {
		Body string `json:"body"`
	}
	if json.Unmarshal(resp, &outer) != nil || outer.Body == "" {
		return ""
	}
	var inner struct {
		RequestID string `json:"requestId"`
	}
	_ = json.Unmarshal([]byte(outer.Body), &inner)
	return inner.RequestID
}

// drive runs calls through invoke from workers goroutines at once and
// checks that every caller got exactly its own response: byte for byte
// what its own event asks for, with a request id no other caller got.
// knownID, when set, gives the request id the platform reported for a
// result (the simulator knows it; AWS's emulator does not say).
func drive(t *testing.T, invoke invoker, calls []*call, workers int, knownID bool) map[string]*call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	next := make(chan *call)
	var mu sync.Mutex
	seen := map[string]*call{} // request id → the call that got it
	counts := map[string]int{}
	refusals, failures := 0, 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				res, refused, err := invoke(ctx, c)
				for err == nil && refused {
					mu.Lock()
					refusals++
					mu.Unlock()
					time.Sleep(2 * time.Millisecond) // a poll loop is back in next soon

					res, refused, err = invoke(ctx, c)
				}
				if err != nil {
					t.Errorf("%s: %v", c.kind, err)
					continue
				}
				id := requestIDOf(res.body)
				if knownID {
					if id != "" && id != res.requestID {
						t.Errorf("%s: response names request %s, the platform ran it as %s", c.kind, id, res.requestID)
					}
					id = res.requestID
				}
				want := c.want(id)
				mu.Lock()
				counts[c.kind]++
				bad := res.status != 200 || res.errorType != "" || !bytes.Equal(res.body, want)
				if id != "" {
					if other, dup := seen[id]; dup {
						t.Errorf("%s: request id %s already answered a %s call", c.kind, id, other.kind)
					}
					seen[id] = c
				}
				if bad {
					failures++
				}
				mu.Unlock()
				if bad {
					t.Errorf("%s: got %d %q %.300s\nwant %.300s", c.kind, res.status, res.errorType, res.body, want)
				}
			}
		}()
	}
	for _, c := range calls {
		next <- c
	}
	close(next)
	wg.Wait()
	t.Logf("%d invocations by %d callers, %d refusals retried, %d wrong; by kind: %v", len(calls), workers, refusals, failures, counts)
	return seen
}

// buildFunction compiles testdata/fn as a provided.al2023 bootstrap;
// with the race detector on when the test binary has it, so a data race
// in the wrapper under concurrent invocations ends the function.
func buildFunction(out string) error {
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-o", out}
	env := append(os.Environ(), "CGO_ENABLED=0")
	if raceEnabled {
		args = append(args, "-race")
		env = append(os.Environ(), "CGO_ENABLED=1")
	}
	cmd := exec.Command("go", append(args, "./testdata/fn")...)
	cmd.Env = env
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the function: %w\n%s", err, b)
	}
	return nil
}

// Paths of the programs TestMain builds once.
var (
	fnBin  string // testdata/fn
	extBin string // the lambda-rasp extension
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "managed-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	fnBin, extBin = filepath.Join(dir, "bootstrap"), filepath.Join(dir, "lambda-rasp")
	if err := buildFunction(fnBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := lambdasim.BuildGo(context.Background(), "", "../../../extension", extBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// copyExecutable copies the program src to dst, readable and executable
// by everyone (AWS's emulator runs it as another user).
func copyExecutable(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
