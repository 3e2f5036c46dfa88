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
	// The security log and EMF lines share stdout without interleaving.
	stdout := logging.NewSyncWriter(os.Stdout)
	security := logging.Security(stdout)
	defer func() { _ = security.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	name := filepath.Base(os.Args[0])
	log.Info("starting", zap.String("name", name), zap.String("version", version))
	err := lifecycle.Run(ctx, lifecycle.Config{
		Name:        name,
		Stdout:      stdout,
		Log:         log,
		SecurityLog: security,
		Version:     version,
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
