package lambdasim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Telemetry API schema versions.
const (
	SchemaVersion20220701 = "2022-07-01"
	SchemaVersion20221213 = "2022-12-13"
	SchemaVersion20250129 = "2025-01-29"
)

// Telemetry buffering limits from the Telemetry API reference.
const (
	minMaxItems       = 1000
	maxMaxItems       = 10000
	defaultMaxItems   = 10000
	minMaxBytes       = 262144
	maxMaxBytes       = 1048576
	defaultMaxBytes   = 262144
	minTimeoutMs      = 25
	maxTimeoutMs      = 30000
	defaultTimeoutMs  = 1000
	reservedAPIPort   = "9001"
	deliveryAttempts  = 3
	maxBacklogRecords = 10000
)

// TelemetryEvent is one element of a batch the Telemetry API delivers:
// `{"time": ..., "type": ..., "record": ...}`.
type TelemetryEvent struct {
	// Time is an ISO-8601 timestamp with milliseconds.
	Time string `json:"time"`
	// Type is e.g. "platform.start", "function" or "extension".
	Type string `json:"type"`
	// Record is a JSON object for platform events and a string for log lines.
	Record any `json:"record"`
}

// category maps an event type to the subscription type that selects it.
func (e TelemetryEvent) category() string {
	switch e.Type {
	case "function", "extension":
		return e.Type
	default:
		return "platform"
	}
}

// subscribeRequest is the body of PUT /2022-07-01/telemetry.
type subscribeRequest struct {
	SchemaVersion string   `json:"schemaVersion"`
	Types         []string `json:"types"`
	Buffering     *struct {
		MaxItems  *int `json:"maxItems"`
		MaxBytes  *int `json:"maxBytes"`
		TimeoutMs *int `json:"timeoutMs"`
	} `json:"buffering"`
	Destination *struct {
		Protocol string `json:"protocol"`
		URI      string `json:"URI"`
		Port     int    `json:"port"`
	} `json:"destination"`
}

// subscription is a validated subscribe request.
type subscription struct {
	types     []string
	maxItems  int
	maxBytes  int
	timeout   time.Duration
	tcp       bool   // NDJSON over TCP instead of HTTP POSTs of JSON arrays
	target    string // URL (HTTP) or host:port (TCP) with the sandbox mapped to 127.0.0.1
	extension string
	discard   bool // drop batches instead of sending them (tests)
}

// parseSubscription validates a subscribe body; the error message is the
// one returned to the extension with 400 ValidationError.
func parseSubscription(body []byte, managed bool) (subscription, error) {
	var req subscribeRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return subscription{}, fmt.Errorf("malformed subscription request: %w", err)
	}
	var sub subscription
	switch req.SchemaVersion {
	case SchemaVersion20250129:
	case SchemaVersion20220701, SchemaVersion20221213:
		if managed {
			return sub, fmt.Errorf("schemaVersion %q is not supported on managed instances, use %q", req.SchemaVersion, SchemaVersion20250129)
		}
	default:
		return sub, fmt.Errorf("unknown schemaVersion %q", req.SchemaVersion)
	}
	if len(req.Types) == 0 {
		return sub, fmt.Errorf("types must list at least one of platform, function, extension")
	}
	for _, t := range req.Types {
		if t != "platform" && t != "function" && t != "extension" {
			return sub, fmt.Errorf("unknown type %q", t)
		}
		if !slices.Contains(sub.types, t) {
			sub.types = append(sub.types, t)
		}
	}
	sub.maxItems, sub.maxBytes, sub.timeout = defaultMaxItems, defaultMaxBytes, defaultTimeoutMs*time.Millisecond
	if b := req.Buffering; b != nil {
		if b.MaxItems != nil {
			if *b.MaxItems < minMaxItems || *b.MaxItems > maxMaxItems {
				return sub, fmt.Errorf("buffering.maxItems %d is outside %d..%d", *b.MaxItems, minMaxItems, maxMaxItems)
			}
			sub.maxItems = *b.MaxItems
		}
		if b.MaxBytes != nil {
			if *b.MaxBytes < minMaxBytes || *b.MaxBytes > maxMaxBytes {
				return sub, fmt.Errorf("buffering.maxBytes %d is outside %d..%d", *b.MaxBytes, minMaxBytes, maxMaxBytes)
			}
			sub.maxBytes = *b.MaxBytes
		}
		if b.TimeoutMs != nil {
			if *b.TimeoutMs < minTimeoutMs || *b.TimeoutMs > maxTimeoutMs {
				return sub, fmt.Errorf("buffering.timeoutMs %d is outside %d..%d", *b.TimeoutMs, minTimeoutMs, maxTimeoutMs)
			}
			sub.timeout = time.Duration(*b.TimeoutMs) * time.Millisecond
		}
	}
	d := req.Destination
	if d == nil {
		return sub, fmt.Errorf("destination is required")
	}
	switch d.Protocol {
	case "HTTP":
	case "TCP":
		if d.Port <= 0 || d.Port > 65535 || strconv.Itoa(d.Port) == reservedAPIPort {
			return sub, fmt.Errorf("destination port %d must be in 1..65535 and other than %s", d.Port, reservedAPIPort)
		}
		sub.tcp = true
		sub.target = net.JoinHostPort("127.0.0.1", strconv.Itoa(d.Port))
		return sub, nil
	default:
		return sub, fmt.Errorf("unknown destination protocol %q", d.Protocol)
	}
	u, err := url.Parse(d.URI)
	if err != nil {
		return sub, fmt.Errorf("destination URI: %w", err)
	}
	if u.Scheme != "http" {
		return sub, fmt.Errorf("destination URI %q must use http", d.URI)
	}
	host, port := u.Hostname(), u.Port()
	switch host {
	case "sandbox.localdomain", "sandbox", "localhost", "127.0.0.1":
	default:
		return sub, fmt.Errorf("destination host %q is outside the sandbox", host)
	}
	if port == "" || port == reservedAPIPort {
		return sub, fmt.Errorf("destination URI %q needs a port other than %s", d.URI, reservedAPIPort)
	}
	u.Host = net.JoinHostPort("127.0.0.1", port)
	sub.target = u.String()
	return sub, nil
}

// subscriber buffers telemetry for one extension and delivers batches.
type subscriber struct {
	sub    subscription
	client *http.Client
	log    func(Event)
	gate   runGate // nil when the listener is never frozen

	mu      sync.Mutex
	pending []TelemetryEvent
	bytes   int
	first   time.Time // when the oldest pending event arrived
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	dropped int
	conn    net.Conn // TCP destination; used only by the run goroutine
}

// runGate keeps a listener running while telemetry is delivered to it.
type runGate interface {
	// hold waits until the listener runs and keeps it running until
	// release; false (nothing held) when stop closes first.
	hold(stop <-chan struct{}) bool
	release()
}

func newSubscriber(sub subscription, backlog []TelemetryEvent, log func(Event), gate runGate) *subscriber {
	s := &subscriber{
		sub:     sub,
		gate:    gate,
		client:  &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}},
		log:     log,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	for _, e := range backlog {
		s.add(e)
	}
	go s.run()
	return s
}

// add queues e if the subscription selects its type.
func (s *subscriber) add(e TelemetryEvent) {
	if !slices.Contains(s.sub.types, e.category()) {
		return
	}
	size := approxSize(e)
	s.mu.Lock()
	if len(s.pending) >= 4*s.sub.maxItems || s.bytes+size > 4*s.sub.maxBytes {
		s.dropped++
		s.mu.Unlock()
		return
	}
	if len(s.pending) == 0 {
		s.first = time.Now()
	}
	s.pending = append(s.pending, e)
	s.bytes += size
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func approxSize(e TelemetryEvent) int {
	b, err := json.Marshal(e)
	if err != nil {
		return 256
	}
	return len(b)
}

// take removes up to maxItems pending events when a flush is due (or force
// is set) and returns how long to wait otherwise.
func (s *subscriber) take(force bool) ([]TelemetryEvent, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil, -1
	}
	wait := s.sub.timeout - time.Since(s.first)
	if !force && wait > 0 && len(s.pending) < s.sub.maxItems && s.bytes < s.sub.maxBytes {
		return nil, wait
	}
	n := min(len(s.pending), s.sub.maxItems)
	batch := s.pending[:n:n]
	s.pending = append([]TelemetryEvent(nil), s.pending[n:]...)
	s.bytes = 0
	for _, e := range s.pending {
		s.bytes += approxSize(e)
	}
	if s.dropped > 0 {
		batch = append(batch, TelemetryEvent{
			Time: isoTime(time.Now()), Type: "platform.logsDropped",
			Record: map[string]any{"reason": "Consumer seems to have fallen behind as it has not acknowledged receipt of logs.", "droppedRecords": s.dropped, "droppedBytes": 0},
		})
		s.dropped = 0
	}
	s.first = time.Now()
	return batch, 0
}

func (s *subscriber) run() {
	defer close(s.stopped)
	defer func() {
		if s.conn != nil {
			_ = s.conn.Close() // the listener gets EOF; nothing else to do
		}
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		batch, wait := s.take(false)
		if batch != nil {
			s.deliver(batch)
			continue
		}
		if wait < 0 {
			wait = time.Hour
		}
		timer.Reset(wait)
		select {
		case <-s.wake:
		case <-timer.C:
		case <-s.stop:
			for {
				batch, _ := s.take(true)
				if batch == nil {
					return
				}
				s.deliver(batch)
			}
		}
	}
}

// deliver sends one batch, retrying a few times with backoff: a POST of a
// JSON array (HTTP) or one JSON object per line (TCP).
func (s *subscriber) deliver(batch []TelemetryEvent) {
	if s.sub.discard {
		return
	}
	if s.sub.tcp {
		s.deliverTCP(batch)
		return
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; attempt <= deliveryAttempts; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.sub.target, bytes.NewReader(body))
		if err != nil {
			cancel()
			return
		}
		req.Header.Set("Content-Type", "application/json")
		held := s.hold()
		resp, err := s.client.Do(req)
		if err == nil {
			_ = resp.Body.Close() // the listener's reply body carries nothing
		}
		s.unhold(held)
		if err == nil {
			cancel()
			s.log(Event{Kind: EventTelemetryDeliver, Name: s.sub.extension, Detail: fmt.Sprintf("%d events, status %d", len(batch), resp.StatusCode)})
			return
		}
		cancel()
		select {
		case <-s.stop:
			if attempt >= 2 {
				return
			}
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	s.log(Event{Kind: EventTelemetryDeliver, Name: s.sub.extension, Detail: fmt.Sprintf("%d events dropped: listener unreachable", len(batch))})
}

// hold keeps the listener running for one delivery attempt: telemetry
// for a frozen listener waits in the buffer until it runs again.
func (s *subscriber) hold() bool { return s.gate != nil && s.gate.hold(s.stop) }

// unhold ends hold.
func (s *subscriber) unhold(held bool) {
	if held {
		s.gate.release()
	}
}

func (s *subscriber) deliverTCP(batch []TelemetryEvent) {
	var body []byte
	for _, e := range batch {
		b, err := json.Marshal(e)
		if err != nil {
			continue
		}
		body = append(append(body, b...), '\n')
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; attempt <= deliveryAttempts; attempt++ {
		held := s.hold()
		if s.conn == nil {
			conn, err := net.DialTimeout("tcp", s.sub.target, 2*time.Second)
			if err == nil {
				s.conn = conn
			}
		}
		sent := false
		if s.conn != nil {
			_ = s.conn.SetWriteDeadline(time.Now().Add(2 * time.Second)) // a failed write reports it
			_, err := s.conn.Write(body)
			sent = err == nil
		}
		s.unhold(held)
		if sent {
			s.log(Event{Kind: EventTelemetryDeliver, Name: s.sub.extension, Detail: fmt.Sprintf("%d events over tcp", len(batch))})
			return
		}
		if s.conn != nil {
			_ = s.conn.Close() // broken; dial again
			s.conn = nil
		}
		select {
		case <-s.stop:
			if attempt >= 2 {
				return
			}
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	s.log(Event{Kind: EventTelemetryDeliver, Name: s.sub.extension, Detail: fmt.Sprintf("%d events dropped: listener unreachable", len(batch))})
}

// close flushes what is pending and stops delivery, waiting at most until ctx ends.
func (s *subscriber) close(ctx context.Context) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	select {
	case <-s.stopped:
	case <-ctx.Done():
	}
	s.client.CloseIdleConnections()
}

// isoTime formats t like the Telemetry API: ISO-8601 UTC with milliseconds.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
