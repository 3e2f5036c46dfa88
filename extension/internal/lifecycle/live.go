package lifecycle

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
	"github.com/lambda-rasp/lambda-rasp/rules/policy/live"
)

// startPolling polls LAMBDA_RASP_POLICY_URL as the wrapper does (the same
// poller, interval and validation), so lambda_rasp_policy_info follows
// the policy the function enforces. The extension validates a polled
// policy without compiling it; the wrapper compiles it, and a policy that
// parses but fails to compile is kept out by the wrapper alone.
func (r *runner) startPolling(pol *policy.Policy) error {
	raw := r.getenv(policy.EnvPolicyURL)
	if raw == "" {
		return nil
	}
	every, err := live.ParseInterval(r.getenv(live.EnvPollInterval))
	if err != nil {
		return fmt.Errorf("%s: %w", live.EnvPollInterval, err)
	}
	if every == 0 {
		return nil
	}
	build := func(data []byte) (*policy.Policy, string, error) {
		p, err := policy.ParseFetched(r.getenv, data)
		if err != nil {
			return nil, "", err
		}
		return p, p.ContentVersion(), nil
	}
	apply := func(p *policy.Policy) {
		r.m.AddRules(p.RuleIDs())
		r.m.SetPolicy(p.DisplayName(), p.ContentVersion(), p.EffectiveMode().String())
	}
	poller, err := live.New(live.Config{URL: raw, Interval: every, MaxBytes: policy.MaxPolicyBytes},
		nil, pol.ContentVersion(), build, apply, liveLog{r.log})
	if err != nil {
		return err
	}
	r.stopPoll = poller.Start()
	return nil
}

// liveLog writes the poller's reports to the operational log.
type liveLog struct{ log *zap.Logger }

func (l liveLog) Updated(version string) {
	l.log.Info("policy updated", zap.String("version", version))
}

func (l liveLog) Failed(err error) {
	l.log.Warn("policy update failed; the active policy stays (logged once until a poll succeeds)", zap.Error(err))
}

func (l liveLog) Recovered(failures uint64) {
	l.log.Info("policy polling recovered", zap.Uint64("failed_polls", failures))
}
