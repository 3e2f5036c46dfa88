package rasp

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

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
	op.b, ok = wire.Append(op.b[:0], e)
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
	var buf [16]wire.LogField
	lf := e.LogFields(buf[:0])
	fields := make([]zap.Field, 0, len(lf)+3)
	fields = append(fields, zap.String("kind", string(e.Kind)), zap.Time("event_time", e.Time))
	for _, f := range lf {
		fields = append(fields, zap.String(f.Key, f.Value))
	}
	if n := r.suppressed.Swap(0); n > 0 {
		fields = append(fields, zap.Uint64("suppressed", n))
	}
	r.fallback.Warn(wire.LogMessage, fields...)
}
