package telemetryapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Schema versions used when subscribing.
const (
	// SchemaDefault is used for default (on-demand, provisioned) functions.
	SchemaDefault = "2022-12-13"
	// SchemaManaged is required on Lambda Managed Instances.
	SchemaManaged = "2025-01-29"
)

// SandboxHost is the host name Lambda delivers telemetry to.
const SandboxHost = "sandbox.localdomain"

const (
	// maxBatchBytes bounds one delivered batch: twice the largest
	// buffering.maxBytes (1 MiB) plus metadata.
	maxBatchBytes = 2<<20 + 64<<10
	// maxSubscribeBody bounds the subscribe response body.
	maxSubscribeBody = 64 << 10
	// rememberDone is how many finished request ids are remembered for a
	// Wait that comes after the event.
	rememberDone = 256
	// resolveTimeout bounds the lookup of SandboxHost.
	resolveTimeout = 300 * time.Millisecond
)

// Consumer receives invocation outcomes.
type Consumer interface {
	// Invocation counts one finished invocation with its status
	// ("success", "error", "timeout", "failure").
	Invocation(status string)
}

// Options configure Listen.
type Options struct {
	// Host is the address to bind; empty means the address SandboxHost
	// resolves to, else 127.0.0.1.
	Host string
	// Managed counts invocations from platform.report instead of
	// platform.runtimeDone (managed instances send no runtimeDone).
	Managed bool
}

// Listener receives telemetry batches over HTTP.
type Listener struct {
	ln      net.Listener
	srv     *http.Server
	c       Consumer
	managed bool
	served  chan error
	batches atomic.Int64

	mu      sync.Mutex
	done    map[string]bool
	ring    [rememberDone]string
	next    int
	waiters map[string][]chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Listen starts a listener on an ephemeral port.
func Listen(ctx context.Context, c Consumer, opts Options) (*Listener, error) {
	host := opts.Host
	if host == "" {
		host = sandboxAddr(ctx)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("telemetryapi: listen: %w", err)
	}
	l := &Listener{
		ln: ln, c: c, managed: opts.Managed,
		served:  make(chan error, 1),
		done:    map[string]bool{},
		waiters: map[string][]chan struct{}{},
	}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          nil,
	}
	go func() { l.served <- l.srv.Serve(ln) }()
	return l, nil
}

// sandboxAddr returns the first address SandboxHost resolves to, or
// 127.0.0.1.
func sandboxAddr(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, SandboxHost)
	if err != nil || len(addrs) == 0 {
		return "127.0.0.1"
	}
	for _, a := range addrs {
		if a.IP.To4() != nil {
			return a.IP.String()
		}
	}
	return addrs[0].IP.String()
}

// Batches returns how many batches have been delivered so far; zero
// after Init means the platform cannot reach the listener.
func (l *Listener) Batches() int64 { return l.batches.Load() }

// Addr returns the address the listener is bound to.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// URI returns the destination URI to subscribe with.
func (l *Listener) URI() string {
	_, port, _ := net.SplitHostPort(l.ln.Addr().String())
	return "http://" + net.JoinHostPort(SandboxHost, port) + "/"
}

// event is one element of a batch; the record is decoded only for the
// event types that matter.
type event struct {
	Type   string          `json:"type"`
	Record json.RawMessage `json:"record"`
}

type invocationRecord struct {
	RequestID string `json:"requestId"`
	Status    string `json:"status"`
}

// serveHTTP handles one batch: a JSON array of events. It must never log
// (see the package doc).
func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	l.batches.Add(1)
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBatchBytes))
	if err := l.decodeBatch(dec); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// decodeBatch streams the array, handling each event as it is decoded, so
// a batch malformed at its end still counts the events before it.
func (l *Listener) decodeBatch(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return errors.New("telemetryapi: batch is not a JSON array")
	}
	for dec.More() {
		var e event
		if err := dec.Decode(&e); err != nil {
			return err
		}
		l.handle(&e)
	}
	_, err = dec.Token()
	return err
}

func (l *Listener) handle(e *event) {
	var count bool
	switch e.Type {
	case "platform.runtimeDone":
		count = !l.managed
	case "platform.report":
		count = l.managed
	default:
		return
	}
	if !count && e.Type != "platform.runtimeDone" {
		return // a report outside managed instances: nothing to read
	}
	var rec invocationRecord
	if err := json.Unmarshal(e.Record, &rec); err != nil {
		return
	}
	if count && rec.Status != "" {
		l.c.Invocation(rec.Status)
	}
	if e.Type == "platform.runtimeDone" && rec.RequestID != "" {
		l.finish(rec.RequestID)
	}
}

// finish records that requestID's runtime is done and wakes its waiters.
func (l *Listener) finish(requestID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done[requestID] {
		if old := l.ring[l.next]; old != "" {
			delete(l.done, old)
		}
		l.ring[l.next] = requestID
		l.next = (l.next + 1) % rememberDone
		l.done[requestID] = true
	}
	for _, ch := range l.waiters[requestID] {
		close(ch)
	}
	delete(l.waiters, requestID)
}

// Wait returns once platform.runtimeDone of requestID arrived (also if it
// arrived before the call), or ctx's error.
func (l *Listener) Wait(ctx context.Context, requestID string) error {
	l.mu.Lock()
	if l.done[requestID] {
		l.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	l.waiters[requestID] = append(l.waiters[requestID], ch)
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		ws := l.waiters[requestID]
		for i, w := range ws {
			if w == ch {
				ws = append(ws[:i], ws[i+1:]...)
				break
			}
		}
		if len(ws) == 0 {
			delete(l.waiters, requestID)
		} else {
			l.waiters[requestID] = ws
		}
		l.mu.Unlock()
		return fmt.Errorf("telemetryapi: wait for %s: %w", requestID, ctx.Err())
	}
}

// Close stops the listener.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			_ = l.srv.Close()
		}
		if err := <-l.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.closeErr = fmt.Errorf("telemetryapi: serve: %w", err)
		}
	})
	return l.closeErr
}

// SubscribeError is a refused subscription.
type SubscribeError struct {
	// Code is the HTTP status.
	Code int
	// Body is the start of the response body.
	Body string
}

// Error implements error.
func (e *SubscribeError) Error() string {
	return "telemetryapi: subscribe: status " + strconv.Itoa(e.Code) + ": " + e.Body
}

// Subscribe subscribes extensionID to platform events delivered to uri,
// with the given schema version, through the Telemetry API at runtimeAPI
// (host:port). Any 2xx answer other than the classic emulator's
// "Telemetry.NotSupported" stub is success.
func Subscribe(ctx context.Context, runtimeAPI, extensionID, uri, schema string) error {
	body, err := json.Marshal(map[string]any{
		"schemaVersion": schema,
		"types":         []string{"platform"},
		"buffering":     map[string]int{"maxItems": 1000, "maxBytes": 262144, "timeoutMs": 25},
		"destination":   map[string]string{"protocol": "HTTP", "URI": uri},
	})
	if err != nil {
		return fmt.Errorf("telemetryapi: subscribe: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+runtimeAPI+"/2022-07-01/telemetry", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("telemetryapi: subscribe: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Extension-Identifier", extensionID)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("telemetryapi: subscribe: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxSubscribeBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 || bytes.Contains(b, []byte("Telemetry.NotSupported")) {
		if len(b) > 256 {
			b = b[:256]
		}
		return &SubscribeError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(b))}
	}
	return nil
}
