package lambdasim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// apiClient talks to the simulator's Runtime/Extensions/Telemetry APIs the
// way a runtime or extension would.
type apiClient struct {
	t    *testing.T
	ctx  context.Context
	base string
}

type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r apiResponse) errorType() string {
	var e struct {
		ErrorType string `json:"errorType"`
	}
	_ = json.Unmarshal(r.body, &e) // an empty type fails the caller's check
	return e.ErrorType
}

func (c apiClient) do(method, path string, hdr map[string]string, body string) apiResponse {
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Error(err)
		return apiResponse{}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if c.ctx.Err() == nil { // long polls end when the test cancels them
			c.t.Errorf("%s %s: %v", method, path, err)
		}
		return apiResponse{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// async runs do in a goroutine and returns a channel with the response.
func (c apiClient) async(method, path string, hdr map[string]string, body string) <-chan apiResponse {
	ch := make(chan apiResponse, 1)
	go func() { ch <- c.do(method, path, hdr, body) }()
	return ch
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func waitFor(t *testing.T, s *lambdasim.Sim, kind lambdasim.EventKind, detail string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, e := range s.Events() {
			if e.Kind == kind && strings.Contains(e.Detail, detail) {
				return
			}
		}
	}
	t.Fatalf("no %s event with %q", kind, detail)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestAPIContract drives the APIs by hand: the test is the external
// extension "fake" and the runtime (the processes only sleep).
func TestAPIContract(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(sleeperBin, filepath.Join(dir, "fake")); err != nil {
		t.Fatal(err)
	}
	s, _ := newSim(t, lambdasim.Config{Bootstrap: sleeperBin, ExtensionsDir: dir, FunctionName: "contract", Handler: "main.handler"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := apiClient{t: t, ctx: ctx, base: "http://" + s.RuntimeAPI()}
	started := make(chan error, 1)
	go func() { started <- s.Start(ctx) }()
	waitFor(t, s, lambdasim.EventExtensionStart, "pid")

	const reg = "/2020-01-01/extension/register"
	name := func(n string) map[string]string { return map[string]string{"Lambda-Extension-Name": n} }
	tests := []struct {
		name       string
		giveHeader map[string]string
		giveBody   string
		wantStatus int
		wantType   string
	}{
		{name: "missing name", giveBody: `{"events":["INVOKE"]}`, wantStatus: 403, wantType: "Extension.InvalidExtensionName"},
		{name: "unknown external name", giveHeader: name("ghost"), giveBody: `{"events":["INVOKE"]}`, wantStatus: 403, wantType: "Extension.InvalidExtensionName"},
		{name: "unknown event", giveHeader: name("fake"), giveBody: `{"events":["INIT"]}`, wantStatus: 403, wantType: "Extension.InvalidEventType"},
		{name: "configurationKeys", giveHeader: name("fake"), giveBody: `{"events":["INVOKE"],"configurationKeys":["a"]}`, wantStatus: 400, wantType: "InvalidRequestFormat"},
		{name: "malformed body", giveHeader: name("fake"), giveBody: `{"events":`, wantStatus: 400, wantType: "InvalidRequestFormat"},
	}
	for _, tt := range tests {
		r := c.do(http.MethodPost, reg, tt.giveHeader, tt.giveBody)
		if r.status != tt.wantStatus || r.errorType() != tt.wantType {
			t.Errorf("register %s = %d %s, want %d %s", tt.name, r.status, r.body, tt.wantStatus, tt.wantType)
		}
	}

	r := c.do(http.MethodPost, reg, map[string]string{"Lambda-Extension-Name": "fake", "Lambda-Extension-Accept-Feature": "accountId"}, `{"events":["INVOKE","SHUTDOWN"]}`)
	id := r.header.Get("Lambda-Extension-Identifier")
	if r.status != http.StatusOK || !uuidRE.MatchString(id) {
		t.Fatalf("register = %d %s id %q, want 200 and a uuid", r.status, r.body, id)
	}
	var regBody map[string]string
	if err := json.Unmarshal(r.body, &regBody); err != nil {
		t.Fatal(err)
	}
	wantReg := map[string]string{"functionName": "contract", "functionVersion": "$LATEST", "handler": "main.handler", "accountId": "123456789012"}
	if !mapsEqual(regBody, wantReg) {
		t.Errorf("register body = %v, want %v", regBody, wantReg)
	}
	if r := c.do(http.MethodPost, reg, name("fake"), `{"events":["INVOKE"]}`); r.status != 403 || r.errorType() != "Extension.InvalidExtensionState" {
		t.Errorf("second register = %d %s, want 403 Extension.InvalidExtensionState", r.status, r.body)
	}
	extHdr := map[string]string{"Lambda-Extension-Identifier": id}
	if r := c.do(http.MethodGet, "/2020-01-01/extension/event/next", nil, ""); r.status != 403 || r.errorType() != "Extension.MissingHeader" {
		t.Errorf("next without id = %d %s", r.status, r.body)
	}
	if r := c.do(http.MethodGet, "/2020-01-01/extension/event/next", map[string]string{"Lambda-Extension-Identifier": "nope"}, ""); r.status != 403 || r.errorType() != "Extension.UnknownExtensionIdentifier" {
		t.Errorf("next with unknown id = %d %s", r.status, r.body)
	}

	// Telemetry: validation, then a subscription during init.
	listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer listener.Close()
	port := listener.URL[strings.LastIndex(listener.URL, ":")+1:]
	const tel = "/2022-07-01/telemetry"
	sub := `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"timeoutMs":25},"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:` + port + `"}}`
	if r := c.do(http.MethodPut, tel, extHdr, strings.Replace(sub, "2022-12-13", "1999-01-01", 1)); r.status != 400 || r.errorType() != "ValidationError" {
		t.Errorf("subscribe with a bad schema = %d %s, want 400 ValidationError", r.status, r.body)
	}
	if r := c.do(http.MethodPut, tel, extHdr, sub); r.status != 200 || string(r.body) != `"OK"` {
		t.Errorf("subscribe = %d %s, want 200 \"OK\"", r.status, r.body)
	}

	// The runtime starts only now; it registers internal extensions.
	waitFor(t, s, lambdasim.EventRuntimeStart, "pid")
	if r := c.do(http.MethodPost, reg, name("inproc"), `{"events":["SHUTDOWN"]}`); r.status != 403 || r.errorType() != "Extension.InvalidEventType" {
		t.Errorf("internal SHUTDOWN register = %d %s, want 403 Extension.InvalidEventType", r.status, r.body)
	}
	r = c.do(http.MethodPost, reg, name("inproc"), ``)
	inprocID := r.header.Get("Lambda-Extension-Identifier")
	if r.status != 200 || inprocID == "" {
		t.Fatalf("internal register = %d %s", r.status, r.body)
	}
	c.async(http.MethodGet, "/2020-01-01/extension/event/next", map[string]string{"Lambda-Extension-Identifier": inprocID}, "")
	rtNext := c.async(http.MethodGet, "/2018-06-01/runtime/invocation/next", nil, "")
	extNext := c.async(http.MethodGet, "/2020-01-01/extension/event/next", extHdr, "")
	if err := receive(t, started, "Start"); err != nil {
		t.Fatalf("Start() = %v", err)
	}

	// Init is over: registration, subscriptions and init errors are closed.
	closed := []struct {
		name       string
		givePath   string
		giveMethod string
		giveHeader map[string]string
		wantStatus int
		wantType   string
	}{
		{name: "late register", giveMethod: "POST", givePath: reg, giveHeader: name("fake"), wantStatus: 403, wantType: "Extension.RegistrationClosed"},
		{name: "late subscribe", giveMethod: "PUT", givePath: tel, giveHeader: extHdr, wantStatus: 403, wantType: "Telemetry.SubscriptionClosed"},
		{name: "late runtime init error", giveMethod: "POST", givePath: "/2018-06-01/runtime/init/error", wantStatus: 403, wantType: "InvalidStateTransition"},
		{name: "late extension init error", giveMethod: "POST", givePath: "/2020-01-01/extension/init/error", giveHeader: map[string]string{"Lambda-Extension-Identifier": id, "Lambda-Extension-Function-Error-Type": "Extension.Late"}, wantStatus: 403, wantType: "Extension.InvalidExtensionState"},
	}
	for _, tt := range closed {
		body := ""
		if tt.givePath == tel {
			body = sub
		}
		if r := c.do(tt.giveMethod, tt.givePath, tt.giveHeader, body); r.status != tt.wantStatus || r.errorType() != tt.wantType {
			t.Errorf("%s = %d %s, want %d %s", tt.name, r.status, r.body, tt.wantStatus, tt.wantType)
		}
	}

	// An invoke: the runtime's next carries every header, the extension's
	// INVOKE matches it.
	results := make(chan *lambdasim.Result, 1)
	opts := lambdasim.InvokeOptions{ClientContext: `{"custom":{"k":"v"}}`, CognitoIdentity: `{"cognitoIdentityId":"id-1"}`, TraceID: "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}
	invokeStart := time.Now()
	go func() {
		res, err := s.InvokeWithOptions(ctx, []byte(`{"n":1}`), opts)
		if err != nil {
			t.Error(err)
		}
		results <- res
	}()
	nr := receive(t, rtNext, "runtime next")
	reqID := nr.header.Get("Lambda-Runtime-Aws-Request-Id")
	deadline, _ := strconv.ParseInt(nr.header.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
	if nr.status != 200 || string(nr.body) != `{"n":1}` || !uuidRE.MatchString(reqID) {
		t.Fatalf("runtime next = %d %s id %q", nr.status, nr.body, reqID)
	}
	if d := time.UnixMilli(deadline).Sub(invokeStart); d < lambdasim.DefaultTimeout-time.Second || d > lambdasim.DefaultTimeout+time.Second {
		t.Errorf("deadline is %v after the invoke, want about %v", d, lambdasim.DefaultTimeout)
	}
	wantHeaders := map[string]string{
		"Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:contract",
		"Lambda-Runtime-Trace-Id":             opts.TraceID,
		"Lambda-Runtime-Client-Context":       opts.ClientContext,
		"Lambda-Runtime-Cognito-Identity":     opts.CognitoIdentity,
	}
	for k, v := range wantHeaders {
		if got := nr.header.Get(k); got != v {
			t.Errorf("next header %s = %q, want %q", k, got, v)
		}
	}
	er := receive(t, extNext, "extension next")
	var ev extEvent
	if err := json.Unmarshal(er.body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventType != "INVOKE" || ev.RequestID != reqID || ev.DeadlineMs != deadline || ev.Tracing == nil || ev.Tracing.Value != opts.TraceID {
		t.Errorf("INVOKE event = %s", er.body)
	}

	rt := "/2018-06-01/runtime/invocation/"
	if r := c.do(http.MethodPost, rt+"not-a-request/response", nil, `{}`); r.status != 400 || r.errorType() != "InvalidRequestID" {
		t.Errorf("response to an unknown id = %d %s", r.status, r.body)
	}
	if r := c.do(http.MethodPost, rt+reqID+"/response", nil, `{"ok":1}`); r.status != 202 {
		t.Errorf("response = %d %s, want 202", r.status, r.body)
	}
	if r := c.do(http.MethodPost, rt+reqID+"/response", nil, `{"ok":2}`); r.status != 400 || r.errorType() != "InvalidStateTransition" {
		t.Errorf("second response = %d %s, want 400 InvalidStateTransition", r.status, r.body)
	}
	if res := receive(t, results, "invoke result"); res.StatusCode != 200 || string(res.Body) != `{"ok":1}` || res.RequestID != reqID {
		t.Errorf("result = %+v", res)
	}
	// The invoke phase ends only when the extension calls next again.
	time.Sleep(50 * time.Millisecond)
	if ends := eventsOf(s, lambdasim.EventInvokeEnd, ""); len(ends) != 0 {
		t.Errorf("invoke ended before the extension called next: %v", ends)
	}

	// Error postings: with a type header and a JSON body, then plain text.
	errTests := []struct {
		giveHeader map[string]string
		giveBody   string
		wantType   string
		wantBody   string
	}{
		{
			giveHeader: map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.Custom"},
			giveBody:   `{"errorMessage":"x","errorType":"Custom","stackTrace":["a"]}`,
			wantType:   "Runtime.Custom",
			wantBody:   `{"errorMessage":"x","errorType":"Custom","stackTrace":["a"]}`,
		},
		{giveBody: "plain text", wantType: "Runtime.Unknown", wantBody: `{"errorMessage":"plain text","errorType":"Runtime.Unknown"}`},
	}
	for _, tt := range errTests {
		extNext = c.async(http.MethodGet, "/2020-01-01/extension/event/next", extHdr, "")
		rtNext = c.async(http.MethodGet, "/2018-06-01/runtime/invocation/next", nil, "")
		go func() {
			res, err := s.Invoke(ctx, []byte(`{}`))
			if err != nil {
				t.Error(err)
			}
			results <- res
		}()
		id := receive(t, rtNext, "runtime next").header.Get("Lambda-Runtime-Aws-Request-Id")
		if r := c.do(http.MethodPost, rt+id+"/error", tt.giveHeader, tt.giveBody); r.status != 202 {
			t.Errorf("error post = %d %s, want 202", r.status, r.body)
		}
		res := receive(t, results, "invoke result")
		if res.StatusCode != 200 || res.FunctionError != "Unhandled" || res.ErrorType != tt.wantType || string(res.Body) != tt.wantBody {
			t.Errorf("error result = %d %q %q %s, want 200 Unhandled %s %s", res.StatusCode, res.FunctionError, res.ErrorType, res.Body, tt.wantType, tt.wantBody)
		}
		receive(t, extNext, "extension next")
	}

	// exit/error needs the type header, answers 202, and ends the extension's access.
	const exitErr = "/2020-01-01/extension/exit/error"
	if r := c.do(http.MethodPost, exitErr, extHdr, `{}`); r.status != 400 || r.errorType() != "Extension.MissingHeader" {
		t.Errorf("exit/error without type = %d %s", r.status, r.body)
	}
	if r := c.do(http.MethodPost, exitErr, map[string]string{"Lambda-Extension-Identifier": id, "Lambda-Extension-Function-Error-Type": "Extension.Bye"}, `{"errorMessage":"bye"}`); r.status != 202 {
		t.Errorf("exit/error = %d %s, want 202", r.status, r.body)
	}
	// The failure also resets the environment, so the id may be gone already.
	if r := c.do(http.MethodGet, "/2020-01-01/extension/event/next", extHdr, ""); r.status != 403 ||
		(r.errorType() != "Extension.InvalidExtensionState" && r.errorType() != "Extension.UnknownExtensionIdentifier") {
		t.Errorf("next after exit/error = %d %s", r.status, r.body)
	}
	for deadline := time.Now().Add(10 * time.Second); len(eventsOf(s, lambdasim.EventInvokeEnd, "")) < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("invoke.end events = %v, want 3", eventsOf(s, lambdasim.EventInvokeEnd, ""))
		}
	}
	cancel()
	shutdown(t, s)
	// The final flush is bounded by half the shutdown budget: on a loaded
	// machine the delivery it started may be logged after Shutdown returns.
	for deadline := time.Now().Add(5 * time.Second); len(eventsOf(s, lambdasim.EventTelemetryDeliver, "fake")) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Error("no telemetry was delivered to the subscribed listener")
			break
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	ka := make([]string, 0, len(a))
	for k := range a {
		ka = append(ka, k)
	}
	slices.Sort(ka)
	kb := make([]string, 0, len(b))
	for k := range b {
		kb = append(kb, k)
	}
	slices.Sort(kb)
	if !slices.Equal(ka, kb) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
