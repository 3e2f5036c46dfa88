package extapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Header names of the Extensions API.
const (
	HeaderName       = "Lambda-Extension-Name"
	HeaderID         = "Lambda-Extension-Identifier"
	HeaderErrorType  = "Lambda-Extension-Function-Error-Type"
	HeaderAccept     = "Lambda-Extension-Accept-Feature"
	featureAccountID = "accountId"
)

// maxBody bounds every response body read from the API.
const maxBody = 64 << 10

// EventType is the type of an event delivered by Next.
type EventType string

// The event types an external extension can register for.
const (
	Invoke   EventType = "INVOKE"
	Shutdown EventType = "SHUTDOWN"
)

// ShutdownReason says why the environment shuts down.
type ShutdownReason string

// The shutdown reasons, normalised to lower case. Unknown reasons
// (the emulator's "SandboxTerminated", "ReleaseFail", ...) are Failure.
const (
	Spindown ShutdownReason = "spindown"
	Timeout  ShutdownReason = "timeout"
	Failure  ShutdownReason = "failure"
)

// ParseShutdownReason normalises s case-insensitively; anything but
// spindown and timeout is Failure.
func ParseShutdownReason(s string) ShutdownReason {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case string(Spindown):
		return Spindown
	case string(Timeout):
		return Timeout
	}
	return Failure
}

// Event is one event returned by Next.
type Event struct {
	// Type is Invoke or Shutdown.
	Type EventType
	// RequestID is the invocation's request id (Invoke only).
	RequestID string
	// Deadline is the function timeout for Invoke and the end of the
	// shutdown budget for Shutdown; zero when the API sent none.
	Deadline time.Time
	// InvokedFunctionARN is the ARN the function was invoked with (Invoke only).
	InvokedFunctionARN string
	// ShutdownReason is the normalised reason (Shutdown only).
	ShutdownReason ShutdownReason
	// RawShutdownReason is the reason as the API spelt it.
	RawShutdownReason string
}

// Registration is the answer to Register.
type Registration struct {
	// ID is the extension identifier used in every later call.
	ID string
	// FunctionName, FunctionVersion and Handler describe the function.
	FunctionName    string `json:"functionName"`
	FunctionVersion string `json:"functionVersion"`
	Handler         string `json:"handler"`
	// AccountID is set when the platform supports the accountId feature.
	AccountID string `json:"accountId"`
}

// StatusError is a non-2xx answer of the API.
type StatusError struct {
	// Op is the call: "register", "next", "init/error" or "exit/error".
	Op string
	// Code is the HTTP status code.
	Code int
	// Type and Message come from the error body, when it has them.
	Type, Message string
}

// Error implements error.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("extapi: %s: status %d", e.Op, e.Code)
	if e.Type != "" {
		msg += " " + e.Type
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// ErrNotRegistered is returned by calls that need an identifier before
// Register succeeded.
var ErrNotRegistered = errors.New("extapi: not registered")

// Client calls the Extensions API. Register must succeed before the other
// calls. A Client is safe for concurrent use after Register.
type Client struct {
	base string
	name string
	http *http.Client
	id   string
}

// New returns a client for the API at runtimeAPI (host:port, the value of
// AWS_LAMBDA_RUNTIME_API) that registers as name, which for an external
// extension must be its executable's base name.
func New(runtimeAPI, name string) *Client {
	return &Client{
		base: "http://" + runtimeAPI + "/2020-01-01/extension",
		name: name,
		// No client timeout: next blocks until the next event. Calls are
		// bounded by their context instead. Never use a proxy for the
		// sandbox-local API.
		http: &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}},
	}
}

// ID returns the identifier from Register, or "".
func (c *Client) ID() string { return c.id }

// Register registers the extension for events and returns the function's
// description and the identifier.
func (c *Client) Register(ctx context.Context, events ...EventType) (Registration, error) {
	var reg Registration
	if events == nil {
		events = []EventType{}
	}
	body, err := json.Marshal(struct {
		Events []EventType `json:"events"`
	}{events})
	if err != nil {
		return reg, fmt.Errorf("extapi: register: %w", err)
	}
	hdr := http.Header{}
	hdr.Set(HeaderName, c.name)
	hdr.Set(HeaderAccept, featureAccountID)
	resp, b, err := c.do(ctx, "register", http.MethodPost, "/register", hdr, body)
	if err != nil {
		return reg, err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &reg); err != nil {
			return Registration{}, fmt.Errorf("extapi: register: response body: %w", err)
		}
	}
	reg.ID = resp.Header.Get(HeaderID)
	if reg.ID == "" {
		return Registration{}, fmt.Errorf("extapi: register: no %s header in the response", HeaderID)
	}
	c.id = reg.ID
	return reg, nil
}

// nextEvent is the JSON of an event.
type nextEvent struct {
	EventType          string `json:"eventType"`
	DeadlineMs         int64  `json:"deadlineMs"`
	RequestID          string `json:"requestId"`
	InvokedFunctionARN string `json:"invokedFunctionArn"`
	ShutdownReason     string `json:"shutdownReason"`
}

// Next blocks until the next event; ctx bounds the wait.
func (c *Client) Next(ctx context.Context) (Event, error) {
	if c.id == "" {
		return Event{}, ErrNotRegistered
	}
	hdr := http.Header{}
	hdr.Set(HeaderID, c.id)
	_, b, err := c.do(ctx, "next", http.MethodGet, "/event/next", hdr, nil)
	if err != nil {
		return Event{}, err
	}
	var ne nextEvent
	if err := json.Unmarshal(b, &ne); err != nil {
		return Event{}, fmt.Errorf("extapi: next: event body: %w", err)
	}
	ev := Event{
		RequestID:          ne.RequestID,
		InvokedFunctionARN: ne.InvokedFunctionARN,
		RawShutdownReason:  ne.ShutdownReason,
	}
	if ne.DeadlineMs > 0 {
		ev.Deadline = time.UnixMilli(ne.DeadlineMs)
	}
	switch strings.ToUpper(strings.TrimSpace(ne.EventType)) {
	case string(Invoke):
		ev.Type = Invoke
	case string(Shutdown):
		ev.Type = Shutdown
		ev.ShutdownReason = ParseShutdownReason(ne.ShutdownReason)
	default:
		return ev, fmt.Errorf("extapi: next: unknown event type %q", ne.EventType)
	}
	return ev, nil
}

// InitError reports a failed initialisation; errType must look like
// "Extension.Reason". Lambda fails Init with it; the extension must exit
// afterwards.
func (c *Client) InitError(ctx context.Context, errType, msg string) error {
	return c.reportError(ctx, "init/error", errType, msg)
}

// ExitError reports an error before exiting; the extension must exit
// afterwards.
func (c *Client) ExitError(ctx context.Context, errType, msg string) error {
	return c.reportError(ctx, "exit/error", errType, msg)
}

func (c *Client) reportError(ctx context.Context, op, errType, msg string) error {
	if c.id == "" {
		return ErrNotRegistered
	}
	body, err := json.Marshal(struct {
		ErrorMessage string   `json:"errorMessage"`
		ErrorType    string   `json:"errorType"`
		StackTrace   []string `json:"stackTrace"`
	}{msg, errType, []string{}})
	if err != nil {
		return fmt.Errorf("extapi: %s: %w", op, err)
	}
	hdr := http.Header{}
	hdr.Set(HeaderID, c.id)
	hdr.Set(HeaderErrorType, errType)
	_, _, err = c.do(ctx, op, http.MethodPost, "/"+op, hdr, body)
	return err
}

// do sends one request and returns the response with its bounded body; a
// non-2xx status is a *StatusError.
func (c *Client) do(ctx context.Context, op, method, path string, hdr http.Header, body []byte) (*http.Response, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("extapi: %s: %w", op, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("extapi: %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, nil, fmt.Errorf("extapi: %s: read body: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		se := &StatusError{Op: op, Code: resp.StatusCode}
		var eb struct {
			ErrorType    string `json:"errorType"`
			ErrorMessage string `json:"errorMessage"`
		}
		if json.Unmarshal(b, &eb) == nil {
			se.Type, se.Message = eb.ErrorType, truncate(eb.ErrorMessage, 512)
		}
		return nil, nil, se
	}
	if len(b) > maxBody {
		return nil, nil, fmt.Errorf("extapi: %s: response body larger than %d bytes", op, maxBody)
	}
	return resp, b, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
