package lambdasim

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultTimeout is the function timeout when Config.Timeout is zero.
	DefaultTimeout = 3 * time.Second
	// DefaultInitTimeout is the Init phase limit when Config.InitTimeout is zero.
	DefaultInitTimeout = 10 * time.Second
	// DefaultShutdownBudget is the Shutdown phase budget with external extensions.
	DefaultShutdownBudget = 2000 * time.Millisecond
	// DefaultMemoryMB is the configured memory size when Config.MemoryMB is zero.
	DefaultMemoryMB = 128
	// DefaultFunctionName is the function name when Config.FunctionName is empty.
	DefaultFunctionName = "function"
	// DefaultRegion is the region when Config.Region is empty.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account id when Config.AccountID is empty.
	DefaultAccountID = "123456789012"
	// DefaultMaxConcurrency is the number of concurrent invokes in managed-instances mode.
	DefaultMaxConcurrency = 4
	// MaxExtensions is the platform limit on extensions per function.
	MaxExtensions = 10
	// MaxPayloadBytes is the synchronous invoke request and response size limit.
	MaxPayloadBytes = 6 * 1024 * 1024

	// internalShutdownBudget is the Shutdown phase with internal extensions only.
	internalShutdownBudget = 500 * time.Millisecond
	// runtimeShutdownShare is the part of the shutdown budget the runtime gets
	// between SIGTERM and SIGKILL.
	runtimeShutdownShare = 0.3
)

// InitTypeManagedInstances is the AWS_LAMBDA_INITIALIZATION_TYPE value of
// Lambda Managed Instances.
const InitTypeManagedInstances = "lambda-managed-instances"

// InitTypeOnDemand is the AWS_LAMBDA_INITIALIZATION_TYPE value of a default function.
const InitTypeOnDemand = "on-demand"

// Config describes one simulated function. Only Bootstrap is required.
type Config struct {
	// Bootstrap is the path of the function's executable (the `bootstrap`
	// of a provided.al2023 function).
	Bootstrap string
	// ExtensionsDir holds external extensions (the `/opt/extensions` of a
	// layer). Every executable regular file in it is started; other files
	// are ignored. Empty means no extensions.
	ExtensionsDir string
	// Env holds customer environment variables. Reserved variables set by
	// the simulator take precedence.
	Env map[string]string
	// Timeout is the function timeout (runtime and extensions); zero means
	// DefaultTimeout.
	Timeout time.Duration
	// InitTimeout bounds the Init phase; zero means DefaultInitTimeout.
	InitTimeout time.Duration
	// ShutdownBudget is the Shutdown phase budget; zero means DefaultShutdownBudget.
	ShutdownBudget time.Duration
	// MemoryMB is the configured memory; zero means DefaultMemoryMB.
	MemoryMB int
	// FunctionName is AWS_LAMBDA_FUNCTION_NAME; empty means DefaultFunctionName.
	FunctionName string
	// Handler is _HANDLER; empty means "bootstrap".
	Handler string
	// Region is AWS_REGION; empty means DefaultRegion.
	Region string
	// AccountID appears in ARNs and in the register response when the
	// extension accepts the accountId feature; empty means DefaultAccountID.
	AccountID string
	// ManagedInstances selects Lambda Managed Instances behaviour: SHUTDOWN-only
	// extensions, concurrent invokes, Telemetry schema 2025-01-29.
	ManagedInstances bool
	// MaxConcurrency is AWS_LAMBDA_MAX_CONCURRENCY in managed-instances mode;
	// zero means DefaultMaxConcurrency.
	MaxConcurrency int
	// Freeze stops (SIGSTOP) the runtime and extensions whenever the
	// service would freeze the sandbox: after Init and after each invoke
	// phase, until the next invoke or the Shutdown (SIGCONT). Background
	// work that is not finished before next is then delayed as on Lambda.
	// Telemetry is not delivered while frozen. Ignored in managed-instances
	// mode, whose environments are not frozen.
	Freeze bool
	// ClassicTelemetry stubs the Telemetry API like the classic emulator:
	// subscribe answers 202 {"errorType":"Telemetry.NotSupported"}.
	ClassicTelemetry bool
	// APIAddr is the listen address of the Runtime, Extensions and Telemetry
	// APIs; it must be a loopback address. Empty means 127.0.0.1:0.
	APIAddr string
	// InvokeAddr is the listen address of the invoke endpoint; it must be a
	// loopback address. Empty means 127.0.0.1:0.
	InvokeAddr string
	// Stdout receives the children's standard output, one line at a time,
	// prefixed with "[name] ". Nil discards it.
	Stdout io.Writer
	// Stderr receives the children's standard error like Stdout. Nil discards it.
	Stderr io.Writer
	// OnEvent, when set, is called synchronously for every lifecycle event.
	// It must not block or call back into the Sim.
	OnEvent func(Event)
}

// ErrInvalidConfig is wrapped by every error New returns for a bad Config.
var ErrInvalidConfig = errors.New("lambdasim: invalid config")

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.InitTimeout == 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.ShutdownBudget == 0 {
		c.ShutdownBudget = DefaultShutdownBudget
	}
	if c.MemoryMB == 0 {
		c.MemoryMB = DefaultMemoryMB
	}
	if c.FunctionName == "" {
		c.FunctionName = DefaultFunctionName
	}
	if c.Handler == "" {
		c.Handler = "bootstrap"
	}
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.AccountID == "" {
		c.AccountID = DefaultAccountID
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.APIAddr == "" {
		c.APIAddr = "127.0.0.1:0"
	}
	if c.InvokeAddr == "" {
		c.InvokeAddr = "127.0.0.1:0"
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	return c
}

func (c Config) validate() error {
	if c.Bootstrap == "" {
		return fmt.Errorf("%w: bootstrap path is empty", ErrInvalidConfig)
	}
	fi, err := os.Stat(c.Bootstrap)
	if err != nil {
		return fmt.Errorf("%w: bootstrap: %w", ErrInvalidConfig, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%w: bootstrap %s is not an executable file", ErrInvalidConfig, c.Bootstrap)
	}
	if c.ExtensionsDir != "" {
		fi, err := os.Stat(c.ExtensionsDir)
		if err != nil {
			return fmt.Errorf("%w: extensions dir: %w", ErrInvalidConfig, err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w: extensions dir %s is not a directory", ErrInvalidConfig, c.ExtensionsDir)
		}
	}
	switch {
	case c.Timeout < time.Millisecond:
		return fmt.Errorf("%w: timeout %v is below 1ms", ErrInvalidConfig, c.Timeout)
	case c.InitTimeout < time.Millisecond:
		return fmt.Errorf("%w: init timeout %v is below 1ms", ErrInvalidConfig, c.InitTimeout)
	case c.ShutdownBudget < time.Millisecond:
		return fmt.Errorf("%w: shutdown budget %v is below 1ms", ErrInvalidConfig, c.ShutdownBudget)
	case c.MemoryMB < 128 || c.MemoryMB > 10240:
		return fmt.Errorf("%w: memory %d MB is outside 128..10240", ErrInvalidConfig, c.MemoryMB)
	case c.MaxConcurrency < 1:
		return fmt.Errorf("%w: max concurrency %d is below 1", ErrInvalidConfig, c.MaxConcurrency)
	}
	for _, a := range []string{c.APIAddr, c.InvokeAddr} {
		if err := checkLoopback(a); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// checkLoopback reports an error unless addr is host:port with a loopback host.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address", addr)
	}
	return nil
}
