package rasp

import (
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// TestSinkLabelsOnTheWire holds the sink names and the categories of the
// sink rule ids to the values the extension accepts as metric labels.
func TestSinkLabelsOnTheWire(t *testing.T) {
	for _, s := range []string{sinkSQL, sinkExec, sinkFile, sinkEgress} {
		if !wire.LabelSink.Has(s) {
			t.Errorf("sink %q is not in wire.LabelSink", s)
		}
	}
	for _, id := range []string{rules.RuleEgressDeny, rules.RuleSSRFSink, rules.RuleSQLiSink, rules.RuleCmdiSink,
		rules.RuleArgiSink, rules.RuleExecDeny, rules.RuleFileDeny, rules.RuleTraversalSink} {
		if c := sinkCategory(id); !wire.LabelCategory.Has(c) {
			t.Errorf("sink rule %s has category %q, which wire.LabelCategory lacks", id, c)
		}
	}
}
