package extapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeAPI serves the Extensions API from handlers keyed by "METHOD path".
func fakeAPI(t *testing.T, routes map[string]http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			http.Error(w, "no route", http.StatusNotFound)
			return
		}
		h(w, r)
	}))
	c := New(strings.TrimPrefix(srv.URL, "http://"), "lambda-rasp")
	t.Cleanup(func() {
		c.http.CloseIdleConnections()
		srv.Close()
	})
	return c
}

func registered(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set(HeaderID, "id-1")
	_, _ = io.WriteString(w, `{"functionName":"orders","functionVersion":"$LATEST","handler":"bootstrap","accountId":"123456789012"}`)
}

func TestRegister(t *testing.T) {
	var gotName, gotAccept, gotBody string
	c := fakeAPI(t, map[string]http.HandlerFunc{
		"POST /2020-01-01/extension/register": func(w http.ResponseWriter, r *http.Request) {
			gotName, gotAccept = r.Header.Get(HeaderName), r.Header.Get(HeaderAccept)
			b, _ := io.ReadAll(r.Body)
			gotBody = string(b)
			registered(w, r)
		},
	})
	reg, err := c.Register(context.Background(), Invoke, Shutdown)
	if err != nil {
		t.Fatalf("Register() error = %v", err)
	}
	want := Registration{ID: "id-1", FunctionName: "orders", FunctionVersion: "$LATEST", Handler: "bootstrap", AccountID: "123456789012"}
	if reg != want {
		t.Errorf("Register() = %+v, want %+v", reg, want)
	}
	if gotName != "lambda-rasp" || gotAccept != "accountId" || gotBody != `{"events":["INVOKE","SHUTDOWN"]}` {
		t.Errorf("request name=%q accept=%q body=%s", gotName, gotAccept, gotBody)
	}
	if c.ID() != "id-1" {
		t.Errorf("ID() = %q", c.ID())
	}
}

func TestRegisterErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"403 with error body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"errorType":"Extension.InvalidEventType","errorMessage":"INVOKE is not supported"}`)
		}, "extapi: register: status 403 Extension.InvalidEventType: INVOKE is not supported"},
		{"500 without body", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) }, "extapi: register: status 500"},
		{"no identifier", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{}`) }, "no Lambda-Extension-Identifier header"},
		{"bad body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(HeaderID, "x")
			_, _ = io.WriteString(w, `{`)
		}, "response body"},
		{"huge body", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set(HeaderID, "x")
			_, _ = io.WriteString(w, strings.Repeat(" ", maxBody+10))
		}, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeAPI(t, map[string]http.HandlerFunc{"POST /2020-01-01/extension/register": tt.handler})
			_, err := c.Register(context.Background(), Invoke)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Register() error = %v, want it to contain %q", err, tt.want)
			}
			if c.ID() != "" {
				t.Errorf("ID() = %q after a failed register", c.ID())
			}
		})
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Event
		wantErr bool
	}{
		{
			name: "invoke",
			body: `{"eventType":"INVOKE","deadlineMs":1795348705508,"requestId":"r-1","invokedFunctionArn":"arn:aws:lambda:us-east-1:1:function:f","tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1"}}`,
			want: Event{Type: Invoke, RequestID: "r-1", Deadline: time.UnixMilli(1795348705508), InvokedFunctionARN: "arn:aws:lambda:us-east-1:1:function:f"},
		},
		{
			name: "shutdown sandbox terminated is failure",
			body: `{"eventType":"SHUTDOWN","deadlineMs":1795348409985,"shutdownReason":"SandboxTerminated"}`,
			want: Event{Type: Shutdown, Deadline: time.UnixMilli(1795348409985), ShutdownReason: Failure, RawShutdownReason: "SandboxTerminated"},
		},
		{
			name: "shutdown lower-case type and mixed-case reason",
			body: `{"eventType":"shutdown","deadlineMs":1,"shutdownReason":"Timeout"}`,
			want: Event{Type: Shutdown, Deadline: time.UnixMilli(1), ShutdownReason: Timeout, RawShutdownReason: "Timeout"},
		},
		{
			name: "spindown",
			body: `{"eventType":"SHUTDOWN","shutdownReason":"SPINDOWN"}`,
			want: Event{Type: Shutdown, ShutdownReason: Spindown, RawShutdownReason: "SPINDOWN"},
		},
		{name: "unknown type", body: `{"eventType":"RESTORE"}`, wantErr: true},
		{name: "not JSON", body: `<html>`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotID string
			c := fakeAPI(t, map[string]http.HandlerFunc{
				"POST /2020-01-01/extension/register": registered,
				"GET /2020-01-01/extension/event/next": func(w http.ResponseWriter, r *http.Request) {
					gotID = r.Header.Get(HeaderID)
					_, _ = io.WriteString(w, tt.body)
				},
			})
			if _, err := c.Register(context.Background(), Invoke); err != nil {
				t.Fatal(err)
			}
			got, err := c.Next(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Next() error = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if !got.Deadline.Equal(tt.want.Deadline) {
				t.Errorf("Deadline = %v, want %v", got.Deadline, tt.want.Deadline)
			}
			got.Deadline, tt.want.Deadline = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("Next() = %+v, want %+v", got, tt.want)
			}
			if gotID != "id-1" {
				t.Errorf("identifier header = %q", gotID)
			}
		})
	}
}

func TestNextHonoursContext(t *testing.T) {
	block := make(chan struct{})
	c := fakeAPI(t, map[string]http.HandlerFunc{
		"POST /2020-01-01/extension/register": registered,
		"GET /2020-01-01/extension/event/next": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-block:
			case <-r.Context().Done():
			}
		},
	})
	defer close(block)
	if _, err := c.Register(context.Background(), Invoke); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next() error = %v, want context.DeadlineExceeded", err)
	}
}

func TestNotRegistered(t *testing.T) {
	c := New("127.0.0.1:1", "x")
	if _, err := c.Next(context.Background()); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Next() error = %v", err)
	}
	if err := c.InitError(context.Background(), "Extension.X", "m"); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("InitError() error = %v", err)
	}
}

func TestReportErrors(t *testing.T) {
	tests := []struct {
		name    string
		call    func(*Client) error
		path    string
		status  int
		wantErr bool
	}{
		{"init error 202", func(c *Client) error {
			return c.InitError(context.Background(), "Extension.InvalidPolicy", "policy.yaml:3:1: bad")
		}, "/2020-01-01/extension/init/error", 202, false},
		{"init error 200", func(c *Client) error { return c.InitError(context.Background(), "Extension.InvalidPolicy", "m") }, "/2020-01-01/extension/init/error", 200, false},
		{"exit error 202", func(c *Client) error { return c.ExitError(context.Background(), "Extension.Failed", "m") }, "/2020-01-01/extension/exit/error", 202, false},
		{"exit error 403", func(c *Client) error { return c.ExitError(context.Background(), "Extension.Failed", "m") }, "/2020-01-01/extension/exit/error", 403, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotType, gotID string
			var gotBody map[string]any
			c := fakeAPI(t, map[string]http.HandlerFunc{
				"POST /2020-01-01/extension/register": registered,
				"POST " + tt.path: func(w http.ResponseWriter, r *http.Request) {
					gotType, gotID = r.Header.Get(HeaderErrorType), r.Header.Get(HeaderID)
					_ = json.NewDecoder(r.Body).Decode(&gotBody)
					w.WriteHeader(tt.status)
				},
			})
			if _, err := c.Register(context.Background(), Invoke); err != nil {
				t.Fatal(err)
			}
			err := tt.call(c)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, wantErr %v", err, tt.wantErr)
			}
			var se *StatusError
			if tt.wantErr && (!errors.As(err, &se) || se.Code != tt.status) {
				t.Errorf("error = %v, want a *StatusError with code %d", err, tt.status)
			}
			if gotID != "id-1" || !strings.HasPrefix(gotType, "Extension.") || gotBody["errorType"] != gotType || gotBody["errorMessage"] == "" {
				t.Errorf("request id=%q type=%q body=%v", gotID, gotType, gotBody)
			}
		})
	}
}

func TestParseShutdownReason(t *testing.T) {
	for give, want := range map[string]ShutdownReason{
		"SPINDOWN": Spindown, "spindown": Spindown, "Timeout": Timeout, "TIMEOUT": Timeout,
		"failure": Failure, "FAILURE": Failure, "ReleaseFail": Failure, "SandboxTerminated": Failure, "": Failure,
	} {
		if got := ParseShutdownReason(give); got != want {
			t.Errorf("ParseShutdownReason(%q) = %q, want %q", give, got, want)
		}
	}
}
