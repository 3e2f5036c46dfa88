package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/internal/pack"
	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// Options configures Run.
type Options struct {
	// Root is the module root; found from the working directory when empty.
	Root string
	// Out receives the demo's report; Run writes progress as it goes.
	Out io.Writer
	// Quick sends fewer latency samples (for tests).
	Quick bool
	// Verbose also prints the extension's and the function's log lines.
	Verbose bool
	// Prometheus is a Prometheus base URL to push to with remote write
	// (it needs --web.enable-remote-write-receiver). Empty: use
	// http://127.0.0.1:9090 when it answers, else none.
	Prometheus string
	// Keep leaves the work directory (layer, function, policies) in place.
	Keep bool
}

// ErrUnexpected is returned when the demo saw an outcome a working
// product cannot produce: a benign request refused, an attack let
// through, or metrics that disagree with what the clients saw.
var ErrUnexpected = errors.New("demo: unexpected outcome")

// demo is one run's state.
type demo struct {
	opt       Options
	out       io.Writer
	work      string // temporary directory
	optDir    string // the unpacked layer (/opt)
	bootstrap string // the function
	partner   *httptest.Server
	promURL   string // remote-write target, if any
	problems  []string
	step      int
}

const steps = 7

// Run builds the layer and the example function, runs them in the local
// Lambda simulator, sends benign and attack traffic and reports what was
// allowed, blocked and measured. It returns an error wrapping
// ErrUnexpected when an outcome is wrong.
func Run(ctx context.Context, opt Options) error {
	if opt.Out == nil {
		opt.Out = io.Discard
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("demo: the local Lambda simulator runs the layer's Linux binaries natively; run the demo on Linux (amd64 or arm64), for example in a golang container")
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		return fmt.Errorf("demo: Lambda has no %s architecture; run on amd64 or arm64", runtime.GOARCH)
	}
	if opt.Root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if opt.Root, err = pack.FindRoot(wd); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	work, err := os.MkdirTemp("", "lrdemo")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d := &demo{opt: opt, out: opt.Out, work: work}
	if opt.Keep {
		defer fmt.Fprintf(d.out, "\nWork directory kept: %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	fmt.Fprintln(d.out, "lambda-rasp demo: the layer and an example function in a local Lambda simulator")
	fmt.Fprintln(d.out, strings.Repeat("=", 78))

	if err := d.buildLayer(ctx, arch); err != nil {
		return err
	}
	if err := d.buildFunction(ctx); err != nil {
		return err
	}
	d.partner = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prices" {
			http.Error(w, `{"error":"partner admin API: not for the function"}`, http.StatusForbidden)
			return
		}
		w.Header().Set("content-type", "application/json")
		io.WriteString(w, `{"espresso cup":8.9,"french press":27.5,"grinder":84,"milk jug":13.2}`)
	}))
	defer d.partner.Close()
	d.promURL = d.findPrometheus(ctx)

	base, err := os.ReadFile(filepath.Join(d.optDir, "lambda-rasp", "policy.yaml"))
	if err != nil {
		return fmt.Errorf("demo: the layer has no default policy: %w", err)
	}
	partner, err := netip.ParseAddrPort(strings.TrimPrefix(d.partner.URL, "http://"))
	if err != nil {
		return fmt.Errorf("demo: partner address: %w", err)
	}
	blockPolicy, err := d.writePolicy(base, partner, false)
	if err != nil {
		return err
	}
	rolloutPolicy, err := d.writePolicy(base, partner, true)
	if err != nil {
		return err
	}

	reps := 100
	if opt.Quick {
		reps = 10
	}
	off, err := d.baseline(ctx, blockPolicy, reps)
	if err != nil {
		return err
	}
	p1, err := d.phase(ctx, "phase 1 — default policy, block mode: attacks stopped at the input",
		blockPolicy, reps, func(*lambdasim.Sim) []shot { return inputTraffic() })
	if err != nil {
		return err
	}
	p2, err := d.phase(ctx, "phase 2 — input rules in monitor mode (a rollout): the sink guards decide",
		rolloutPolicy, 0, func(s *lambdasim.Sim) []shot { return sinkTraffic(s.RuntimeAPI(), d.partner.URL) })
	if err != nil {
		return err
	}
	d.summary(off, p1, p2)
	if len(d.problems) > 0 {
		return fmt.Errorf("%w: %s", ErrUnexpected, strings.Join(d.problems, "; "))
	}
	return nil
}

// progress prints a numbered step.
func (d *demo) progress(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.out, "\n[%d/%d] %s\n", d.step, steps, fmt.Sprintf(format, args...))
}

func (d *demo) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	d.problems = append(d.problems, msg)
	fmt.Fprintf(d.out, "  !! %s\n", msg)
}

// env is one run's environment.
type env struct {
	sim     *lambdasim.Sim
	metrics string
	logs    *logSink
}

// start runs the layer and the function in a new simulator.
func (d *demo) start(ctx context.Context, policy string, extra map[string]string) (*env, error) {
	metrics, err := freePort()
	if err != nil {
		return nil, err
	}
	vars := map[string]string{
		"LAMBDA_RASP_POLICY":       policy,
		"LAMBDA_RASP_SOCKET":       filepath.Join(d.work, "s", "events.sock"),
		"LAMBDA_RASP_METRICS_ADDR": metrics,
		"DEMO_PARTNER_URL":         d.partner.URL,
		"DEMO_ASSETS":              filepath.Join(d.work, "task", "assets"),
	}
	if d.promURL != "" {
		vars["LAMBDA_RASP_REMOTE_WRITE_URL"] = d.promURL
		vars["LAMBDA_RASP_FLUSH_INTERVAL"] = "1s"
	}
	for k, v := range extra {
		vars[k] = v
	}
	logs := &logSink{verbose: d.opt.Verbose, out: d.out}
	sim, err := lambdasim.New(lambdasim.Config{
		Bootstrap:     d.bootstrap,
		ExtensionsDir: filepath.Join(d.optDir, "extensions"),
		Env:           vars,
		FunctionName:  "products-api",
		MemoryMB:      256,
		Timeout:       5 * time.Second,
		Stdout:        logs,
		Stderr:        logs,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	start := time.Now()
	if err := sim.Start(ctx); err != nil {
		sim.Close()
		return nil, fmt.Errorf("demo: init failed: %w\n%s", err, logs.tail(20))
	}
	fmt.Fprintf(d.out, "  init: extension registered and function started in %s (runtime API %s, metrics on http://%s/metrics)\n",
		time.Since(start).Round(time.Millisecond), sim.RuntimeAPI(), metrics)
	return &env{sim: sim, metrics: metrics, logs: logs}, nil
}

// stop shuts the environment down as Lambda does (SHUTDOWN to the
// extension, which flushes its metrics).
func (e *env) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.sim.Shutdown(ctx, lambdasim.ReasonSpindown)
	e.sim.Close()
	return err
}

// baseline measures the benign requests with lambda-rasp switched off.
func (d *demo) baseline(ctx context.Context, policy string, reps int) ([]time.Duration, error) {
	d.progress("baseline — the same function with LAMBDA_RASP_MODE=off (%d benign requests)", reps*len(baselineTraffic()))
	e, err := d.start(ctx, policy, map[string]string{"LAMBDA_RASP_MODE": "off"})
	if err != nil {
		return nil, err
	}
	defer e.stop()
	return d.repeat(ctx, e, reps)
}

// repeat sends the baseline traffic reps times and returns the durations.
func (d *demo) repeat(ctx context.Context, e *env, reps int) ([]time.Duration, error) {
	var durs []time.Duration
	n := 0
	for range reps {
		for _, s := range baselineTraffic() {
			n++
			payload, err := s.payload(n)
			if err != nil {
				return nil, err
			}
			start := time.Now()
			res, err := e.sim.Invoke(ctx, payload)
			if err != nil {
				return nil, fmt.Errorf("demo: invoke: %w", err)
			}
			durs = append(durs, time.Since(start))
			if o := classify(s, res); o.kind != outcomeAllowed {
				d.problem("benign baseline request %q was %s", s.Label, o.kind)
			}
		}
	}
	fmt.Fprintf(d.out, "  %d requests, median round trip %s\n", len(durs), median(durs))
	return durs, nil
}

// phaseResult is what one phase saw.
type phaseResult struct {
	title   string
	shots   []shot
	results []outcome
	metrics []sample
	durs    []time.Duration
	events  []securityEvent
}

// phase runs one traffic phase in a fresh environment.
func (d *demo) phase(ctx context.Context, title, policy string, reps int, traffic func(*lambdasim.Sim) []shot) (*phaseResult, error) {
	d.progress("%s", title)
	e, err := d.start(ctx, policy, nil)
	if err != nil {
		return nil, err
	}
	defer e.stop()
	pr := &phaseResult{title: title}
	if reps > 0 {
		if pr.durs, err = d.repeat(ctx, e, reps); err != nil {
			return nil, err
		}
	}
	pr.shots = traffic(e.sim)
	fmt.Fprintf(d.out, "  %-13s %-9s %-4s %-52s %s\n", "SOURCE", "OUTCOME", "HTTP", "REQUEST", "RULES (field)")
	for i, s := range pr.shots {
		payload, err := s.payload(1000 + i)
		if err != nil {
			return nil, err
		}
		res, err := e.sim.Invoke(ctx, payload)
		if err != nil {
			return nil, fmt.Errorf("demo: invoke: %w", err)
		}
		o := classify(s, res)
		evs := e.logs.waitFor(res.RequestID, o.kind != outcomeAllowed || s.Attack)
		if o.kind == outcomeAllowed && hasAction(evs, "monitor") {
			o.kind = outcomeMonitored
		}
		o.events = evs
		pr.results = append(pr.results, o)
		mark := "✓"
		if s.Attack {
			mark = "✗"
		}
		fmt.Fprintf(d.out, "  %s %-11s %-9s %-4s %-52s %s\n", mark, s.Source, o.kind, o.status, clip(s.Label, 52), describe(evs))
	}
	// Give the extension a moment to count the last datagrams, then read
	// its metrics as a Prometheus server would.
	time.Sleep(100 * time.Millisecond)
	if pr.metrics, _, err = scrape(ctx, e.metrics); err != nil {
		d.problem("the extension's /metrics did not answer: %v", err)
	}
	if err := e.stop(); err != nil {
		d.problem("shutdown: %v", err)
	}
	pr.events = e.logs.all()
	d.check(pr)
	return pr, nil
}

// check compares what the clients saw with what the policy promises and
// what the extension counted.
func (d *demo) check(pr *phaseResult) {
	blocked := 0
	for i, s := range pr.shots {
		o := pr.results[i]
		switch {
		case !s.Attack && (o.kind == outcomeBlocked || o.kind == outcomeSinkBlocked || o.kind == outcomeFailed):
			d.problem("benign request %q was %s", s.Label, o.kind)
		case s.Attack && (o.kind == outcomeAllowed || o.kind == outcomeMonitored) && s.Source != srcSQS:
			d.problem("attack %q was %s", s.Label, o.kind)
		}
		// A partial batch is an input block too: the inspection decided
		// block and the offending records were withheld.
		if o.kind == outcomeBlocked || o.kind == outcomePartial {
			blocked++
		}
	}
	if pr.metrics == nil {
		return
	}
	counted := sum(pr.metrics, "lambda_rasp_inspections_total", map[string]string{"decision": "block"})
	if int(counted) != blocked {
		d.problem("clients saw %d events blocked at the input (partial batches included), the extension counted %g", blocked, counted)
	}
}

// outcome kinds, as the client sees them.
const (
	outcomeAllowed     = "allowed"
	outcomeMonitored   = "monitored"
	outcomeBlocked     = "blocked"   // by the input guard
	outcomeSinkBlocked = "sink-stop" // by a sink guard (the handler ran)
	outcomePartial     = "partial"   // some SQS records withheld
	outcomeFailed      = "failed"
)

// outcome is one event's result.
type outcome struct {
	kind     string
	status   string // HTTP status, or records withheld for SQS
	body     string // the HTTP response body
	withheld []string
	events   []securityEvent
}

// classify reads an invoke result the way the event source would.
func classify(s shot, res *lambdasim.Result) outcome {
	if res.FunctionError != "" {
		return outcome{kind: outcomeFailed, status: "-", body: string(res.Body)}
	}
	if s.Source == srcSQS {
		var r struct {
			BatchItemFailures []struct {
				ItemIdentifier string `json:"itemIdentifier"`
			} `json:"batchItemFailures"`
		}
		_ = json.Unmarshal(res.Body, &r) // an empty or null response is no failures
		o := outcome{kind: outcomeAllowed, status: "0/" + fmt.Sprint(len(s.Records))}
		for _, f := range r.BatchItemFailures {
			o.withheld = append(o.withheld, f.ItemIdentifier)
		}
		if len(o.withheld) > 0 {
			o.kind = outcomePartial
			o.status = fmt.Sprintf("%d/%d", len(o.withheld), len(s.Records))
		}
		return o
	}
	var r struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(res.Body, &r); err != nil {
		return outcome{kind: outcomeFailed, status: "?", body: string(res.Body)}
	}
	o := outcome{kind: outcomeAllowed, status: fmt.Sprint(r.StatusCode), body: r.Body}
	switch {
	case r.StatusCode == http.StatusForbidden && strings.Contains(r.Body, `"message":"Forbidden"`):
		o.kind = outcomeBlocked
	case r.StatusCode == http.StatusForbidden && strings.Contains(r.Body, "blocked by runtime protection"):
		o.kind = outcomeSinkBlocked
	case r.StatusCode >= 500:
		o.kind = outcomeFailed
	}
	return o
}

func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '·'
		}
		return r
	}, s)
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func median(d []time.Duration) time.Duration { return percentile(d, 0.5) }

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q * float64(len(s)-1))
	return s[i]
}
