package adapter

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// pngImage returns a real PNG of a noisy w×h image.
func pngImage(t testing.TB, w, h int) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// randomBytes returns n pseudo-random bytes.
func randomBytes(n int) string {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}

func zlibString(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// bodyFields returns the body fields of an extraction as "path=value".
func bodyFields(ev *Event) []string {
	var out []string
	for _, f := range ev.Request.Fields {
		if f.Source == rules.SourceBody && !f.Key {
			out = append(out, f.Path+"="+f.Value)
		}
	}
	return out
}

func TestParseBinaryAndCompressedBodies(t *testing.T) {
	const attack = `' OR 1=1-- `
	img := pngImage(t, 64, 64)
	tests := []struct {
		name      string
		ctype     string
		cenc      string
		body      string
		b64       bool
		want      []string // body fields
		skip      string   // want one skip with this reason
		format    string
		truncated bool
	}{
		{name: "png declared", ctype: "image/png", body: b64(img), b64: true, skip: SkipBinary, format: "png"},
		{name: "png undeclared", body: b64(img), b64: true, skip: SkipBinary, format: "png"},
		{name: "random bytes", ctype: "application/octet-stream", body: b64(randomBytes(1 << 16)), b64: true, skip: SkipBinary},
		{name: "text declared as an image is inspected", ctype: "image/png", body: b64(attack), b64: true, want: []string{"body=" + attack}},
		{name: "gif polyglot with a script is text", ctype: "image/gif", body: b64("GIF89a/*<script>alert(1)</script>*/"), b64: true,
			want: []string{"body=GIF89a/*<script>alert(1)</script>*/"}},
		{name: "binary declared as JSON is read as declared", ctype: "application/json", body: "\x00\x01\x02" + attack, want: []string{"body=\x00\x01\x02" + attack}},
		{name: "gzip JSON without a content encoding", ctype: "application/octet-stream", body: b64(gz(`{"q":"` + attack + `"}`)), b64: true,
			want: []string{"body.q=" + attack}},
		{name: "zlib JSON, no type", body: b64(zlibString(`{"q":"x"}`)), b64: true, want: []string{"body.q=x"}},
		{name: "content-encoding gzip", ctype: "application/json", cenc: "gzip", body: b64(gz(`{"q":"y"}`)), b64: true, want: []string{"body.q=y"}},
		{name: "gzip of a png", body: b64(gz(img)), b64: true, skip: SkipBinary, format: "png"},
		{name: "gzip in gzip in gzip", body: b64(gz(gz(gz("hello")))), b64: true, skip: SkipNested, format: "gzip", truncated: true},
		{name: "non-Latin script stays text", body: "Привет, мир — こんにちは", want: []string{"body=Привет, мир — こんにちは"}},
		{name: "text starting like zlib", body: "x^2 + y^2", want: []string{"body=x^2 + y^2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.ctype != "" {
				h["content-type"] = tt.ctype
			}
			if tt.cenc != "" {
				h["content-encoding"] = tt.cenc
			}
			ev, err := Parse(v2(t, h, tt.body, tt.b64), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := bodyFields(ev)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("body fields = %q, want %q", got, tt.want)
			}
			switch {
			case tt.skip == "" && len(ev.Skipped) > 0:
				t.Errorf("Skipped = %+v, want none", ev.Skipped)
			case tt.skip != "" && (len(ev.Skipped) != 1 || ev.Skipped[0].Reason != tt.skip || ev.Skipped[0].Format != tt.format || ev.Skipped[0].Path != "body"):
				t.Errorf("Skipped = %+v, want one %s/%s at body", ev.Skipped, tt.skip, tt.format)
			}
			if ev.Request.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v", ev.Request.Truncated, tt.truncated)
			}
		})
	}
}

func TestParseGzipBombIsBounded(t *testing.T) {
	bomb := gz(strings.Repeat("A", 8<<20))
	ev, err := Parse(v2(t, map[string]string{"content-type": "application/octet-stream"}, b64(bomb), true), Limits{MaxBodyBytes: 1 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Request.Truncated {
		t.Error("Truncated = false for a body inflating past the bound")
	}
	for _, f := range ev.Request.Fields {
		if len(f.Value) > 1<<16 {
			t.Errorf("field %s is %d bytes, over the bound", f.Path, len(f.Value))
		}
	}
}

// cwlRecord is a CloudWatch Logs subscription payload as Kinesis
// delivers it: gzip, then base64.
func cwlRecord(t testing.TB, messages ...string) string {
	t.Helper()
	type logEvent struct {
		ID        string `json:"id"`
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	p := struct {
		MessageType         string     `json:"messageType"`
		Owner               string     `json:"owner"`
		LogGroup            string     `json:"logGroup"`
		LogStream           string     `json:"logStream"`
		SubscriptionFilters []string   `json:"subscriptionFilters"`
		LogEvents           []logEvent `json:"logEvents"`
	}{MessageType: "DATA_MESSAGE", Owner: "123456789012", LogGroup: "/aws/lambda/orders", LogStream: "2026/12/06/[$LATEST]abc", SubscriptionFilters: []string{"all"}}
	for i, m := range messages {
		p.LogEvents = append(p.LogEvents, logEvent{ID: "3" + strings.Repeat("0", 20) + string(rune('0'+i)), Timestamp: 1796000000000, Message: m})
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b64(gz(string(b)))
}

func kinesisEvent(t testing.TB, data ...string) []byte {
	t.Helper()
	type rec struct {
		EventSource string `json:"eventSource"`
		Kinesis     struct {
			PartitionKey   string `json:"partitionKey"`
			Data           string `json:"data"`
			SequenceNumber string `json:"sequenceNumber"`
		} `json:"kinesis"`
	}
	var ev struct {
		Records []rec `json:"Records"`
	}
	for i, d := range data {
		var r rec
		r.EventSource = "aws:kinesis"
		r.Kinesis.PartitionKey = "pk"
		r.Kinesis.Data = d
		r.Kinesis.SequenceNumber = string(rune('1' + i))
		ev.Records = append(ev.Records, r)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseKinesisCloudWatchLogs(t *testing.T) {
	ev, err := Parse(kinesisEvent(t, cwlRecord(t, "START RequestId: 8f5e Version: $LATEST", "user clicked <b>buy</b>"), b64(pngImage(t, 8, 8))), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"record[0].data.logEvents[0].message=START RequestId: 8f5e Version: $LATEST": false,
		"record[0].data.logEvents[1].message=user clicked <b>buy</b>":                false,
		"record[0].data.logGroup=/aws/lambda/orders":                                 false,
	}
	for _, f := range ev.Request.Fields {
		if _, ok := want[f.Path+"="+f.Value]; ok {
			want[f.Path+"="+f.Value] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("missing field %s", k)
		}
	}
	if len(ev.Skipped) != 1 || ev.Skipped[0].Path != "record[1].data" || ev.Skipped[0].Reason != SkipBinary {
		t.Errorf("Skipped = %+v, want the png of record[1]", ev.Skipped)
	}
	if ev.Request.Truncated {
		t.Error("Truncated = true")
	}
}

func TestParseDecompressionBudget(t *testing.T) {
	// Six records of 40 KiB each against a 64 KiB body bound: the event
	// may inflate 4 bodies' worth (256 KiB), the rest is skipped and the
	// inspection is incomplete.
	var data []string
	for range 8 {
		data = append(data, b64(gz(`{"m":"`+strings.Repeat("a ", 20<<10)+`"}`)))
	}
	ev, err := Parse(kinesisEvent(t, data...), Limits{MaxBodyBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Request.Truncated {
		t.Error("Truncated = false past the decompression budget")
	}
	budget := 0
	for _, s := range ev.Skipped {
		if s.Reason == SkipBudget {
			budget++
		}
	}
	if budget == 0 {
		t.Errorf("Skipped = %+v, want decompression-budget skips", ev.Skipped)
	}
}

func TestParseMultipartFileParts(t *testing.T) {
	img := pngImage(t, 32, 32)
	body := "--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"avatar\"; filename=\"me.png\"\r\n" +
		"Content-Type: image/png\r\n\r\n" + img + "\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"notes\"; filename=\"notes.txt\"\r\n" +
		"Content-Type: text/plain\r\n\r\n" + "see <script>alert(1)</script>" + "\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"data\"; filename=\"d.bin\"\r\n\r\n" + `{"k":"v"}` + "\r\n" +
		"--XyZ\r\n" +
		"Content-Disposition: form-data; name=\"fake\"; filename=\"x.png\"\r\n" +
		"Content-Type: image/png\r\n\r\n" + "1 UNION SELECT password FROM users" + "\r\n" +
		"--XyZ--\r\n"
	ev, err := Parse(v2(t, map[string]string{"content-type": "multipart/form-data; boundary=XyZ"}, b64(body), true), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(bodyFields(ev), "\n")
	want := strings.Join([]string{
		"body.avatar.filename=me.png",
		"body.notes.filename=notes.txt",
		"body.notes=see <script>alert(1)</script>",
		"body.data.filename=d.bin",
		"body.data.k=v",
		"body.fake.filename=x.png",
		"body.fake=1 UNION SELECT password FROM users",
	}, "\n")
	if got != want {
		t.Errorf("body fields:\n%s\nwant:\n%s", got, want)
	}
	if len(ev.Skipped) != 1 || ev.Skipped[0].Path != "body.avatar" || ev.Skipped[0].Format != "png" {
		t.Errorf("Skipped = %+v, want the avatar png", ev.Skipped)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		give       string
		binary     bool
		format     string
		compressed string
	}{
		{give: "", binary: false},
		{give: "hello, world", binary: false},
		{give: "GIF89a<svg onload=alert(1)>", binary: false, format: "gif"},
		{give: "GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04", binary: true, format: "gif"},
		{give: "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", binary: true, format: "pdf"},
		{give: "%PDF-1.7 is a file format", binary: false, format: "pdf"},
		{give: gz("some text"), binary: true, format: "gzip", compressed: "gzip"},
		{give: zlibString("some text"), binary: true, format: "zlib", compressed: "zlib"},
		{give: "\xff\xfeh\x00e\x00l\x00l\x00o\x00", binary: true},
		{give: "naïve café 東京 😀", binary: false},
		{give: "caf\xe9 cr\xe8me br\xfbl\xe9e, na\xefve", binary: false},
		{give: "x^2 + y^2", binary: false, compressed: "zlib"},
		{give: randomBytes(300), binary: true},
		{give: strings.Repeat("plain text ", 1000) + randomBytes(10), binary: false},
	}
	for _, tt := range tests {
		r := sniff(tt.give)
		if r.binary != tt.binary || r.format != tt.format || r.compressed != tt.compressed {
			t.Errorf("sniff(%.30q) = %+v, want binary=%v format=%q compressed=%q", tt.give, r, tt.binary, tt.format, tt.compressed)
		}
	}
}

func TestSniffBase64MatchesSniff(t *testing.T) {
	for _, s := range []string{pngImage(t, 100, 100), randomBytes(1 << 20), strings.Repeat("text ", 100000), gz("x"), "short"} {
		want := sniff(s)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			got, ok := sniffBase64(enc.EncodeToString([]byte(s)))
			if !ok || got.binary != want.binary || got.format != want.format || got.compressed != want.compressed {
				t.Errorf("sniffBase64(%.20q) = %+v, %v; sniff = %+v", s, got, ok, want)
			}
		}
	}
	if _, ok := sniffBase64("not base64 at all!"); ok {
		t.Error("sniffBase64 accepted text that is not base64")
	}
}
