package rasp

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
	"github.com/lambda-rasp/lambda-rasp/rules/policy/live"
)

// startPolling starts the live policy poller when the policy came from
// LAMBDA_RASP_POLICY_URL and LAMBDA_RASP_POLICY_POLL_INTERVAL does not
// turn polling off. It never fetches itself: the first fetch was
// [policy.Load]'s, and the poller's first poll comes one interval later.
func (p *Protector) startPolling(getenv func(string) string, eng *rules.Engine) error {
	raw := getenv(policy.EnvPolicyURL)
	if raw == "" {
		return nil
	}
	every, err := live.ParseInterval(getenv(live.EnvPollInterval))
	if err != nil {
		return fmt.Errorf("%s: %w", live.EnvPollInterval, err)
	}
	if every == 0 {
		return nil
	}
	build := func(data []byte) (*rules.Engine, string, error) {
		pol, err := policy.ParseFetched(getenv, data)
		if err != nil {
			return nil, "", err
		}
		e, err := rules.Compile(pol)
		if err != nil {
			return nil, "", err
		}
		return e, e.Version(), nil
	}
	poller, err := live.New(live.Config{URL: raw, Interval: every, MaxBytes: policy.MaxPolicyBytes},
		nil, eng.Version(), build, p.swap, liveLog{p})
	if err != nil {
		return err
	}
	p.pollFailures = poller.Failures
	p.stopPoll = poller.Start()
	return nil
}

// swap makes e the active policy. An invocation already inspected keeps
// the guard, and so the policy, it started with; the next one loads the
// new guard. Only the poller's goroutine calls it.
func (p *Protector) swap(e *rules.Engine) {
	old := p.cur.Load()
	g := old.withEngine(e)
	p.cur.Store(g)
	processGuard.CompareAndSwap(old, g)
}

// liveLog writes the poller's reports to the operational log.
type liveLog struct{ p *Protector }

func (l liveLog) Updated(version string) {
	e := l.p.Engine()
	l.p.log.Info("policy updated", zap.String("version", version), zap.String("mode", e.Mode().String()),
		zap.String("source", e.Policy().Origin))
}

func (l liveLog) Failed(err error) {
	l.p.log.Warn("policy update failed; the active policy stays (logged once until a poll succeeds)",
		zap.String("version", l.p.Engine().Version()), zap.Error(err))
}

func (l liveLog) Recovered(failures uint64) {
	l.p.log.Info("policy polling recovered", zap.Uint64("failed_polls", failures),
		zap.String("version", l.p.Engine().Version()))
}
