package rules

import (
	"context"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// LoadEnv loads the policy the environment selects ([policy.Load]:
// LAMBDA_RASP_POLICY_URL, LAMBDA_RASP_POLICY, /opt/lambda-rasp/policy.yaml,
// else the embedded default; LAMBDA_RASP_MODE forces the mode) and
// compiles it. getenv is usually [os.Getenv], which a nil getenv stands
// for.
func LoadEnv(ctx context.Context, getenv func(string) string) (*Engine, error) {
	p, err := policy.Load(ctx, getenv)
	if err != nil {
		return nil, err
	}
	return Compile(p)
}
