// Package live polls a policy URL — typically the AWS AppConfig
// agent's local HTTP API, /applications/{app}/environments/{env}/
// configurations/{profile} on localhost:2772 — and hands every new,
// fully validated policy to its owner, which swaps it in atomically.
//
// An unchanged policy costs one local HTTP round trip and nothing else:
// the poller sends If-None-Match when the server gave an ETag, and skips
// a response whose AppConfig version header or content hash equals the
// active policy's before parsing anything. A fetch, parse or compile
// failure keeps the last good policy; failures are counted and reported
// once per failure streak, and the recovery once.
//
// Both lambda-rasp processes (the in-process wrapper and the extension)
// poll the same URL; the version they report is the compiled policy's
// content hash, so identical content gives both the same version.
package live

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// EnvPollInterval is the environment variable [ParseInterval] reads.
const EnvPollInterval = "LAMBDA_RASP_POLICY_POLL_INTERVAL"

// DefaultInterval is the poll interval when none is configured.
const DefaultInterval = 45 * time.Second

// MinInterval bounds how often a poller may ask.
const MinInterval = time.Second

// fetchTimeout bounds one poll.
const fetchTimeout = 2 * time.Second

// The AppConfig agent's version headers (the agent sends
// Configuration-Version; its OpenAPI model names ConfigurationVersion).
var versionHeaders = []string{"Configuration-Version", "ConfigurationVersion"}

// ParseInterval parses LAMBDA_RASP_POLICY_POLL_INTERVAL: a Go duration of
// at least MinInterval, "0" or "off" to disable polling, DefaultInterval
// when empty.
func ParseInterval(s string) (time.Duration, error) {
	switch s {
	case "":
		return DefaultInterval, nil
	case "0", "off":
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("poll interval %q: want a Go duration such as 45s", s)
	}
	if d < MinInterval {
		return 0, fmt.Errorf("poll interval %s: at least %s", d, MinInterval)
	}
	return d, nil
}

// Reporter receives the poller's events. Each method is called from the
// poller's goroutine only.
type Reporter interface {
	// Updated: a new policy is active.
	Updated(version string)
	// Failed: the first failure of a streak (later ones are only counted).
	Failed(err error)
	// Recovered: a poll succeeded after failures streak.
	Recovered(failures uint64)
}

// Config configures a Poller.
type Config struct {
	// URL is polled with GET.
	URL string
	// Interval is the mean time between polls; each wait is jittered by
	// ±Jitter of it so that environments started together do not poll in
	// step.
	Interval time.Duration
	Jitter   float64 // 0..0.5; 0.2 when zero
	// Client does the requests; a client with the fetch timeout when nil.
	Client *http.Client
	// MaxBytes bounds a policy body.
	MaxBytes int64
}

// Poller polls one URL. Build turns a fetched body into the policy value
// (it must validate fully and return an error for anything it would not
// run); Apply makes it active. Apply is called with each new value, from
// the poller's goroutine, only after Build succeeded.
type Poller[T any] struct {
	cfg    Config
	build  func(data []byte) (T, string, error) // value, its version
	apply  func(T)
	report Reporter
	rand   func() float64

	etag     string // of the active policy's response
	header   string // AppConfig version header of the active policy
	sum      [32]byte
	version  string
	failures atomic.Uint64 // total, for metrics
	streak   uint64

	mu      sync.Mutex
	started bool
}

// New returns a poller whose active policy has the given version and
// content (what was loaded at init; nil when unknown, which costs one
// parse of an unchanged policy at the first poll). build returns the value and its
// version; apply swaps it in.
func New[T any](cfg Config, initial []byte, version string, build func([]byte) (T, string, error), apply func(T), report Reporter) (*Poller[T], error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("live policy: want an http or https URL")
	}
	if cfg.Interval < MinInterval {
		return nil, fmt.Errorf("live policy: interval %s below %s", cfg.Interval, MinInterval)
	}
	if cfg.Jitter <= 0 || cfg.Jitter > 0.5 {
		cfg.Jitter = 0.2
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: fetchTimeout}
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 1 << 20
	}
	return &Poller[T]{cfg: cfg, build: build, apply: apply, report: report, rand: rand.Float64,
		sum: sha256.Sum256(initial), version: version}, nil
}

// Failures returns the number of failed polls so far.
func (p *Poller[T]) Failures() uint64 { return p.failures.Load() }

// Run polls until ctx is done. It may be called once.
func (p *Poller[T]) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.started {
		p.mu.Unlock()
		return errors.New("live policy: Run called twice")
	}
	p.started = true
	p.mu.Unlock()
	t := time.NewTimer(p.wait())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		p.Poll(ctx)
		t.Reset(p.wait())
	}
}

// Start runs [Poller.Run] in a goroutine of its own. stop cancels it and
// returns once the goroutine has; it may be called more than once.
func (p *Poller[T]) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// wait returns one jittered interval.
func (p *Poller[T]) wait() time.Duration {
	f := 1 + p.cfg.Jitter*(2*p.rand()-1)
	return time.Duration(float64(p.cfg.Interval) * f)
}

// Poll fetches once and applies a changed, valid policy. It reports
// whether a new policy was applied. Run calls it on every tick; tests
// call it directly.
func (p *Poller[T]) Poll(ctx context.Context) bool {
	applied, err := p.poll(ctx)
	if err != nil {
		p.failures.Add(1)
		p.streak++
		if p.streak == 1 && p.report != nil {
			p.report.Failed(err)
		}
		return false
	}
	if p.streak > 0 {
		if p.report != nil {
			p.report.Recovered(p.streak)
		}
		p.streak = 0
	}
	if applied && p.report != nil {
		p.report.Updated(p.version)
	}
	return applied
}

func (p *Poller[T]) poll(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.URL, nil)
	if err != nil {
		return false, fmt.Errorf("live policy: %w", err)
	}
	req.Header.Set("Accept", "application/yaml, application/json, text/plain, */*")
	if p.etag != "" {
		req.Header.Set("If-None-Match", p.etag)
	}
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, which may carry a token
		}
		return false, fmt.Errorf("live policy: fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return false, nil
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("live policy: fetch: HTTP %d", resp.StatusCode)
	}
	header := ""
	for _, h := range versionHeaders {
		if v := resp.Header.Get(h); v != "" {
			header = v
			break
		}
	}
	if header != "" && header == p.header {
		return false, nil // the same AppConfig version: nothing to read
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, p.cfg.MaxBytes+1))
	if err != nil {
		return false, fmt.Errorf("live policy: read: %w", err)
	}
	if int64(len(data)) > p.cfg.MaxBytes {
		return false, fmt.Errorf("live policy: policy is larger than %d bytes", p.cfg.MaxBytes)
	}
	sum := sha256.Sum256(data)
	if sum == p.sum {
		p.etag, p.header = resp.Header.Get("ETag"), header
		return false, nil
	}
	v, version, err := p.build(data)
	if err != nil {
		return false, fmt.Errorf("live policy: %w", err)
	}
	if version == p.version {
		// The same policy in other bytes, or the first poll when the
		// initial content was not given: nothing to swap.
		p.sum, p.etag, p.header = sum, resp.Header.Get("ETag"), header
		return false, nil
	}
	p.apply(v)
	p.sum, p.version = sum, version
	p.etag, p.header = resp.Header.Get("ETag"), header
	return true, nil
}
