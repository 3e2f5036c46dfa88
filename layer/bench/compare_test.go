package bench

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// TestCompareSample runs the whole comparison on a tiny sample.
func TestCompareSample(t *testing.T) {
	c := loadCorpus(t)
	c.Sample(4, 1)
	rep, err := Run(Config{Corpus: c, Examples: 1, BinaryBodies: 14})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Result{rep.Ours, rep.Coraza} {
		if got, want := int(r.Calls), rep.Events; got != want {
			t.Errorf("%s: %d calls, want %d", r.Name, got, want)
		}
		if d := r.Detection(); d.Total == 0 || d.Hit == 0 {
			t.Errorf("%s: detection %+v: nothing detected", r.Name, d)
		}
		if len(r.Lat) != rep.Events {
			t.Errorf("%s: %d latencies, want %d", r.Name, len(r.Lat), rep.Events)
		}
	}
	if got, want := int(rep.Lib.Calls), rep.Payloads; got != want {
		t.Errorf("libinjection: %d calls, want %d", got, want)
	}
	bins := 0
	for _, k := range rep.BinKinds {
		bins += rep.Binary[k][0].Total
	}
	if bins != 14 {
		t.Errorf("%d binary bodies sent, want 14", bins)
	}
	var out bytes.Buffer
	rep.Markdown(&out)
	for _, want := range []string{"### Summary", "### Detection per category", "| sqli |", "| form body |", "### False positives", "p99",
		"| generated |", "| prose |", "### Binary and compressed bodies"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestEventsAgree checks that both shapes of an event carry the payload
// where they should: our adapter must find the decoded payload in the
// position's source, and a clean value must pass every engine.
func TestEventsAgree(t *testing.T) {
	const payload = "it's <b>a</b> ; /x?y=1&z"
	want := [NumPositions]rules.Source{rules.SourceQuery, rules.SourcePath, rules.SourceHeaders, rules.SourceCookies, rules.SourceBody, rules.SourceBody}
	for pos := range NumPositions {
		ev := BuildEvent(Case{Payload: payload, Pos: pos})
		parsed, err := adapter.Parse(ev.Lambda, adapter.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", pos, err)
		}
		if parsed.Source != adapter.SourceAPIGatewayV2 {
			t.Errorf("%s: source %s", pos, parsed.Source)
		}
		found := false
		for _, f := range parsed.Request.Fields {
			if f.Source == want[pos] && f.Value == payload && !f.Key {
				found = true
			}
		}
		if pos != PosCookie && !found { // a cookie value is cut at ';'
			t.Errorf("%s: payload not among fields %+v", pos, parsed.Request.Fields)
		}
	}
	o, err := NewOurs()
	if err != nil {
		t.Fatal(err)
	}
	cz, err := NewCoraza()
	if err != nil {
		t.Fatal(err)
	}
	for pos := range NumPositions {
		ev := BuildEvent(Case{Payload: "hello world 42", Pos: pos, Benign: true})
		for _, e := range []Engine{o, cz, Libinjection{}} {
			if e.Detect(&ev) {
				t.Errorf("%s blocks a clean %s: %v", e.Name(), pos, e.Explain(&ev))
			}
		}
	}
	// Every engine must see an obvious attack in every position (but
	// libinjection and the positions CRS PL1 does not inspect).
	for pos := range NumPositions {
		ev := BuildEvent(Case{Payload: "<script>alert(1)</script>", Pos: pos})
		if !o.Detect(&ev) {
			t.Errorf("lambda-rasp misses XSS in %s", pos)
		}
		if !cz.Detect(&ev) && pos != PosHeader {
			t.Errorf("Coraza misses XSS in %s", pos)
		}
	}
}

// TestGeneratedData checks the generators: deterministic, the requested
// count, and the binary bodies really binary (skipped by our adapter).
func TestGeneratedData(t *testing.T) {
	a, b := GeneratedBenign(200, 3), GeneratedBenign(200, 3)
	if len(a) != 200 || strings.Join(a, "\x00") != strings.Join(b, "\x00") {
		t.Fatalf("GeneratedBenign: %d values, deterministic %v", len(a), strings.Join(a, "\x00") == strings.Join(b, "\x00"))
	}
	for _, body := range BinaryBodies(21, 5) {
		ev := BuildBinaryEvent(body)
		parsed, err := adapter.Parse(ev.Lambda, adapter.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		switch body.Name {
		case "zip", "gzip json":
			// Archives are skipped as binary; gzip is inflated to text.
		default:
			if len(parsed.Skipped) != 1 {
				t.Errorf("%s body (%d bytes): Skipped = %+v, want one skip", body.Name, len(body.Body), parsed.Skipped)
			}
		}
	}
}
