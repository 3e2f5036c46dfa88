package rules

import "github.com/lambda-rasp/lambda-rasp/rules/policy"

// Action, Mode, Source and Confidence are the policy's words
// ([policy.Action], [policy.Mode], [policy.Source], [policy.Confidence]),
// named here too because the engine's results speak them.
type (
	Action     = policy.Action
	Mode       = policy.Mode
	Source     = policy.Source
	Confidence = policy.Confidence
)

// The actions, modes, sources and confidences (see the policy package),
// and the fixed rule ids that sink checks report.
const (
	ActionAllow   = policy.ActionAllow
	ActionMonitor = policy.ActionMonitor
	ActionBlock   = policy.ActionBlock

	ModeBlock   = policy.ModeBlock
	ModeMonitor = policy.ModeMonitor
	ModeOff     = policy.ModeOff

	SourceUnknown    = policy.SourceUnknown
	SourceQuery      = policy.SourceQuery
	SourcePath       = policy.SourcePath
	SourceHeaders    = policy.SourceHeaders
	SourceCookies    = policy.SourceCookies
	SourceBody       = policy.SourceBody
	SourcePathParams = policy.SourcePathParams
	SourceRecord     = policy.SourceRecord

	ConfidenceHigh = policy.ConfidenceHigh
	ConfidenceLow  = policy.ConfidenceLow

	RuleEgressDeny    = policy.RuleEgressDeny
	RuleSSRFSink      = policy.RuleSSRFSink
	RuleSQLiSink      = policy.RuleSQLiSink
	RuleCmdiSink      = policy.RuleCmdiSink
	RuleArgiSink      = policy.RuleArgiSink
	RuleExecDeny      = policy.RuleExecDeny
	RuleFileDeny      = policy.RuleFileDeny
	RuleTraversalSink = policy.RuleTraversalSink
)

// numSources bounds the sources; a test holds it to the policy package.
const numSources = SourceRecord + 1
