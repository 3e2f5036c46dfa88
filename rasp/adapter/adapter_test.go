package adapter

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

const eventsDir = "../testdata/events"

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dump renders an event's extraction, one field per line.
func dump(ev *Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "source=%s route=%q truncated=%v multiValueHeaders=%v\n", ev.Source, ev.Request.Route, ev.Request.Truncated, ev.MultiValueHeaders)
	for _, r := range ev.Records {
		fmt.Fprintf(&b, "record %d id=%q\n", r.Index, r.ID)
	}
	for _, f := range ev.Request.Fields {
		k := ""
		if f.Key {
			k = " (key)"
		}
		fmt.Fprintf(&b, "%s %s%s = %q\n", f.Source, f.Path, k, f.Value)
	}
	return b.String()
}

// TestParseGolden compares the full extraction of every real event
// fixture with testdata/fields/<fixture>.txt.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			ev, err := Parse(readEvent(t, filepath.Base(f)), Limits{})
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			got := dump(ev)
			golden := filepath.Join("testdata", "fields", name+".txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("extraction differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func hasField(ev *Event, f rules.Field) bool {
	for _, g := range ev.Request.Fields {
		if g == f {
			return true
		}
	}
	return false
}

func TestParseSources(t *testing.T) {
	tests := []struct {
		give      string
		wantSrc   string
		wantRoute string
		wantField rules.Field
	}{
		{"apigw-request.json", SourceAPIGatewayV1, "POST /{proxy+}", rules.Field{Source: rules.SourceHeaders, Path: "headers.user-agent", Value: "PostmanRuntime/2.4.5"}},
		{"apigw-v2-request-no-authorizer.json", SourceAPIGatewayV2, "GET /", rules.Field{Source: rules.SourceHeaders, Path: "headers.user-agent", Value: "User-Agent", Key: false}},
		{"alb-lambda-target-request-headers-only.json", SourceALB, "GET /", rules.Field{Source: rules.SourceQuery, Path: "query.key", Value: "hello"}},
		{"alb-lambda-target-request-multivalue-headers.json", SourceALB, "GET /", rules.Field{Source: rules.SourceHeaders, Path: "headers.x-myheader", Value: "123"}},
		{"lambda-urls-request.json", SourceFunctionURL, "POST /my/path", rules.Field{Source: rules.SourceBody, Path: "body", Value: "Hello from client!"}},
		{"apigw-websocket-request-send-message.json", SourceWebSocket, "$default", rules.Field{Source: rules.SourceBody, Path: "body.a", Value: "a", Key: true}},
		{"sqs-event.json", SourceSQS, "", rules.Field{Source: rules.SourceRecord, Path: "record[0].messageAttributes.Attribute1", Value: "AttributeValue1"}},
		{"sqs-sns-event.json", SourceSQS, "", rules.Field{Source: rules.SourceRecord, Path: "record[0].message.order.note", Value: "ring twice"}},
		{"sns-event.json", SourceSNS, "", rules.Field{Source: rules.SourceRecord, Path: "record[0].subject", Value: "TestInvoke"}},
		{"s3-event.json", SourceS3, "", rules.Field{Source: rules.SourceRecord, Path: "record[0].s3.object.key", Value: "Happy Face.jpg"}},
		{"kinesis-event.json", SourceKinesis, "", rules.Field{Source: rules.SourceRecord, Path: "record[1].data", Value: "Hello World"}},
		{"dynamodb-event.json", SourceDynamoDB, "", rules.Field{Source: rules.SourceRecord, Path: "record[1].NewImage.Map.Name", Value: "Joe"}},
		{"eventbridge-event.json", SourceEventBridge, "", rules.Field{Source: rules.SourceRecord, Path: "detail.customer.note", Value: "leave at the door"}},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			ev, err := Parse(readEvent(t, tt.give), Limits{})
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if ev.Source != tt.wantSrc || ev.Request.Route != tt.wantRoute {
				t.Errorf("Parse() source, route = %q, %q, want %q, %q", ev.Source, ev.Request.Route, tt.wantSrc, tt.wantRoute)
			}
			if tt.wantField.Value == "User-Agent" { // v2 header names arrive lower-cased
				tt.wantField.Value, tt.wantField.Key = "user-agent", true
			}
			if !hasField(ev, tt.wantField) {
				t.Errorf("Parse() fields lack %+v; got:\n%s", tt.wantField, dump(ev))
			}
		})
	}
}

// v2 builds an API Gateway HTTP API event around a body.
func v2(t testing.TB, headers map[string]string, body string, b64 bool) []byte {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{
		Version:         "2.0",
		RouteKey:        "POST /items/{id}",
		RawPath:         "/items/a%2Fb",
		RawQueryString:  "q=%27+or+1%3D1&tag=a&tag=b",
		Cookies:         []string{"session=abc", "theme=dark; lang=en"},
		Headers:         headers,
		PathParameters:  map[string]string{"id": "a/b"},
		Body:            body,
		IsBase64Encoded: b64,
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.DomainName = "abc.execute-api.us-east-1.amazonaws.com"
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

// cutGzip compresses s without flushing the end of the stream.
func cutGzip(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Flush()
	return b.String()
}

const multipartBody = "--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"comment\"\r\n\r\n" +
	"<script>alert(1)</script>\r\n" +
	"--XyZ\r\n" +
	"Content-Disposition: form-data; name=\"avatar\"; filename=\"../../etc/passwd\"\r\n" +
	"Content-Type: image/png\r\n\r\n" +
	"\x89PNG....\r\n" +
	"--XyZ--\r\n"

func TestParseHTTPParts(t *testing.T) {
	ev, err := Parse(v2(t, map[string]string{"content-type": "application/json"}, `{"user":{"name":"al\u0069ce","tags":["x"]}}`, false), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Request.Route != "POST /items/{id}" {
		t.Errorf("Route = %q, want %q", ev.Request.Route, "POST /items/{id}")
	}
	for _, want := range []rules.Field{
		{Source: rules.SourceQuery, Path: "query.q", Value: "' or 1=1"},
		{Source: rules.SourceQuery, Path: "query.tag", Value: "b"},
		{Source: rules.SourceCookies, Path: "cookies.session", Value: "abc"},
		{Source: rules.SourceCookies, Path: "cookies.lang", Value: "en"},
		{Source: rules.SourcePath, Path: "path", Value: "/items/a%2Fb"},
		{Source: rules.SourcePath, Path: "path[1]", Value: "a/b"},
		{Source: rules.SourcePathParams, Path: "pathParams.id", Value: "a/b"},
		{Source: rules.SourceBody, Path: "body.user.name", Value: "alice"},
		{Source: rules.SourceBody, Path: "body.user.name", Value: "name", Key: true},
		{Source: rules.SourceBody, Path: "body.user.tags[0]", Value: "x"},
	} {
		if !hasField(ev, want) {
			t.Errorf("fields lack %+v; got:\n%s", want, dump(ev))
		}
	}
}

func TestParseQueryOnlyInParameters(t *testing.T) {
	raw := []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/","rawQueryString":"a=1",` +
		`"queryStringParameters":{"a":"1","b":"hidden"},"requestContext":{"http":{"method":"GET"}}}`)
	ev, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := rules.Field{Source: rules.SourceQuery, Path: "query.b", Value: "hidden"}
	if !hasField(ev, want) {
		t.Errorf("fields lack %+v; got:\n%s", want, dump(ev))
	}
	if n := strings.Count(dump(ev), `query.a = "1"`); n != 1 {
		t.Errorf("query.a inspected %d times, want once", n)
	}
}

func TestParseBodies(t *testing.T) {
	tests := []struct {
		name      string
		give      []byte
		want      rules.Field
		wantTrunc bool
	}{
		{
			name: "json",
			give: v2(t, map[string]string{"Content-Type": "application/json; charset=utf-8"}, `{"a":{"b":"c"}}`, false),
			want: rules.Field{Source: rules.SourceBody, Path: "body.a.b", Value: "c"},
		},
		{
			name: "json sniffed without content type",
			give: v2(t, nil, ` [{"a":"c"}]`, false),
			want: rules.Field{Source: rules.SourceBody, Path: "body[0].a", Value: "c"},
		},
		{
			name: "invalid json is text",
			give: v2(t, map[string]string{"content-type": "application/json"}, `{"a":`, false),
			want: rules.Field{Source: rules.SourceBody, Path: "body", Value: `{"a":`},
		},
		{
			name: "form",
			give: v2(t, map[string]string{"content-type": "application/x-www-form-urlencoded"}, "user=bob&pass=%27+or+%271", false),
			want: rules.Field{Source: rules.SourceBody, Path: "body.pass", Value: "' or '1"},
		},
		{
			name: "multipart value",
			give: v2(t, map[string]string{"content-type": `multipart/form-data; boundary="XyZ"`}, multipartBody, false),
			want: rules.Field{Source: rules.SourceBody, Path: "body.comment", Value: "<script>alert(1)</script>"},
		},
		{
			name: "multipart filename keeps directories",
			give: v2(t, map[string]string{"content-type": "multipart/form-data; boundary=XyZ"}, multipartBody, false),
			want: rules.Field{Source: rules.SourceBody, Path: "body.avatar.filename", Value: "../../etc/passwd"},
		},
		{
			name: "multipart quoted-printable is decoded",
			give: v2(t, map[string]string{"content-type": "multipart/form-data; boundary=XyZ"}, "--XyZ\r\n"+
				"Content-Disposition: form-data; name=\"c\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"+
				"=3Cscript=3E\r\n--XyZ--\r\n", false),
			want: rules.Field{Source: rules.SourceBody, Path: "body.c", Value: "<script>"},
		},
		{
			name: "multipart with a wrong boundary is text",
			give: v2(t, map[string]string{"content-type": "multipart/form-data; boundary=nope"}, "--XyZ\r\nx", false),
			want: rules.Field{Source: rules.SourceBody, Path: "body", Value: "--XyZ\r\nx"},
		},
		{
			name: "base64",
			give: v2(t, map[string]string{"content-type": "text/plain"}, base64.StdEncoding.EncodeToString([]byte("../../etc/passwd")), true),
			want: rules.Field{Source: rules.SourceBody, Path: "body", Value: "../../etc/passwd"},
		},
		{
			name: "gzip base64 json",
			give: v2(t, map[string]string{"content-type": "application/json", "content-encoding": "gzip"}, base64.StdEncoding.EncodeToString([]byte(gz(`{"q":"1 union select"}`))), true),
			want: rules.Field{Source: rules.SourceBody, Path: "body.q", Value: "1 union select"},
		},
		{
			name: "octet-stream is text",
			give: v2(t, map[string]string{"content-type": "application/octet-stream"}, "a=1&b=2", false),
			want: rules.Field{Source: rules.SourceBody, Path: "body", Value: "a=1&b=2"},
		},
		{
			name:      "cut gzip stream keeps what inflated",
			give:      v2(t, map[string]string{"content-type": "text/plain", "content-encoding": "gzip"}, base64.StdEncoding.EncodeToString([]byte(cutGzip("<script>alert(1)</script>"+strings.Repeat("z", 4000)))), true),
			want:      rules.Field{Source: rules.SourceBody, Path: "body", Value: "<script>alert(1)</script>" + strings.Repeat("z", 4000)},
			wantTrunc: true,
		},
		{
			name:      "invalid base64 is inspected as sent",
			give:      v2(t, map[string]string{"content-type": "text/plain"}, "%%%<x>", true),
			want:      rules.Field{Source: rules.SourceBody, Path: "body", Value: "%%%<x>"},
			wantTrunc: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse(tt.give, Limits{})
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if !hasField(ev, tt.want) {
				t.Errorf("fields lack %+v; got:\n%s", tt.want, dump(ev))
			}
			if ev.Request.Truncated != tt.wantTrunc {
				t.Errorf("Truncated = %v, want %v", ev.Request.Truncated, tt.wantTrunc)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 50) + `"x"` + strings.Repeat(`}`, 50)
	many := `{` + strings.Repeat(`"k":"v",`, 100) + `"k":"v"}`
	bomb := base64.StdEncoding.EncodeToString([]byte(gz(strings.Repeat("A", 10<<20))))
	tests := []struct {
		name       string
		give       []byte
		lim        Limits
		wantFields int // upper bound
	}{
		{"depth", []byte(deep), Limits{MaxDepth: 4}, 8},
		{"fields", []byte(many), Limits{MaxFields: 10}, 10},
		{"body bytes", v2(t, map[string]string{"content-type": "text/plain"}, strings.Repeat("x", 5000), false), Limits{MaxBodyBytes: 1000}, 100},
		{"gzip bomb", v2(t, map[string]string{"content-type": "text/plain", "content-encoding": "gzip"}, bomb, true), Limits{MaxBodyBytes: 1 << 16}, 100},
		{"nested body depth", v2(t, map[string]string{"content-type": "application/json"}, deep, false), Limits{MaxDepth: 3}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse(tt.give, tt.lim)
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if !ev.Request.Truncated {
				t.Errorf("Truncated = false, want true")
			}
			if n := len(ev.Request.Fields); n > tt.wantFields {
				t.Errorf("len(Fields) = %d, want <= %d", n, tt.wantFields)
			}
			lim := tt.lim.withDefaults()
			for _, f := range ev.Request.Fields {
				if len(f.Value) > lim.MaxBodyBytes {
					t.Errorf("field %s has %d bytes, want <= %d", f.Path, len(f.Value), lim.MaxBodyBytes)
				}
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		give string
	}{
		{""},
		{"{"},
		{`{"a":}`},
		{`{"a" "b"}`},
		{`["a",]`},
		{`"\x"`},
		{`"\ud800`},
		{`{} x`},
		{`tru`},
		{`{"Records":[{"eventSource":"aws:sqs"`},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			ev, err := Parse([]byte(tt.give), Limits{})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, %v, want ErrMalformed", tt.give, ev, err)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("Parse(%q) error = %T, want *Error", tt.give, err)
			}
		})
	}
}

func TestParseGenericJSON(t *testing.T) {
	ev, err := Parse([]byte(`{"user":{"name":"x\"y","age":3,"ok":true,"tags":[null,"t"]}}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := "source=json route=\"\" truncated=false multiValueHeaders=false\n" +
		"body body.user (key) = \"user\"\n" +
		"body body.user.name (key) = \"name\"\n" +
		"body body.user.name = \"x\\\"y\"\n" +
		"body body.user.age (key) = \"age\"\n" +
		"body body.user.ok (key) = \"ok\"\n" +
		"body body.user.tags (key) = \"tags\"\n" +
		"body body.user.tags[1] = \"t\"\n"
	if got := dump(ev); got != want {
		t.Errorf("Parse() =\n%s\nwant:\n%s", got, want)
	}
}

func TestRecordOffsets(t *testing.T) {
	raw := readEvent(t, "sqs-sns-event.json")
	ev, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(raw[ev.RecordsArray[0]]) + string(raw[ev.RecordsArray[1]-1]); got != "[]" {
		t.Errorf("RecordsArray bounds = %q, want %q", got, "[]")
	}
	for _, r := range ev.Records {
		var m map[string]any
		if err := json.Unmarshal(raw[r.Start:r.End], &m); err != nil {
			t.Fatalf("record %d bytes are not an object: %v", r.Index, err)
		}
		if m["messageId"] != r.ID {
			t.Errorf("record %d ID = %q, want %q", r.Index, r.ID, m["messageId"])
		}
	}
}

// TestParseManyHeadersStaysBounded feeds a hand-made event with far more
// headers than any real request: extraction stops at the field limit.
func TestParseManyHeadersStaysBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"httpMethod":"GET","path":"/","requestContext":{"elb":{}},"multiValueHeaders":{`)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"h%d":["v"]`, i)
	}
	b.WriteString(`},"headers":{`)
	for i := range 20000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"h%d":"w"`, i)
	}
	b.WriteString(`}}`)
	ev, err := Parse([]byte(b.String()), Limits{MaxFields: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !ev.Request.Truncated || len(ev.Request.Fields) != 100 {
		t.Errorf("Parse() = %d fields, truncated %v, want 100 and true", len(ev.Request.Fields), ev.Request.Truncated)
	}
}
