package rasp

import (
	"errors"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

func TestBlockedErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		give *BlockedError
		want string
	}{
		{
			"matches in records",
			&BlockedError{EventSource: "sqs", RuleIDs: []string{"sqli", "xss"}, Paths: []string{"record[1].body.q", "record[4].body.c"}, RecordIDs: []string{"m1", "m4"}},
			"lambda-rasp: event blocked (sqs): rules sqli,xss at record[1].body.q,record[4].body.c; records m1,m4",
		},
		{
			"on_error",
			&BlockedError{Reason: "malformed event"},
			"lambda-rasp: event blocked: malformed event",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewBlockedError(t *testing.T) {
	ev := &adapter.Event{Source: "kinesis", Records: []adapter.Record{{Index: 0, ID: "s0"}, {Index: 1, ID: "s1"}}}
	inv := &Invocation{RequestID: "r", EventSource: "kinesis", Decision: rules.Decision{
		Action: rules.ActionBlock,
		Matches: []rules.Match{
			{RuleID: "watch", Category: "custom", Path: "record[0].data", Action: rules.ActionMonitor},
			{RuleID: "sqli", Category: "sqli", Path: "record[1].data", Action: rules.ActionBlock},
			{RuleID: "sqli", Category: "sqli", Path: "record[1].partitionKey", Action: rules.ActionBlock},
		},
	}}
	e := newBlockedError(ev, inv)
	var target *BlockedError
	if !errors.As(error(e), &target) {
		t.Fatal("errors.As(*BlockedError) = false")
	}
	if len(e.RuleIDs) != 1 || e.RuleIDs[0] != "sqli" || len(e.RecordIDs) != 1 || e.RecordIDs[0] != "s1" || len(e.Paths) != 2 {
		t.Errorf("newBlockedError() = %+v, want rule sqli, record s1, two paths (monitor matches left out)", e)
	}
}

func TestRecordIndex(t *testing.T) {
	tests := []struct {
		give   string
		want   int
		wantOK bool
	}{
		{"record[3].body.x", 3, true},
		{"record[12]", 12, true},
		{"record[].x", 0, false},
		{"record[-1].x", 0, false},
		{"body.record[1]", 0, false},
		{"record[1", 0, false},
	}
	for _, tt := range tests {
		got, ok := recordIndex(tt.give)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("recordIndex(%q) = %d, %v, want %d, %v", tt.give, got, ok, tt.want, tt.wantOK)
		}
	}
}
