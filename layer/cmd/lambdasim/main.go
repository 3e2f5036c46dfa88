package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		// The usage was printed on request.
	case err != nil:
		fmt.Fprintln(os.Stderr, "lambdasim:", err)
		os.Exit(2)
	}
}

// envFlags collects repeated --env KEY=VALUE flags.
type envFlags map[string]string

func (e envFlags) String() string {
	parts := make([]string, 0, len(e))
	for k := range e {
		parts = append(parts, k+"=…")
	}
	return strings.Join(parts, ",")
}

func (e envFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	e[k] = val
	return nil
}

// run parses args, starts the environment and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lambdasim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := envFlags{}
	var cfg lambdasim.Config
	fs.StringVar(&cfg.Bootstrap, "bootstrap", "", "function executable (required)")
	fs.StringVar(&cfg.ExtensionsDir, "extensions", "", "directory of external extensions (like /opt/extensions)")
	fs.DurationVar(&cfg.Timeout, "timeout", lambdasim.DefaultTimeout, "function timeout")
	fs.DurationVar(&cfg.InitTimeout, "init-timeout", lambdasim.DefaultInitTimeout, "Init phase limit")
	fs.DurationVar(&cfg.ShutdownBudget, "shutdown-budget", lambdasim.DefaultShutdownBudget, "Shutdown phase budget")
	fs.IntVar(&cfg.MemoryMB, "memory", lambdasim.DefaultMemoryMB, "configured memory in MB")
	fs.StringVar(&cfg.FunctionName, "function-name", lambdasim.DefaultFunctionName, "AWS_LAMBDA_FUNCTION_NAME")
	fs.StringVar(&cfg.Handler, "handler", "bootstrap", "_HANDLER")
	fs.StringVar(&cfg.Region, "region", lambdasim.DefaultRegion, "AWS_REGION")
	fs.BoolVar(&cfg.ManagedInstances, "managed", false, "Lambda Managed Instances mode (concurrent invokes, SHUTDOWN-only extensions)")
	fs.IntVar(&cfg.MaxConcurrency, "concurrency", lambdasim.DefaultMaxConcurrency, "AWS_LAMBDA_MAX_CONCURRENCY in managed mode")
	fs.BoolVar(&cfg.ClassicTelemetry, "classic-telemetry", false, "stub the Telemetry API like the classic emulator")
	fs.BoolVar(&cfg.Freeze, "freeze", false, "stop (SIGSTOP) the runtime and extensions between invokes, like a frozen sandbox")
	fs.StringVar(&cfg.InvokeAddr, "addr", "127.0.0.1:9000", "loopback address of the invoke endpoint")
	fs.StringVar(&cfg.APIAddr, "api-addr", "127.0.0.1:0", "loopback address of the Runtime/Extensions/Telemetry APIs")
	fs.Var(env, "env", "customer environment variable KEY=VALUE (repeatable)")
	events := fs.Bool("events", false, "print lifecycle events to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Bootstrap == "" {
		return errors.New("--bootstrap is required")
	}
	cfg.Env = env
	cfg.Stdout, cfg.Stderr = stdout, stderr
	if *events {
		cfg.OnEvent = func(e lambdasim.Event) { fmt.Fprintln(stderr, "lambdasim:", e) }
	}
	sim, err := lambdasim.New(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "lambdasim: runtime api %s\n", sim.RuntimeAPI())
	fmt.Fprintf(stderr, "lambdasim: invoke endpoint %s\n", sim.InvokeURL())
	if err := sim.Start(ctx); err != nil {
		var ie *lambdasim.InitError
		if !errors.As(err, &ie) {
			return errors.Join(err, shutdown(sim))
		}
		// Like the service, the next invoke retries Init.
		fmt.Fprintf(stderr, "lambdasim: %v (retried at the next invoke)\n", err)
	}
	fmt.Fprintln(stderr, "lambdasim: ready")
	<-ctx.Done()
	fmt.Fprintln(stderr, "lambdasim: shutting down")
	return shutdown(sim)
}

func shutdown(sim *lambdasim.Sim) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sim.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
