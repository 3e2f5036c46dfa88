package otlp

import (
	"fmt"
	"net/url"
	"strings"
)

// The standard OpenTelemetry environment variables read by FromEnv. The
// SDK's exporters read the rest themselves (OTEL_EXPORTER_OTLP_HEADERS,
// OTEL_EXPORTER_OTLP_TIMEOUT, the per-signal variants, TLS settings).
const (
	EnvEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvMetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	EnvLogsEndpoint    = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	EnvProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
	EnvLogsProtocol    = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
	EnvMetricsExporter = "OTEL_METRICS_EXPORTER"
	EnvLogsExporter    = "OTEL_LOGS_EXPORTER"
)

// Protocol is the only OTLP protocol supported: the collector layer and
// ADOT listen for it on localhost:4318.
const Protocol = "http/protobuf"

// Config says which signals are exported.
type Config struct {
	// Metrics exports the counters as OTLP metrics.
	Metrics bool
	// Logs exports the security events as OTLP log records.
	Logs bool
}

// Enabled reports whether any signal is exported.
func (c Config) Enabled() bool { return c.Metrics || c.Logs }

// EnvError reports an invalid environment variable.
type EnvError struct {
	// Var is the variable name.
	Var string
	// Err is the reason.
	Err error
}

// Error implements error; it names the variable, never its value (headers
// and URLs may carry credentials).
func (e *EnvError) Error() string { return fmt.Sprintf("otlp: %s: %v", e.Var, e.Err) }

// Unwrap returns the reason.
func (e *EnvError) Unwrap() error { return e.Err }

// FromEnv reads Config: a signal is exported when OTEL_EXPORTER_OTLP_ENDPOINT
// or its own endpoint variable is set, unless OTEL_<SIGNAL>_EXPORTER is
// "none". The protocol must be http/protobuf (the default); grpc and
// http/json are refused rather than silently not exported.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var cfg Config
	for _, s := range []struct {
		on                         *bool
		endpoint, protocol, enable string
	}{
		{&cfg.Metrics, EnvMetricsEndpoint, EnvMetricsProtocol, EnvMetricsExporter},
		{&cfg.Logs, EnvLogsEndpoint, EnvLogsProtocol, EnvLogsExporter},
	} {
		for _, v := range []string{EnvEndpoint, s.endpoint} {
			if err := checkURL(get(v)); err != nil {
				return Config{}, &EnvError{Var: v, Err: err}
			}
		}
		if get(EnvEndpoint) == "" && get(s.endpoint) == "" {
			continue
		}
		switch e := strings.ToLower(get(s.enable)); e {
		case "none":
			continue
		case "", "otlp":
		default:
			return Config{}, &EnvError{Var: s.enable, Err: fmt.Errorf("want otlp or none, got %q", e)}
		}
		pv, p := s.protocol, get(s.protocol)
		if p == "" {
			pv, p = EnvProtocol, get(EnvProtocol)
		}
		if p != "" && p != Protocol {
			return Config{}, &EnvError{Var: pv, Err: fmt.Errorf("only %s is supported, got %q", Protocol, p)}
		}
		*s.on = true
	}
	return cfg, nil
}

func checkURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("invalid url")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url scheme must be http or https")
	}
	if u.Host == "" {
		return fmt.Errorf("url has no host")
	}
	return nil
}
