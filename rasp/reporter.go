package rasp

import (
	"errors"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

const (
	// redialEvery is the least time between two attempts to connect to
	// the extension's socket.
	redialEvery = time.Second
	// fallbackPerSecond bounds the security events logged locally per
	// second when the extension cannot take them.
	fallbackPerSecond = 20
	// maxFieldBytes is what path and excerpt are cut to when an event
	// would not fit in one datagram.
	maxFieldBytes = 256
)

// reporter sends security events to the extension, one JSON object per
// unix datagram. It never blocks: writes are non-blocking syscalls, and
// an event the socket cannot take now is counted as dropped and logged
// locally (rate-limited). The drop count rides on the next datagram that
// gets through. It is safe for concurrent use and starts no goroutine.
type reporter struct {
	path     string
	fallback *zap.Logger
	now      func() time.Time

	sock     atomic.Pointer[sock]
	dialMu   sync.Mutex
	nextDial atomic.Int64 // unix nanoseconds before which no dial is tried
	dropped  atomic.Uint64

	logSecond  atomic.Int64 // the second the fallback log count is for
	logCount   atomic.Int64
	suppressed atomic.Uint64 // fallback lines not written because of the rate limit

	ops sync.Pool // *writeOp
}

// sock is a connected datagram socket and its raw handle.
type sock struct {
	c  *net.UnixConn
	rc syscall.RawConn
}

var _ emitter = (*reporter)(nil)

// newReporter returns a reporter for the socket at path. fallback logs
// what cannot be sent; nil means JSON lines on stderr.
func newReporter(path string, fallback *zap.Logger) *reporter {
	if fallback == nil {
		fallback = stderrLogger()
	}
	r := &reporter{path: path, fallback: fallback, now: time.Now}
	r.ops.New = func() any {
		op := &writeOp{b: make([]byte, 0, 512)}
		op.fn = op.do
		return op
	}
	return r
}

// stderrLogger logs JSON lines on stderr, where Lambda collects the
// function's log.
func stderrLogger() *zap.Logger {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = "time"
	cfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.Lock(os.Stderr), zapcore.InfoLevel)
	return zap.New(core).Named("lambda-rasp")
}

// Emit sends e, or counts and logs it when the socket cannot take it.
func (r *reporter) Emit(e *wire.Event) {
	if e.Time.IsZero() {
		e.Time = r.now()
	}
	s := r.conn()
	if s == nil {
		r.drop(e)
		return
	}
	dropped := r.dropped.Swap(0)
	e.Dropped = dropped
	op := r.ops.Get().(*writeOp)
	var ok bool
	op.b, ok = appendEvent(op.b[:0], e)
	var err error
	if ok {
		err = op.write(s)
	}
	r.ops.Put(op)
	e.Dropped = 0
	if ok && err == nil {
		return
	}
	r.dropped.Add(dropped)
	if err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.ENOBUFS) {
		r.reset(s) // the extension went away; redial later
	}
	r.drop(e)
}

// Dropped returns the events dropped since the last successful send.
func (r *reporter) Dropped() uint64 { return r.dropped.Load() }

// conn returns the connected socket, dialling at most once per
// redialEvery; nil when there is none (yet).
func (r *reporter) conn() *sock {
	if s := r.sock.Load(); s != nil {
		return s
	}
	now := r.now().UnixNano()
	if now < r.nextDial.Load() || !r.dialMu.TryLock() {
		return nil
	}
	defer r.dialMu.Unlock()
	if s := r.sock.Load(); s != nil {
		return s
	}
	r.nextDial.Store(now + int64(redialEvery))
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: r.path, Net: "unixgram"})
	if err != nil {
		return nil
	}
	rc, err := c.SyscallConn()
	if err != nil {
		_ = c.Close()
		return nil
	}
	s := &sock{c: c, rc: rc}
	r.sock.Store(s)
	return s
}

// reset forgets s (if still current) so the next Emit redials.
func (r *reporter) reset(s *sock) {
	if r.sock.CompareAndSwap(s, nil) {
		_ = s.c.Close()
	}
}

// Close closes the socket. Emit keeps working afterwards (it redials).
func (r *reporter) Close() error {
	if s := r.sock.Swap(nil); s != nil {
		return s.c.Close()
	}
	return nil
}

// writeOp is a reusable datagram write: its buffer and its syscall
// callback are allocated once, not per send.
type writeOp struct {
	b   []byte
	err error
	fn  func(fd uintptr) bool
}

func (op *writeOp) do(fd uintptr) bool {
	_, op.err = syscall.Write(int(fd), op.b)
	return true // never wait for the socket to become writable
}

// write sends op.b on s in one non-blocking syscall: a full socket is
// EAGAIN, never a wait.
func (op *writeOp) write(s *sock) error {
	op.err = nil
	if err := s.rc.Write(op.fn); err != nil {
		return err
	}
	return op.err
}

// drop counts e as dropped and logs it locally, unless it carries no
// security information (a clean inspection) or the rate limit is hit.
func (r *reporter) drop(e *wire.Event) {
	r.dropped.Add(1)
	if e.Kind == wire.KindInspection && e.Reason == "" && e.Action != "block" {
		return
	}
	sec := e.Time.Unix()
	if old := r.logSecond.Load(); old != sec && r.logSecond.CompareAndSwap(old, sec) {
		r.logCount.Store(0)
	}
	if r.logCount.Add(1) > fallbackPerSecond {
		r.suppressed.Add(1)
		return
	}
	fields := make([]zap.Field, 0, 16)
	fields = append(fields, zap.String("kind", string(e.Kind)), zap.Time("event_time", e.Time))
	for _, kv := range [...]struct{ k, v string }{
		{"function", e.Function}, {"request_id", e.RequestID}, {"tenant_id", e.TenantID}, {"event_source", e.EventSource},
		{"action", e.Action}, {"rule", e.RuleID}, {"category", e.Category}, {"source", e.Source},
		{"path", e.Path}, {"excerpt", e.Excerpt}, {"sink", e.Sink}, {"dest", e.Dest},
		{"reason", e.Reason}, {"policy_version", e.PolicyVersion},
	} {
		if kv.v != "" {
			fields = append(fields, zap.String(kv.k, kv.v))
		}
	}
	if n := r.suppressed.Swap(0); n > 0 {
		fields = append(fields, zap.Uint64("suppressed", n))
	}
	r.fallback.Info("security event", fields...)
}

// appendEvent appends the wire JSON of e (as wire.Encode would write it)
// without reflection. Oversized paths and excerpts are cut; ok is false
// when the event still does not fit in a datagram.
func appendEvent(dst []byte, e *wire.Event) ([]byte, bool) {
	start := len(dst)
	b := encodeEvent(dst, e, 0)
	if len(b)-start <= wire.MaxDatagram {
		return b, true
	}
	b = encodeEvent(b[:start], e, maxFieldBytes)
	return b, len(b)-start <= wire.MaxDatagram
}

func encodeEvent(b []byte, e *wire.Event, cut int) []byte {
	clip := func(s string) string {
		if cut > 0 {
			return wire.Truncate(s, cut)
		}
		return s
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, wire.Version, 10)
	b = append(b, `,"kind":`...)
	b = appendString(b, string(e.Kind))
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "fn", e.Function)
	b = appendField(b, "req", e.RequestID)
	b = appendField(b, "tenant", clip(e.TenantID))
	b = appendField(b, "src", e.EventSource)
	b = appendField(b, "action", e.Action)
	b = appendField(b, "rule", e.RuleID)
	b = appendField(b, "cat", e.Category)
	b = appendField(b, "source", e.Source)
	b = appendField(b, "path", clip(e.Path))
	b = appendField(b, "excerpt", clip(e.Excerpt))
	b = appendField(b, "sink", e.Sink)
	b = appendField(b, "dest", clip(e.Dest))
	b = appendField(b, "class", e.Class)
	b = appendField(b, "reason", clip(e.Reason))
	b = appendField(b, "policy", e.PolicyVersion)
	if e.DurationNS != 0 {
		b = append(b, `,"dur_ns":`...)
		b = strconv.AppendInt(b, e.DurationNS, 10)
	}
	if e.Matches != 0 {
		b = append(b, `,"matches":`...)
		b = strconv.AppendInt(b, int64(e.Matches), 10)
	}
	if e.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if e.Dropped != 0 {
		b = append(b, `,"dropped":`...)
		b = strconv.AppendUint(b, e.Dropped, 10)
	}
	return append(b, '}')
}

func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD,
// as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
