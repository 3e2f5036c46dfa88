package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	give := Event{
		Kind: KindDetection, Time: time.Date(2026, 11, 23, 3, 0, 0, 42, time.UTC),
		Function: "orders", RequestID: "r-1", EventSource: "sqs", Action: "block",
		RuleID: "sqli", Category: "sqli", Source: "record", Path: "record[1].body.note",
		Excerpt: "' OR 1=1", PolicyVersion: "default@abc", Dropped: 3,
	}
	b, err := Encode(nil, &give)
	if err != nil {
		t.Fatalf("Encode() error = %v", err)
	}
	var got Event
	err = Decode(b, &got)
	if err != nil {
		t.Fatalf("Decode(%s) error = %v", b, err)
	}
	if !got.Time.Equal(give.Time) {
		t.Errorf("Time = %v, want %v", got.Time, give.Time)
	}
	got.Time, give.Time = time.Time{}, time.Time{}
	if got != give {
		t.Errorf("Decode(Encode(e)) = %+v, want %+v", got, give)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want error // nil: any error
	}{
		{"too large", `{"v":1,"kind":"sink","reason":"` + strings.Repeat("x", MaxDatagram) + `"}`, ErrTooLarge},
		{"unknown version", `{"v":2,"kind":"sink"}`, ErrVersion},
		{"missing version", `{"kind":"sink"}`, ErrVersion},
		{"unknown kind", `{"v":1,"kind":"gossip"}`, nil},
		{"not JSON", `{"v":1,`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Event
			err := Decode([]byte(tt.give), &e)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("Decode() error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEncodeTooLarge(t *testing.T) {
	e := Event{Kind: KindSink, Reason: strings.Repeat("x", MaxDatagram)}
	if _, err := Encode(nil, &e); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Encode() error = %v, want ErrTooLarge", err)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		give string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"}, // never splits a rune
		{"", 0, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.give, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.give, tt.n, got, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"inspection","time":"2026-11-23T03:00:00Z","src":"apigw-v2","dur_ns":1200}`))
	f.Add([]byte(`{"v":1,"kind":"egress","dest":"169.254.169.254:80","action":"block","dropped":5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var e Event
		err := Decode(b, &e)
		if err != nil {
			return
		}
		out, err := Encode(nil, &e)
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return // re-encoding may grow escapes
			}
			t.Fatalf("Encode(Decode(%q)) error = %v", b, err)
		}
		var again Event
		err = Decode(out, &again)
		if err != nil {
			t.Fatalf("Decode(Encode(e)) error = %v", err)
		}
		if again.Kind != e.Kind || again.Path != e.Path || again.Dropped != e.Dropped {
			t.Errorf("round trip changed %+v into %+v", e, again)
		}
	})
}

func TestLabels(t *testing.T) {
	tests := []struct {
		give  Label
		value string
		want  bool
	}{
		{LabelAction, "block", true},
		{LabelAction, "Block", false},
		{LabelCategory, "argi", false}, // argument injection is reported as cmdi
		{LabelClass, "metadata", true},
		{LabelReason, ReasonLimits, true},
		{LabelReason, ReasonBudget, true},
		{LabelFieldSource, "pathParams", true},
		{numLabels, "block", false},
	}
	for _, tt := range tests {
		if got := tt.give.Has(tt.value); got != tt.want {
			t.Errorf("Label(%d).Has(%q) = %v, want %v", tt.give, tt.value, got, tt.want)
		}
	}
	vs := LabelSink.Values()
	vs[0] = "changed"
	if LabelSink.Values()[0] == "changed" {
		t.Error("Values() returned shared state")
	}
}

func TestLogFields(t *testing.T) {
	long := strings.Repeat("é", 300)
	e := Event{Function: "orders", RuleID: "sqli", Action: "block", Excerpt: long, Class: "metadata", PolicyVersion: "abc"}
	got := e.LogFields(nil)
	want := []LogField{
		{"function", "orders"}, {"rule", "sqli"}, {"action", "block"},
		{"excerpt", Truncate(long, MaxLogExcerpt-3)}, {"class", "metadata"}, {"policy_version", "abc"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LogFields() = %q, want %q", got, want)
	}
	if n := len(got[3].Value); n > MaxLogExcerpt {
		t.Errorf("excerpt is %d bytes, over %d", n, MaxLogExcerpt)
	}
	// Every Event field a log line carries has a key: setting them all
	// yields every key once.
	all := Event{Function: "f", RequestID: "r", TenantID: "t", EventSource: "s", RuleID: "r", Category: "c", Action: "a", Source: "s",
		Path: "p", Excerpt: "e", Sink: "s", Dest: "d", Class: "c", Reason: "r", PolicyVersion: "v"}
	if got := all.LogFields(nil); len(got) != len(logFields) {
		t.Errorf("LogFields() of a full event = %d fields, want %d", len(got), len(logFields))
	}
}
