package logging

import (
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// EnvLevel is the variable that sets the operational log level.
const EnvLevel = "LAMBDA_RASP_LOG_LEVEL"

// ParseLevel parses "debug", "info", "warn" or "error" (case-insensitive);
// empty means info.
func ParseLevel(s string) (zapcore.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return zapcore.InfoLevel, nil
	case "debug":
		return zapcore.DebugLevel, nil
	case "warn", "warning":
		return zapcore.WarnLevel, nil
	case "error":
		return zapcore.ErrorLevel, nil
	}
	return zapcore.InfoLevel, fmt.Errorf("logging: %s: want debug, info, warn or error, got %q", EnvLevel, s)
}

// encoderConfig is zap's production JSON encoding with a UTC ISO-8601
// millisecond timestamp under "ts".
func encoderConfig() zapcore.EncoderConfig {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = "ts"
	cfg.EncodeTime = func(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
		enc.AppendString(t.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	}
	cfg.EncodeDuration = zapcore.StringDurationEncoder
	return cfg
}

// New returns a JSON logger named name writing to w at level and above.
func New(w io.Writer, name string, level zapcore.Level) *zap.Logger {
	core := zapcore.NewCore(zapcore.NewJSONEncoder(encoderConfig()), zapcore.Lock(zapcore.AddSync(w)), level)
	l := zap.New(core)
	if name != "" {
		l = l.Named(name)
	}
	return l
}

// Security returns the security log on w: logger "security", every level.
func Security(w io.Writer) *zap.Logger { return New(w, "security", zapcore.DebugLevel) }

// NewSyncWriter returns w with writes serialised, for one writer shared
// by several producers (the security log and EMF lines on stdout), so
// that a large write is never interleaved with another: pipes only keep
// writes of up to PIPE_BUF bytes whole. zap does not lock it again.
func NewSyncWriter(w io.Writer) zapcore.WriteSyncer { return zapcore.Lock(zapcore.AddSync(w)) }
