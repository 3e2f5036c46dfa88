package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// jsonDecode is Decode without the fast path: encoding/json alone.
func jsonDecode(b []byte) (Event, error) {
	var e Event
	if len(b) > MaxDatagram {
		return e, ErrTooLarge
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("wire: decode: %w", err)
	}
	if e.V != Version {
		return e, fmt.Errorf("%w %d", ErrVersion, e.V)
	}
	switch e.Kind {
	case KindInspection, KindDetection, KindEgress, KindSink:
	default:
		return e, fmt.Errorf("wire: unknown kind %q", e.Kind)
	}
	return e, nil
}

var fastSeeds = []string{
	`{"v":1,"kind":"inspection","time":"2026-11-23T06:00:00.123456789Z","fn":"orders","req":"8f5c","tenant":"acme","src":"apigw-v2","action":"allow","policy":"default@3f2a9c1e","dur_ns":12345}`,
	`{"v":1,"kind":"detection","time":"2026-11-23T06:00:00Z","action":"block","rule":"sqli","cat":"sqli","source":"query","path":"query.search","excerpt":"x' UNION SELECT é"}`,
	`{"v":1,"kind":"egress","dest":"169.254.169.254:80","class":"metadata","action":"block","dropped":18446744073709551615,"truncated":true,"matches":3}`,
	` { "v" : 1 , "kind" : "sink" , "truncated" : false } `,
	`{}`,
	`{"v":2,"kind":"sink"}`,
	`{"v":1,"kind":"gossip"}`,
	`{"v":1,"kind":"sink","KIND":"egress"}`,
	`{"v":1,"kind":"sink","excerpt":"a\"b"}`,
	`{"v":1.0,"kind":"sink"}`,
	`{"v":01,"kind":"sink"}`,
	`{"v":-0,"kind":"sink","dur_ns":-5}`,
	`{"v":1,"kind":"sink","dropped":-1}`,
	`{"v":1,"kind":"sink","time":null}`,
	`{"v":1,"kind":"sink","time":"yesterday"}`,
	`{"v":1,"kind":"sink",}`,
	`{"v":1,"kind":"sink"}x`,
	`{"v":1,"kind":"sink","kind":"egress"}`,
	`{"v":1,"kind":"sink","reason":"` + "\xff" + `"}`,
	`{"v":99999999999999999999,"kind":"sink"}`,
}

func TestFastDecodeMatchesWireDecode(t *testing.T) {
	for _, s := range fastSeeds {
		checkSame(t, []byte(s))
	}
	// The common datagrams take the fast path.
	for _, s := range fastSeeds[:4] {
		var e Event
		if !fastDecode([]byte(s), &e) {
			t.Errorf("fastDecode(%s) fell back", s)
		}
	}
}

// checkSame holds Decode (fast path first) to exactly what encoding/json
// gives: the same error class and, when both accept, the same event; and
// the fast path, when it accepts, to encoding/json.
func checkSame(t *testing.T, b []byte) {
	t.Helper()
	var fast Event
	ferr := Decode(b, &fast)
	slow, serr := jsonDecode(b)
	if (ferr == nil) != (serr == nil) || errors.Is(ferr, ErrVersion) != errors.Is(serr, ErrVersion) ||
		errors.Is(ferr, ErrTooLarge) != errors.Is(serr, ErrTooLarge) {
		t.Fatalf("Decode(%q) error = %v; encoding/json path error = %v", b, ferr, serr)
	}
	if ferr == nil && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("Decode(%q) = %+v; encoding/json = %+v", b, fast, slow)
	}
	var e, want Event
	if fastDecode(b, &e) {
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("fastDecode accepted %q, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("fastDecode(%q) = %+v; encoding/json = %+v", b, e, want)
		}
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"v":1,"kind":"sink","path":"` + strings.Repeat("a", 300) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) { checkSame(t, b) })
}

func BenchmarkDecode(b *testing.B) {
	d := []byte(fastSeeds[1])
	var e Event
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			Decode(d, &e)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsonDecode(d)
		}
	})
}
