// Command lambda-rasp is lambda-rasp's external Lambda extension, shipped
// in the layer as /opt/extensions/lambda-rasp.
//
// It registers under its executable's base name, validates the policy at
// Init (an invalid policy fails the deployment with init/error), counts
// the in-process wrapper's security events from a unix datagram socket,
// writes one security log line per detection or sink refusal, and exports
// metrics before the sandbox freezes and at SHUTDOWN. See package
// internal/lifecycle for the loop and the README for the configuration.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/lifecycle"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/logging"
)

// version is set at build time with -X main.version.
var version = "dev"

func main() {
	os.Exit(run())
}

func run() int {
	level, levelErr := logging.ParseLevel(os.Getenv(logging.EnvLevel))
	log := logging.New(os.Stderr, "lambda-rasp", level)
	defer func() { _ = log.Sync() }()
	if levelErr != nil {
		log.Warn("ignoring invalid log level; using info", zap.Error(levelErr))
	}
	security := logging.Security(os.Stdout)
	defer func() { _ = security.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	name := filepath.Base(os.Args[0])
	log.Info("starting", zap.String("name", name), zap.String("version", version))
	err := lifecycle.Run(ctx, lifecycle.Config{
		Name:        name,
		Stdout:      os.Stdout,
		Log:         log,
		SecurityLog: security,
	})
	var ie *lifecycle.InitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ie):
		return 1 // logged and reported with init/error
	default:
		log.Error("extension failed", zap.Error(err))
		return 1
	}
}
