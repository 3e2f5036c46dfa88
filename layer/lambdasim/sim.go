package lambdasim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Sim is a local Lambda execution environment. Create it with New, call
// Start (or just Invoke, which initialises lazily like a cold start) and
// Shutdown when done. A Sim is safe for concurrent use.
type Sim struct {
	cfg       Config
	bootstrap string // absolute path
	out       outputs
	events    eventLog

	apiLn, invokeLn   net.Listener
	apiSrv, invokeSrv *http.Server
	serveWG           sync.WaitGroup
	bgWG              sync.WaitGroup // invoke phases that outlive their response

	// phase serialises Init, classic invokes, resets and Shutdown; managed
	// invokes share it for reading.
	phase sync.RWMutex

	// testOnlyNoDelivery makes telemetry subscribers drop batches instead of
	// sending them (handler fuzzing must not dial arbitrary local ports).
	testOnlyNoDelivery bool

	mu      sync.Mutex
	current *sandbox
	gen     int
	closed  bool
}

// New validates cfg and binds the two loopback listeners. It starts no
// process; see Start.
func New(cfg Config) (*Sim, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(cfg.Bootstrap)
	if err != nil {
		return nil, fmt.Errorf("%w: bootstrap: %w", ErrInvalidConfig, err)
	}
	s := &Sim{cfg: cfg, bootstrap: abs, out: outputs{stdout: cfg.Stdout, stderr: cfg.Stderr, mu: &sync.Mutex{}}}
	s.events.hook = cfg.OnEvent
	s.apiLn, err = net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return nil, fmt.Errorf("listen runtime api: %w", err)
	}
	s.invokeLn, err = net.Listen("tcp", cfg.InvokeAddr)
	if err != nil {
		_ = s.apiLn.Close() // already failing; the listen error is the one to report
		return nil, fmt.Errorf("listen invoke endpoint: %w", err)
	}
	s.apiSrv = &http.Server{Handler: s.apiHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.invokeSrv = &http.Server{Handler: s.invokeHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.serveWG.Add(2)
	go func() { defer s.serveWG.Done(); _ = s.apiSrv.Serve(s.apiLn) }()       // returns ErrServerClosed on Shutdown
	go func() { defer s.serveWG.Done(); _ = s.invokeSrv.Serve(s.invokeLn) }() // returns ErrServerClosed on Shutdown
	return s, nil
}

// RuntimeAPI returns the host:port exported to children as AWS_LAMBDA_RUNTIME_API.
func (s *Sim) RuntimeAPI() string { return s.apiLn.Addr().String() }

// InvokeURL returns the URL of the invoke endpoint
// (POST /2015-03-31/functions/function/invocations).
func (s *Sim) InvokeURL() string {
	return "http://" + s.invokeLn.Addr().String() + "/2015-03-31/functions/function/invocations"
}

// Events returns a copy of the lifecycle log.
func (s *Sim) Events() []Event { return s.events.snapshot() }

// Extensions describes the extensions of the current environment, in
// launch and registration order; it is empty when no environment exists.
func (s *Sim) Extensions() []ExtensionInfo {
	sb := s.sandbox()
	if sb == nil {
		return nil
	}
	return sb.extensionInfos()
}

// Start runs the Init phase. It returns an *InitError when an extension or
// the runtime fails to initialise; the next Invoke then retries Init. ctx is
// checked before Init begins; Init itself is bounded by Config.InitTimeout,
// as on the service, where a caller going away does not stop an Init.
func (s *Sim) Start(ctx context.Context) error {
	s.phase.Lock()
	defer s.phase.Unlock()
	_, err := s.ensureSandbox(ctx)
	return err
}

// ensureSandbox returns the ready environment, resetting a broken one and
// initialising a new one if needed. The caller holds s.phase for writing.
func (s *Sim) ensureSandbox(ctx context.Context) (*sandbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	sb := s.current
	s.mu.Unlock()
	if sb != nil && sb.isBroken() {
		s.reset(sb, ReasonFailure)
		sb = nil
	}
	if sb != nil {
		return sb, nil
	}
	s.mu.Lock()
	s.gen++
	sb = newSandbox(s, s.gen)
	s.current = sb
	s.mu.Unlock()
	if err := sb.initialize(); err != nil {
		s.mu.Lock()
		if s.current == sb {
			s.current = nil
		}
		s.mu.Unlock()
		return nil, err
	}
	return sb, nil
}

// reset shuts sb down with reason; the next invoke initialises a new
// environment. sb stays current while it shuts down so that its extensions
// can still fetch their SHUTDOWN event.
func (s *Sim) reset(sb *sandbox, reason string) {
	sb.shutdown(reason, s.cfg.ShutdownBudget)
	s.mu.Lock()
	if s.current == sb {
		s.current = nil
	}
	s.mu.Unlock()
}

// Shutdown runs the Shutdown phase with reason (ReasonSpindown if empty),
// waits for in-flight invokes, closes the listeners and stops every child.
// Later calls return ErrClosed.
func (s *Sim) Shutdown(ctx context.Context, reason string) error {
	if reason == "" {
		reason = ReasonSpindown
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()

	locked := make(chan struct{})
	go func() { s.phase.Lock(); close(locked) }()
	select {
	case <-locked:
	case <-ctx.Done():
		// In-flight invokes hold the phase; their environment is torn down
		// anyway, which ends them.
	}
	s.mu.Lock()
	sb := s.current
	s.mu.Unlock()
	if sb != nil {
		s.reset(sb, reason)
	}
	<-locked
	s.phase.Unlock()
	s.bgWG.Wait()

	shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := errors.Join(s.apiSrv.Shutdown(shutCtx), s.invokeSrv.Shutdown(shutCtx))
	if err != nil {
		err = errors.Join(s.apiSrv.Close(), s.invokeSrv.Close())
	}
	s.serveWG.Wait()
	if err != nil {
		return fmt.Errorf("close listeners: %w", err)
	}
	return nil
}

// Close is Shutdown with ReasonSpindown and no deadline beyond the
// Shutdown phase's own budget.
func (s *Sim) Close() error {
	return s.Shutdown(context.Background(), ReasonSpindown)
}

func (s *Sim) initType() string {
	if s.cfg.ManagedInstances {
		return InitTypeManagedInstances
	}
	return InitTypeOnDemand
}

func (s *Sim) functionARN() string {
	return "arn:aws:lambda:" + s.cfg.Region + ":" + s.cfg.AccountID + ":function:" + s.cfg.FunctionName
}

// runtimeOnly lists variables extensions do not get.
var runtimeOnly = map[string]bool{
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true,
	"AWS_XRAY_CONTEXT_MISSING": true, "AWS_XRAY_DAEMON_ADDRESS": true, "LAMBDA_RUNTIME_DIR": true,
	"LAMBDA_TASK_ROOT": true, "_AWS_XRAY_DAEMON_ADDRESS": true, "_AWS_XRAY_DAEMON_PORT": true,
	"_HANDLER": true, "AWS_LAMBDA_MAX_CONCURRENCY": true,
}

// environment builds a child's environment: customer variables, then the
// reserved ones (which win). Extensions do not get the runtime-only ones.
func (s *Sim) environment(runtime bool) []string {
	env := map[string]string{}
	for k, v := range s.cfg.Env {
		env[k] = v
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	defaults := map[string]string{
		"PATH":            path + ":/opt/bin",
		"LANG":            "en_US.UTF-8",
		"TZ":              ":UTC",
		"LD_LIBRARY_PATH": "/lib64:/usr/lib64:/opt/lib",
	}
	for k, v := range defaults {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	taskRoot := filepath.Dir(s.bootstrap)
	reserved := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          s.RuntimeAPI(),
		"AWS_LAMBDA_FUNCTION_NAME":        s.cfg.FunctionName,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(s.cfg.MemoryMB),
		"AWS_LAMBDA_INITIALIZATION_TYPE":  s.initType(),
		"AWS_REGION":                      s.cfg.Region,
		"AWS_DEFAULT_REGION":              s.cfg.Region,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + s.cfg.FunctionName,
		"AWS_LAMBDA_LOG_STREAM_NAME":      time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16),
		"AWS_XRAY_CONTEXT_MISSING":        "LOG_ERROR",
		"AWS_XRAY_DAEMON_ADDRESS":         "169.254.79.129:2000",
		"_AWS_XRAY_DAEMON_ADDRESS":        "169.254.79.129",
		"_AWS_XRAY_DAEMON_PORT":           "2000",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"_HANDLER":                        s.cfg.Handler,
	}
	if s.cfg.ManagedInstances {
		reserved["AWS_LAMBDA_MAX_CONCURRENCY"] = strconv.Itoa(s.cfg.MaxConcurrency)
	}
	for k, v := range reserved {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		if !runtime && runtimeOnly[k] {
			continue
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// maxMemoryMB sums the peak RSS of the environment's processes.
func (sb *sandbox) maxMemoryMB() int {
	sb.mu.Lock()
	procs := []*process{sb.runtime}
	for _, e := range sb.order {
		procs = append(procs, e.proc)
	}
	sb.mu.Unlock()
	total := 0
	for _, p := range procs {
		if p != nil {
			total += p.maxRSSMB()
		}
	}
	return total
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)[:n]
}

// newTraceID returns an X-Ray trace header for an unsampled request.
func newTraceID(t time.Time) string {
	return "Root=1-" + strconv.FormatInt(t.Unix(), 16) + "-" + randomHex(24) + ";Parent=" + randomHex(16) + ";Sampled=0;Lineage=1:" + randomHex(8) + ":0"
}
