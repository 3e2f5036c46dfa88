package wire

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEgressSummaryRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	give := EgressSummary{
		Function: "orders", Environment: "2026/12/06/[$LATEST]abc", Process: "wrapper",
		Since: at, Until: at.Add(time.Hour), Dropped: 2,
		Destinations: []EgressDestination{
			{Host: "api.stripe.com", Port: 443, Scheme: "https", Count: 42, First: at, Last: at.Add(time.Minute), Decision: "allow"},
		},
	}
	b, err := EncodeEgressSummary(&give)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `{"type":"lambda_rasp.egress_summary","v":1,`) {
		t.Errorf("line = %s, want the type and version first", b)
	}
	got, err := DecodeEgressSummary(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, give) {
		t.Errorf("DecodeEgressSummary(Encode(s)) = %+v, want %+v", got, give)
	}
}

func TestDecodeEgressSummaryErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want error
	}{
		{"other type", `{"type":"x","v":1}`, ErrNotEgressSummary},
		{"no type", `{"v":1,"destinations":[]}`, ErrNotEgressSummary},
		{"version", `{"type":"lambda_rasp.egress_summary","v":2}`, ErrVersion},
		{"too large", `{"type":"lambda_rasp.egress_summary","v":1,"fn":"` + strings.Repeat("a", MaxEgressSummaryLine) + `"}`, ErrTooLarge},
		{"no host", `{"type":"lambda_rasp.egress_summary","v":1,"destinations":[{"port":443}]}`, nil},
		{"no port", `{"type":"lambda_rasp.egress_summary","v":1,"destinations":[{"host":"a.example"}]}`, nil},
		{"not JSON", `{"type":`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEgressSummary([]byte(tt.give))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("DecodeEgressSummary(%.60s) = %v, want %v", tt.give, err, tt.want)
			}
		})
	}
}

func FuzzDecodeEgressSummary(f *testing.F) {
	f.Add([]byte(`{"type":"lambda_rasp.egress_summary","v":1,"destinations":[{"host":"a.example","port":443,"count":1}]}`))
	f.Add([]byte(`{"type":"lambda_rasp.egress_summary","v":1,"destinations":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeEgressSummary(b)
		if err != nil {
			return
		}
		// A decoded summary re-encodes and decodes to the same value.
		out, err := EncodeEgressSummary(&s)
		if err != nil {
			t.Fatalf("encode decoded summary: %v", err)
		}
		if _, err := DecodeEgressSummary(out); err != nil && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("decode re-encoded summary %s: %v", out, err)
		}
	})
}
