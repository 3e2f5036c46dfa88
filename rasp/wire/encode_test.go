package wire

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendCutsToFit(t *testing.T) {
	tests := []struct {
		name string
		give Event
	}{
		{"minimal", Event{Kind: KindInspection}},
		{"tenant", Event{Kind: KindDetection, RequestID: "r-1", TenantID: "tenant \"a\"/é"}},
		{"sink", Event{Kind: KindSink, Sink: "sql", Reason: "tautology", Dest: "db:5432", Dropped: 7}},
		{"oversized excerpt", Event{Kind: KindDetection, Excerpt: strings.Repeat("é", 3000), Path: strings.Repeat("p", 5000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.give.Time = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			b, ok := Append(nil, &tt.give)
			if !ok || len(b) > MaxDatagram {
				t.Fatalf("Append() = %d bytes, ok %v", len(b), ok)
			}
			var got Event
			if err := Decode(b, &got); err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if got.Kind != tt.give.Kind || got.Dropped != tt.give.Dropped || got.TenantID != tt.give.TenantID || !strings.HasPrefix(tt.give.Excerpt, strings.TrimSuffix(got.Excerpt, "…")) {
				t.Errorf("round trip = %+v, want %+v", got, tt.give)
			}
		})
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n", "\x00\x1f\x7f", "é😀", "\xff\xfe", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := AppendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("AppendString(%q) = %s, invalid JSON: %v", s, b, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); utf8.ValidString(s) && got != want {
			t.Errorf("AppendString(%q) decodes to %q", s, got)
		}
	})
}

// FuzzEncode holds the encoder to encoding/json: what Encode writes for an
// event with valid UTF-8 strings decodes (with encoding/json) to the same
// event as json.Marshal's output, and Decode reads it back.
func FuzzEncode(f *testing.F) {
	f.Add("sqli", "query.q", "' OR 1=1 <b>&", "db:5432", "tautology", int64(12345), 3, uint64(7), true)
	f.Add("", "", "", "", "", int64(0), 0, uint64(0), false)
	f.Add("r\u2028", "p\x00", "é😀\\\"", "[::1]:80", "\n", int64(-1), -5, uint64(1<<63), true)
	f.Fuzz(func(t *testing.T, rule, path, excerpt, dest, reason string, dur int64, matches int, dropped uint64, truncated bool) {
		for _, s := range []string{rule, path, excerpt, dest, reason} {
			if !utf8.ValidString(s) {
				return
			}
		}
		e := Event{Kind: KindSink, Time: time.Unix(1700000000, 123456789).UTC(), Function: "fn", RequestID: "req",
			TenantID: "tenant", EventSource: "sqs", Action: "block", RuleID: rule, Category: "sqli", Source: "body",
			Path: path, Excerpt: excerpt, Sink: "sql", Dest: dest, Class: "public", Reason: reason, PolicyVersion: "v1",
			DurationNS: dur, Matches: matches, Truncated: truncated, Dropped: dropped}
		b, err := Encode(nil, &e)
		if err != nil {
			return // over MaxDatagram
		}
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		var got, fromJSON Event
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Encode() = %s: invalid JSON: %v", b, err)
		}
		if err := json.Unmarshal(want, &fromJSON); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, fromJSON) {
			t.Fatalf("Encode() decodes to %+v; json.Marshal's to %+v", got, fromJSON)
		}
		var dec Event
		if err := Decode(b, &dec); err != nil || !reflect.DeepEqual(dec, fromJSON) {
			t.Fatalf("Decode(Encode()) = %+v, %v; want %+v", dec, err, fromJSON)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	e := Event{Kind: KindDetection, Time: time.Unix(1700000000, 0).UTC(), Function: "orders", RequestID: "8f5c",
		EventSource: "apigw-v2", Action: "block", RuleID: "sqli", Category: "sqli", Source: "query",
		Path: "query.search", Excerpt: "x' UNION SELECT", PolicyVersion: "3f2a9c1e"}
	buf := make([]byte, 0, MaxDatagram)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = Append(buf[:0], &e)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(&e)
		}
	})
}
