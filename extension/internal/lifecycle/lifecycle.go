package lifecycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/export"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/extapi"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/ingest"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/ocsf"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/otlp"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/telemetryapi"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// Environment variables read by Run besides those of policy.Load and
// export.FromEnv.
const (
	EnvRuntimeAPI   = "AWS_LAMBDA_RUNTIME_API"
	EnvFunctionName = "AWS_LAMBDA_FUNCTION_NAME"
	EnvInitType     = "AWS_LAMBDA_INITIALIZATION_TYPE"
	EnvSocket       = wire.EnvSocket
	EnvTelemetry    = "LAMBDA_RASP_TELEMETRY"
	// InitTypeManaged is EnvInitType on Lambda Managed Instances.
	InitTypeManaged = "lambda-managed-instances"
)

// The error types sent with init/error.
const (
	ErrTypeInvalidPolicy = "Extension.InvalidPolicy"
	ErrTypeInvalidConfig = "Extension.InvalidConfig"
	ErrTypePortInUse     = "Extension.PortInUse"
	ErrTypeNextFailed    = "Extension.NextFailed"
)

// Timing bounds of the loop.
const (
	// waitCap bounds the wait for platform.runtimeDone after an INVOKE.
	waitCap = time.Second
	// invokeMargin is kept free before the invoke deadline.
	invokeMargin = 50 * time.Millisecond
	// shutdownMargin is kept free before the SHUTDOWN deadline.
	shutdownMargin = 150 * time.Millisecond
	// defaultShutdown is the budget assumed when SHUTDOWN has no deadline
	// or on SIGTERM.
	defaultShutdown = 1500 * time.Millisecond
	// exportGrace is how long results are awaited after an export's
	// deadline, for exporters returning their context error.
	exportGrace = 20 * time.Millisecond
)

// Config configures Run.
type Config struct {
	// Name is the extension's name, its executable's base name.
	Name string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Stdout receives EMF lines; nil means os.Stdout.
	Stdout io.Writer
	// Log is the operational log; nil discards.
	Log *zap.Logger
	// SecurityLog receives security events; nil discards. With
	// LAMBDA_RASP_LOG_FORMAT=ocsf they go to Stdout as OCSF Detection
	// Findings instead.
	SecurityLog *zap.Logger
	// Version is the extension's version, written in OCSF findings.
	Version string
}

// InitError is returned by Run when Init failed and was reported to Lambda
// with init/error.
type InitError struct {
	// Type is the error type sent, e.g. "Extension.InvalidPolicy".
	Type string
	// Err is the cause; its message was sent as errorMessage.
	Err error
}

// Error implements error.
func (e *InitError) Error() string { return e.Type + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *InitError) Unwrap() error { return e.Err }

// runner is one run of the extension.
type runner struct {
	cfg     Config
	getenv  func(string) string
	log     *zap.Logger
	managed bool

	m      *metrics.Metrics
	ing    *ingest.Listener
	served chan error
	api    *extapi.Client
	tel    *telemetryapi.Listener
	noWait bool // telemetry never arrived: do not wait for runtimeDone
	srv    *export.Server
	expCfg export.Config
	exps   []export.Exporter
	// backoff holds each exporter's failures (by exporter name): a
	// failing exporter is skipped for a while instead of costing the
	// export timeout on every due export.
	backoff map[string]*export.Backoff
	otel    *otlp.Exporter // nil unless OTEL_EXPORTER_OTLP_* enable it

	exportMu   sync.Mutex
	lastExport time.Time

	stopPoll func() // stops the live policy poller; nil without one
}

// Run runs the extension until SHUTDOWN (nil), a failed Init (*InitError)
// or an API failure. Cancelling ctx (SIGTERM) ends it like a SHUTDOWN.
func Run(ctx context.Context, cfg Config) error {
	start := time.Now()
	r := &runner{cfg: cfg, getenv: cfg.Getenv, log: cfg.Log}
	if r.getenv == nil {
		r.getenv = os.Getenv
	}
	if r.log == nil {
		r.log = zap.NewNop()
	}
	if r.cfg.Stdout == nil {
		r.cfg.Stdout = os.Stdout
	}
	runtimeAPI := r.getenv(EnvRuntimeAPI)
	if runtimeAPI == "" {
		return fmt.Errorf("lifecycle: %s is not set", EnvRuntimeAPI)
	}
	r.managed = r.getenv(EnvInitType) == InitTypeManaged
	defer r.close()

	// Everything that can fail Init is checked before registering; the
	// failure is reported once registered.
	initErr := r.prepare(ctx)

	r.api = extapi.New(runtimeAPI, cfg.Name)
	events := []extapi.EventType{extapi.Invoke, extapi.Shutdown}
	if r.managed {
		events = []extapi.EventType{extapi.Shutdown}
	}
	reg, err := r.api.Register(ctx, events...)
	if err != nil {
		return fmt.Errorf("lifecycle: %w", err)
	}
	registered := time.Since(start)
	if initErr != nil {
		r.log.Error("init failed", zap.String("error_type", initErr.Type), zap.String("error", initErr.Err.Error()))
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := r.api.InitError(rctx, initErr.Type, initErr.Err.Error()); err != nil {
			r.log.Error("init/error call failed", zap.Error(err))
		}
		return initErr
	}
	r.log.Info("registered",
		zap.String("function", r.m.Function()),
		zap.String("function_version", reg.FunctionVersion),
		zap.Strings("events", eventNames(events)),
		zap.Duration("startup_duration", registered),
		zap.String("socket", r.socketPath()),
		zap.Bool("managed_instances", r.managed))

	r.subscribe(ctx, runtimeAPI, reg.ID)
	r.lastExport = time.Now()
	if r.managed && len(r.exps) > 0 {
		// Managed instances are not frozen between invokes and send no
		// INVOKE: export on a timer instead.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.exportEvery(ctx, stop)
		}()
		defer wg.Wait()
		defer close(stop)
	}
	return r.loop(ctx)
}

func eventNames(es []extapi.EventType) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e)
	}
	return out
}

// prepare loads the policy and the export configuration, builds the
// metrics and exporters, binds the socket and the /metrics server.
func (r *runner) prepare(ctx context.Context) *InitError {
	function := r.getenv(EnvFunctionName)
	// The policy is parsed and validated, not compiled: the extension
	// needs its rule ids, name, version and mode, never its detectors.
	pol, err := policy.Load(ctx, r.getenv)
	if err != nil {
		r.m = metrics.New(function, nil, r.cfg.SecurityLog)
		return &InitError{Type: ErrTypeInvalidPolicy, Err: err}
	}
	name, version, mode := pol.DisplayName(), pol.ContentVersion(), pol.EffectiveMode().String()
	format, err := ocsf.ParseFormat(r.getenv(ocsf.EnvLogFormat))
	if err != nil {
		r.m = metrics.New(function, pol.RuleIDs(), r.cfg.SecurityLog)
		return &InitError{Type: ErrTypeInvalidConfig, Err: err}
	}
	if format == ocsf.FormatOCSF {
		r.m = metrics.New(function, pol.RuleIDs(), nil)
		r.m.AddSink(ocsf.New(r.cfg.Stdout, r.cfg.Version, r.getenv(export.EnvRegion)))
	} else {
		r.m = metrics.New(function, pol.RuleIDs(), r.cfg.SecurityLog)
	}
	r.m.SetPolicy(name, version, mode)
	r.log.Info("policy loaded", zap.String("policy", name), zap.String("version", version),
		zap.String("mode", mode), zap.String("source", pol.Origin))
	if err := r.startPolling(pol); err != nil {
		return &InitError{Type: ErrTypeInvalidConfig, Err: err}
	}

	if _, err := r.telemetryEnabled(); err != nil {
		return &InitError{Type: ErrTypeInvalidConfig, Err: err}
	}
	r.expCfg, err = export.FromEnv(r.getenv)
	if err != nil {
		return &InitError{Type: ErrTypeInvalidConfig, Err: err}
	}
	r.exps, err = export.New(r.expCfg, function, instanceID(), r.cfg.Stdout, r.getenv)
	if err != nil {
		return &InitError{Type: ErrTypeInvalidConfig, Err: err}
	}
	otelCfg, err := otlp.FromEnv(r.getenv)
	if err != nil {
		return &InitError{Type: ErrTypeInvalidConfig, Err: err}
	}
	if otelCfg.Enabled() {
		r.otel, err = otlp.New(ctx, otelCfg, function, r.getenv(export.EnvRegion))
		if err != nil {
			return &InitError{Type: ErrTypeInvalidConfig, Err: err}
		}
		r.exps = append(r.exps, r.otel)
		if otelCfg.Logs {
			r.m.AddSink(r.otel)
		}
	}
	r.backoff = make(map[string]*export.Backoff, len(r.exps))
	for _, e := range r.exps {
		r.m.InitExporter(e.Name())
		r.backoff[e.Name()] = &export.Backoff{}
	}

	socket := wire.SocketPath(r.getenv)
	r.ing, err = ingest.Listen(socket, r.m)
	if err != nil {
		// Degrade rather than fail the function's init: without the
		// socket the wrapper keeps protecting and writes its security
		// events to the function's own log (DESIGN §7, "extension absent").
		// Platform metrics, policy_info and the exporters still work.
		r.log.Error("event socket unavailable: security events stay in the function's log",
			zap.String("socket", socket), zap.Error(err))
		r.ing = nil
	} else {
		r.served = make(chan error, 1)
		go func() {
			err := r.ing.Serve()
			if err != nil {
				// Drain still reads at every flush point.
				r.log.Error("event socket reader stopped", zap.Error(err))
			}
			r.served <- err
		}()
	}

	if r.expCfg.MetricsAddr != "" {
		r.srv, err = export.Serve(context.WithoutCancel(ctx), r.expCfg.MetricsAddr, r.m.Registry())
		if err != nil {
			return &InitError{Type: ErrTypePortInUse, Err: err}
		}
	}
	return nil
}

// telemetryEnabled reads LAMBDA_RASP_TELEMETRY: on by default, off by
// default on managed instances.
func (r *runner) telemetryEnabled() (bool, error) {
	v := strings.TrimSpace(r.getenv(EnvTelemetry))
	if v == "" {
		return !r.managed, nil
	}
	on, err := export.ParseSwitch(v)
	if err != nil {
		return false, fmt.Errorf("%s: %w", EnvTelemetry, err)
	}
	return on, nil
}

// subscribe starts the telemetry listener and subscribes; a failure is
// logged and the extension goes on without telemetry.
func (r *runner) subscribe(ctx context.Context, runtimeAPI, id string) {
	if on, _ := r.telemetryEnabled(); !on {
		return
	}
	l, err := telemetryapi.Listen(ctx, r.m, telemetryapi.Options{Managed: r.managed})
	if err != nil {
		r.log.Warn("telemetry listener failed; invocations_total stays empty", zap.Error(err))
		return
	}
	schema := telemetryapi.SchemaDefault
	if r.managed {
		schema = telemetryapi.SchemaManaged
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := telemetryapi.Subscribe(sctx, runtimeAPI, id, l.URI(), schema); err != nil {
		r.log.Warn("telemetry subscription failed; invocations_total stays empty", zap.Error(err))
		_ = l.Close()
		return
	}
	r.tel = l
	r.log.Debug("subscribed to telemetry", zap.String("listener", l.Addr()))
}

// loop handles events until SHUTDOWN.
func (r *runner) loop(ctx context.Context) error {
	for {
		ev, err := r.api.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				r.log.Info("terminated; flushing")
				r.shutdown(time.Now().Add(defaultShutdown))
				return nil
			}
			r.log.Error("next failed", zap.Error(err))
			r.shutdown(time.Now().Add(defaultShutdown))
			ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = r.api.ExitError(ectx, ErrTypeNextFailed, err.Error())
			cancel()
			return fmt.Errorf("lifecycle: %w", err)
		}
		switch ev.Type {
		case extapi.Invoke:
			r.invoke(ctx, ev)
		case extapi.Shutdown:
			start := time.Now()
			deadline := ev.Deadline
			if deadline.IsZero() {
				deadline = start.Add(defaultShutdown)
			}
			r.shutdown(deadline)
			r.log.Info("shut down", zap.String("reason", ev.RawShutdownReason),
				zap.Duration("shutdown_duration", time.Since(start)),
				zap.Duration("deadline_left", time.Until(deadline)))
			return nil
		}
	}
}

// invoke is the flush point after one INVOKE. Waiting for the runtime to
// finish (platform.runtimeDone) is what makes a flush complete, but the
// platform bills the time an extension takes before its next /event/next,
// so the extension waits only when an export is due; in between, the
// socket reader keeps counting and /metrics stays current.
func (r *runner) invoke(ctx context.Context, ev extapi.Event) {
	due := len(r.exps) > 0 && time.Since(r.lastExportTime()) >= r.expCfg.FlushInterval
	if due && r.tel != nil && !r.noWait {
		r.waitRuntimeDone(ctx, ev)
	}
	r.drain()
	if due {
		if d := capToDeadline(r.expCfg.Timeout, ev); d > 0 {
			r.export(context.WithoutCancel(ctx), time.Now().Add(d), false)
		}
	}
}

// waitRuntimeDone waits, bounded by the invocation's deadline, for the
// platform.runtimeDone of ev's request.
func (r *runner) waitRuntimeDone(ctx context.Context, ev extapi.Event) {
	wait := capToDeadline(waitCap, ev)
	if wait <= 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := r.tel.Wait(wctx, ev.RequestID); err == nil {
		return
	}
	r.log.Debug("no runtimeDone in time", zap.String("request_id", ev.RequestID), zap.Duration("waited", wait))
	if r.tel.Batches() == 0 && ctx.Err() == nil {
		// Subscribed, yet nothing ever arrived: the platform cannot reach
		// the listener. Waiting again would cost every invocation the cap.
		r.log.Warn("no telemetry delivered; no longer waiting for platform.runtimeDone", zap.String("listener", r.tel.Addr()))
		r.noWait = true
	}
}

// capToDeadline is d, or less when the invocation's deadline (minus a
// margin) comes first.
func capToDeadline(d time.Duration, ev extapi.Event) time.Duration {
	if !ev.Deadline.IsZero() {
		d = min(d, time.Until(ev.Deadline)-invokeMargin)
	}
	return d
}

// socketPath is the bound socket's path, or "" without one.
func (r *runner) socketPath() string {
	if r.ing == nil {
		return ""
	}
	return r.ing.Path()
}

func (r *runner) drain() {
	if r.ing == nil {
		return
	}
	if _, err := r.ing.Drain(); err != nil {
		r.log.Warn("drain failed", zap.Error(err))
	}
}

func (r *runner) lastExportTime() time.Time {
	r.exportMu.Lock()
	defer r.exportMu.Unlock()
	return r.lastExport
}

// exportEvery exports every flush interval until stop (managed instances).
func (r *runner) exportEvery(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(r.expCfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			r.drain()
			r.export(context.WithoutCancel(ctx), time.Now().Add(r.expCfg.Timeout), false)
		}
	}
}

// shutdown drains, exports within deadline minus the margin and closes.
// The last export goes to every exporter, backed off or not: it is the
// environment's last chance and no invocation waits for it.
func (r *runner) shutdown(deadline time.Time) {
	r.drain()
	if len(r.exps) > 0 {
		r.export(context.Background(), deadline.Add(-shutdownMargin), true)
	}
}

type result struct {
	name string
	err  error
}

// export sends the registry to every exporter in parallel and returns by
// deadline (plus a short grace); an exporter that fails or has not
// answered by then is counted in export_errors_total. Exporters in
// backoff are skipped unless all is set.
func (r *runner) export(ctx context.Context, deadline time.Time, all bool) {
	r.exportMu.Lock()
	defer r.exportMu.Unlock()
	now := time.Now()
	r.lastExport = now
	var exps []export.Exporter
	for _, e := range r.exps {
		if all || r.backoff[e.Name()].Allow(now) {
			exps = append(exps, e)
		}
	}
	if len(exps) == 0 {
		return
	}
	mfs, err := r.m.Registry().Gather()
	if err != nil {
		r.log.Warn("gather failed", zap.Error(err))
		return
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	results := make(chan result, len(exps))
	for _, e := range exps {
		go func() { results <- result{e.Name(), e.Export(ctx, mfs)} }()
	}
	pending := map[string]bool{}
	for _, e := range exps {
		pending[e.Name()] = true
	}
	done := ctx.Done()
	var grace <-chan time.Time
	for len(pending) > 0 {
		select {
		case res := <-results:
			delete(pending, res.name)
			if res.err != nil {
				r.m.ExportError(res.name)
				r.log.Warn("export failed", zap.String("exporter", res.name), zap.String("error", redact(res.err)))
			}
			r.record(res.name, res.err != nil)
		case <-done:
			done, grace = nil, time.After(exportGrace)
		case <-grace:
			for name := range pending {
				r.m.ExportError(name)
				r.log.Warn("export timed out", zap.String("exporter", name), zap.Time("deadline", deadline))
				r.record(name, true)
			}
			return
		}
	}
}

// record notes an export's outcome in its exporter's backoff.
func (r *runner) record(name string, failed bool) {
	b := r.backoff[name]
	if b == nil {
		return
	}
	if skip := b.Record(time.Now(), failed); skip > 0 {
		r.log.Warn("exporter backed off", zap.String("exporter", name),
			zap.Int("consecutive_failures", b.Failures()), zap.Duration("skipped_for", skip))
	}
}

// redact drops the URL of an *url.Error, which may carry credentials.
func redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}

// close releases everything prepare and subscribe opened.
func (r *runner) close() {
	if r.stopPoll != nil {
		r.stopPoll()
	}
	if r.otel != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if err := r.otel.Shutdown(ctx); err != nil {
			r.log.Warn("otlp exporter", zap.Error(err))
		}
		cancel()
		if n := r.otel.Dropped(); n > 0 {
			r.log.Warn("security events not exported over OTLP: buffer full", zap.Uint64("dropped", n))
		}
	}
	if r.tel != nil {
		if err := r.tel.Close(); err != nil {
			r.log.Warn("telemetry listener", zap.Error(err))
		}
	}
	if r.srv != nil {
		if err := r.srv.Close(); err != nil {
			r.log.Warn("metrics server", zap.Error(err))
		}
	}
	if r.ing != nil {
		_ = r.ing.Close()
		<-r.served
	}
}

// instanceID names this execution environment in exported series.
func instanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
