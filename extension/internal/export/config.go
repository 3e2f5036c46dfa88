package export

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Environment variables read by FromEnv.
const (
	// EnvRemoteWriteURL is the Prometheus remote write endpoint (http or https).
	EnvRemoteWriteURL = "LAMBDA_RASP_REMOTE_WRITE_URL"
	// EnvRemoteWriteSigV4 set to "on" asks for AWS SigV4 signing (service aps).
	EnvRemoteWriteSigV4 = "LAMBDA_RASP_REMOTE_WRITE_SIGV4"
	// EnvRegion is the AWS region used for SigV4 signing.
	EnvRegion = "AWS_REGION"
	// EnvPushgatewayURL is the Pushgateway base URL.
	EnvPushgatewayURL = "LAMBDA_RASP_PUSHGATEWAY_URL"
	// EnvEMF set to "on" writes CloudWatch EMF lines on stdout.
	EnvEMF = "LAMBDA_RASP_EMF"
	// EnvMetricsAddr is a loopback host:port on which /metrics is served.
	EnvMetricsAddr = "LAMBDA_RASP_METRICS_ADDR"
	// EnvFlushInterval is the minimum time between two flushes (default 10s).
	EnvFlushInterval = "LAMBDA_RASP_FLUSH_INTERVAL"
	// EnvExportTimeout bounds one export of one exporter (default 500ms).
	EnvExportTimeout = "LAMBDA_RASP_EXPORT_TIMEOUT"
	// EnvInstanceLabel set to "on" labels remote write series and the
	// Pushgateway group with the execution environment (instance).
	EnvInstanceLabel = "LAMBDA_RASP_INSTANCE_LABEL"
)

// Defaults applied by FromEnv when a variable is unset.
const (
	DefaultFlushInterval = 10 * time.Second
	DefaultTimeout       = 500 * time.Millisecond
)

// Config is the export configuration read from the environment.
type Config struct {
	// RemoteWriteURL is the remote write endpoint; empty disables it.
	RemoteWriteURL string
	// SigV4 signs remote write requests for Amazon Managed Prometheus.
	SigV4 bool
	// Region is the AWS region for SigV4.
	Region string
	// PushgatewayURL is the Pushgateway base URL; empty disables it.
	PushgatewayURL string
	// EMF enables CloudWatch Embedded Metric Format lines.
	EMF bool
	// MetricsAddr is the loopback address of /metrics; empty disables it.
	MetricsAddr string
	// FlushInterval is the minimum time between flushes.
	FlushInterval time.Duration
	// Timeout bounds one Export call.
	Timeout time.Duration
	// InstanceLabel adds the execution environment as the instance label
	// of remote write series and the Pushgateway grouping key. Off by
	// default: every cold start would create a new set of series.
	InstanceLabel bool
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// EnvError reports an invalid environment variable.
type EnvError struct {
	// Var is the variable name.
	Var string
	// Err is the reason.
	Err error
}

// Error implements error; it names the variable but not its value, which may
// carry credentials in a URL.
func (e *EnvError) Error() string { return fmt.Sprintf("export: %s: %v", e.Var, e.Err) }

// Unwrap returns the reason.
func (e *EnvError) Unwrap() error { return e.Err }

// FromEnv reads Config from getenv (os.Getenv in production). Every error
// is an *EnvError naming the variable.
func FromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{FlushInterval: DefaultFlushInterval, Timeout: DefaultTimeout}
	var err error
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	if cfg.RemoteWriteURL, err = parseURL(get(EnvRemoteWriteURL)); err != nil {
		return Config{}, &EnvError{Var: EnvRemoteWriteURL, Err: err}
	}
	if cfg.SigV4, err = ParseSwitch(get(EnvRemoteWriteSigV4)); err != nil {
		return Config{}, &EnvError{Var: EnvRemoteWriteSigV4, Err: err}
	}
	cfg.Region = get(EnvRegion)
	if cfg.SigV4 && cfg.Region == "" {
		return Config{}, &EnvError{Var: EnvRegion, Err: fmt.Errorf("required when %s=on", EnvRemoteWriteSigV4)}
	}
	if cfg.PushgatewayURL, err = parseURL(get(EnvPushgatewayURL)); err != nil {
		return Config{}, &EnvError{Var: EnvPushgatewayURL, Err: err}
	}
	if cfg.InstanceLabel, err = ParseSwitch(get(EnvInstanceLabel)); err != nil {
		return Config{}, &EnvError{Var: EnvInstanceLabel, Err: err}
	}
	if cfg.EMF, err = ParseSwitch(get(EnvEMF)); err != nil {
		return Config{}, &EnvError{Var: EnvEMF, Err: err}
	}
	if a := get(EnvMetricsAddr); a != "" {
		if err := checkLoopback(a); err != nil {
			return Config{}, &EnvError{Var: EnvMetricsAddr, Err: err}
		}
		cfg.MetricsAddr = a
	}
	if cfg.FlushInterval, err = parseDuration(get(EnvFlushInterval), DefaultFlushInterval); err != nil {
		return Config{}, &EnvError{Var: EnvFlushInterval, Err: err}
	}
	if cfg.Timeout, err = parseDuration(get(EnvExportTimeout), DefaultTimeout); err != nil {
		return Config{}, &EnvError{Var: EnvExportTimeout, Err: err}
	}
	return cfg, nil
}

func parseURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid url")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("url scheme must be http or https")
	}
	if u.Host == "" {
		return "", fmt.Errorf("url has no host")
	}
	return s, nil
}

// ParseSwitch parses an on/off setting: "on", "true", "1" or "off",
// "false", "0", "" (off), case-insensitively.
func ParseSwitch(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "off", "false", "0":
		return false, nil
	case "on", "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("want on or off, got %q", s)
}

func parseDuration(s string, def time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration: %w", err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration must be positive, got %s", d)
	}
	return d, nil
}

// ErrNotLoopback is returned for a /metrics address that is not loopback.
var ErrNotLoopback = fmt.Errorf("address is not loopback")

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid address: %w", err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, host)
	}
	return nil
}
