package ingest

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// slowDecode is decode without the fast path: wire.Decode alone.
func slowDecode(b []byte, e *wire.Event) (string, bool) {
	if len(b) > wire.MaxDatagram {
		return ReasonOversized, false
	}
	ev, err := wire.Decode(b)
	switch {
	case err == nil:
		*e = ev
		return "", true
	case errors.Is(err, wire.ErrTooLarge):
		return ReasonOversized, false
	case errors.Is(err, wire.ErrVersion):
		return ReasonVersion, false
	}
	return ReasonMalformed, false
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
		var e wire.Event
		if !fastDecode([]byte(s), &e) {
			t.Errorf("fastDecode(%s) fell back", s)
		}
	}
}

// checkSame holds decode (fast path first) to exactly what wire.Decode
// gives, and the fast path, when it accepts, to encoding/json.
func checkSame(t *testing.T, b []byte) {
	t.Helper()
	var fast, slow wire.Event
	fr, fok := decode(b, &fast)
	sr, sok := slowDecode(b, &slow)
	if fr != sr || fok != sok {
		t.Fatalf("decode(%q) = %q, %v; wire.Decode path = %q, %v", b, fr, fok, sr, sok)
	}
	if fok && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("decode(%q) = %+v; wire.Decode = %+v", b, fast, slow)
	}
	var e, want wire.Event
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
	var e wire.Event
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decode(d, &e)
		}
	})
	b.Run("wire.Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			slowDecode(d, &e)
		}
	})
}
