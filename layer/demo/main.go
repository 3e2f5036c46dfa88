package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt Options
	fs.BoolVar(&opt.Verbose, "v", false, "also print the extension's and the function's log lines")
	fs.BoolVar(&opt.Keep, "keep", false, "keep the work directory (layer, function, policies)")
	fs.BoolVar(&opt.Quick, "quick", false, "fewer latency samples")
	fs.StringVar(&opt.Prometheus, "prometheus", "", "Prometheus base URL to push to (default: http://127.0.0.1:9090 when it answers)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	opt.Out = stdout
	if err := Run(ctx, opt); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
