package lambdasim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// outputs are the writers children's output lines go to.
type outputs struct {
	stdout, stderr io.Writer
	mu             *sync.Mutex
}

// process is one child: an external extension or the runtime.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{} // closed after Wait returned
	err    error         // Wait's result; read only after exited is closed
	killed bool          // set before SIGKILL; guarded by mu
	mu     sync.Mutex
	outs   []*lineWriter
}

// startProcess starts path with env in its own process group. Output lines
// go to out prefixed with "[name] " and to onLine.
func startProcess(name, path, dir string, env []string, out outputs, onLine func(string)) (*process, error) {
	cmd := exec.Command(path)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &process{name: name, cmd: cmd, exited: make(chan struct{})}
	var readers, writers []*os.File
	for _, w := range []io.Writer{out.stdout, out.stderr} {
		pr, pw, err := os.Pipe()
		if err != nil {
			closeAll(readers, writers)
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		readers, writers = append(readers, pr), append(writers, pw)
		p.outs = append(p.outs, &lineWriter{prefix: "[" + name + "] ", w: w, onLine: onLine, wmu: out.mu, pipe: pr})
	}
	cmd.Stdout, cmd.Stderr = writers[0], writers[1]
	if err := cmd.Start(); err != nil {
		closeAll(readers, writers)
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	closeAll(nil, writers) // the child holds its own copies
	var copying sync.WaitGroup
	for _, lw := range p.outs {
		copying.Add(1)
		go func() {
			defer copying.Done()
			lw.copyFrom(lw.pipe)
		}()
	}
	go func() {
		p.err = cmd.Wait()
		copied := make(chan struct{})
		go func() { copying.Wait(); close(copied) }()
		select {
		case <-copied:
		case <-time.After(time.Second):
			// A grandchild keeps the pipes open; stop reading them.
			closeAll(readers, nil)
			<-copied
		}
		for _, w := range p.outs {
			w.flush()
		}
		closeAll(readers, nil)
		close(p.exited)
	}()
	return p, nil
}

func closeAll(a, b []*os.File) {
	for _, f := range append(a, b...) {
		_ = f.Close() // closing a pipe end cannot fail in a way we could handle
	}
}

// syncOutput waits (briefly) until output the process already wrote has
// been read and turned into lines, so log lines precede the platform
// events that follow them.
func (p *process) syncOutput() {
	for _, lw := range p.outs {
		// Normally nothing is pending; a busy machine may delay the reader.
		for deadline := time.Now().Add(time.Second); pendingBytes(lw.pipe) > 0 && time.Now().Before(deadline); {
			time.Sleep(200 * time.Microsecond)
		}
		lw.mu.Lock()
		lw.mu.Unlock() //nolint:staticcheck // an empty critical section waits for a Write in progress
	}
}

// pid returns the child's process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// done reports whether the process has exited.
func (p *process) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitStatus describes how the process ended; valid after exited is closed.
func (p *process) exitStatus() string {
	if p.err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal: " + ws.Signal().String()
		}
		return "exit status " + strconv.Itoa(ee.ExitCode())
	}
	return p.err.Error()
}

// signal sends sig to the whole process group.
func (p *process) signal(sig syscall.Signal) {
	if p.done() {
		return
	}
	if sig == syscall.SIGKILL {
		p.mu.Lock()
		p.killed = true
		p.mu.Unlock()
	}
	// The group id equals the pid (Setpgid); a failure means it is gone.
	if err := syscall.Kill(-p.pid(), sig); err != nil {
		_ = p.cmd.Process.Signal(sig) // best effort; the process may be gone
	}
}

// wasKilled reports whether the simulator sent SIGKILL.
func (p *process) wasKilled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.killed
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill() {
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// maxRSSMB returns the peak resident set size (VmHWM) of the process in MB,
// rounded up, or 0 when it cannot be read.
func (p *process) maxRSSMB() int {
	if p.done() {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid()) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
		if err != nil {
			return 0
		}
		return (kb + 1023) / 1024
	}
	return 0
}

// maxLine bounds one captured output line; longer lines are split.
const maxLine = 256 * 1024

// lineWriter splits a child's output into lines, prefixes them and writes
// each line with a single Write call.
type lineWriter struct {
	prefix string
	w      io.Writer
	onLine func(string)
	wmu    *sync.Mutex // serialises writes of all children to the shared writers
	pipe   *os.File    // read end the lines come from
	mu     sync.Mutex
	buf    []byte
}

// Write implements io.Writer.
func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLine {
				l.emit(l.buf[:maxLine])
				l.buf = append(l.buf[:0], l.buf[maxLine:]...)
				continue
			}
			break
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) == 0 {
		l.buf = nil
	}
	return len(p), nil
}

// copyFrom feeds everything read from r into the writer until EOF.
func (l *lineWriter) copyFrom(r io.Reader) {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = l.Write(buf[:n]) // Write never fails
		}
		if err != nil {
			return
		}
	}
}

func (l *lineWriter) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

func (l *lineWriter) emit(line []byte) {
	line = bytes.TrimSuffix(line, []byte{'\r'})
	out := make([]byte, 0, len(l.prefix)+len(line)+1)
	out = append(out, l.prefix...)
	out = append(out, line...)
	out = append(out, '\n')
	l.wmu.Lock()
	_, _ = l.w.Write(out) // the caller's writer; a failing log sink must not stop the child
	l.wmu.Unlock()
	if l.onLine != nil {
		l.onLine(string(line))
	}
}
