package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// The reasons a datagram is dropped, the label values of
// lambda_rasp_ingest_errors_total.
const (
	ReasonMalformed = "malformed"
	ReasonOversized = "oversized"
	ReasonVersion   = "version"
)

// Consumer receives what the Listener reads. Its methods are called from
// one goroutine at a time.
type Consumer interface {
	// Handle is called with every valid event. e is only valid during the
	// call.
	Handle(e *wire.Event)
	// Reject is called for every dropped datagram with ReasonMalformed,
	// ReasonOversized or ReasonVersion.
	Reject(reason string)
}

// readBuffer is the socket receive buffer asked for, so bursts between two
// reads are not dropped by the kernel.
const readBuffer = 1 << 20

// Listener is a bound datagram socket.
type Listener struct {
	path string
	file fs.FileInfo // the socket file as bound, removed by Close if unchanged
	conn *net.UnixConn
	rc   syscall.RawConn
	c    Consumer

	// mu makes "read one datagram and hand it over" atomic, so that Drain
	// returning means every datagram queued before it was handled.
	mu  sync.Mutex
	buf [wire.MaxDatagram + 1]byte
	ev  wire.Event

	closeOnce sync.Once
	closeErr  error
}

// Listen binds a unix datagram socket at path for c: the directory is
// created with mode 0700 if missing, a stale socket left by an earlier
// process is removed, and the socket is made 0600 (the function runs as
// the same user). A non-socket file at path is an error.
func Listen(path string, c Consumer) (*Listener, error) {
	if path == "" {
		return nil, errors.New("ingest: empty socket path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ingest: socket directory: %w", err)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("ingest: %s exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("ingest: remove stale socket: %w", err)
		}
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("ingest: listen: %w", err)
	}
	_ = conn.SetReadBuffer(readBuffer) // best effort: the kernel may cap it
	if err := os.Chmod(path, 0o600); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ingest: chmod socket: %w", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ingest: %w", err)
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		_ = conn.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return &Listener{path: path, file: fi, conn: conn, rc: rc, c: c}, nil
}

// Path returns the socket path.
func (l *Listener) Path() string { return l.path }

// Serve reads and handles datagrams until Close; it returns nil after
// Close and the read error otherwise.
func (l *Listener) Serve() error {
	var rerr error
	err := l.rc.Read(func(fd uintptr) bool {
		for {
			done, err := l.readOne(fd)
			if err != nil {
				rerr = err
				return true
			}
			if !done {
				return false // queue empty: wait until readable
			}
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil && (errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ingest: read: %w", err)
	}
	return nil
}

// Drain handles every datagram queued on the socket now and returns how
// many it read itself. When it returns, every datagram sent before the
// call has been handled (by Drain or by Serve).
func (l *Listener) Drain() (int, error) {
	n := 0
	var rerr error
	err := l.rc.Control(func(fd uintptr) {
		for {
			got, err := l.readOne(fd)
			if err != nil {
				rerr = err
				return
			}
			if !got {
				return
			}
			n++
		}
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return n, fmt.Errorf("ingest: drain: %w", err)
	}
	return n, nil
}

// readOne reads and handles one datagram without blocking; got is false
// when none is queued.
func (l *Listener) readOne(fd uintptr) (got bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		n, err := syscall.Read(int(fd), l.buf[:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
			return false, nil
		case err != nil:
			return false, err
		}
		l.handle(l.buf[:n])
		return true, nil
	}
}

// Process handles one datagram as if it had been read from the socket.
func (l *Listener) Process(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.handle(b)
}

// handle decodes b and dispatches it; l.mu is held.
func (l *Listener) handle(b []byte) {
	reason, ok := decode(b, &l.ev)
	if !ok {
		l.c.Reject(reason)
		return
	}
	l.c.Handle(&l.ev)
}

// decode decodes b into e, or returns the rejection reason.
func decode(b []byte, e *wire.Event) (string, bool) {
	err := wire.Decode(b, e)
	switch {
	case err == nil:
		return "", true
	case errors.Is(err, wire.ErrTooLarge):
		return ReasonOversized, false
	case errors.Is(err, wire.ErrVersion):
		return ReasonVersion, false
	}
	return ReasonMalformed, false
}

// Close closes the socket and removes its file unless another process
// has replaced it since (same inode and modification time); Serve
// returns.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		if err := l.conn.Close(); err != nil {
			l.closeErr = fmt.Errorf("ingest: close: %w", err)
		}
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.file) && fi.ModTime().Equal(l.file.ModTime()) {
			_ = os.Remove(l.path)
		}
	})
	return l.closeErr
}

// NewProcessor returns a Listener without a socket, whose Process hands
// datagrams to c; for tests, benchmarks and fuzzing.
func NewProcessor(c Consumer) *Listener { return &Listener{c: c} }
