package bench

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
)

// Position is where a payload is placed in a request.
type Position uint8

// The positions, in report order.
const (
	PosQuery  Position = iota // URL-encoded value of a query parameter
	PosPath                   // URL-encoded path segment
	PosHeader                 // value of a custom header
	PosCookie                 // value of a cookie, as sent
	PosJSON                   // string field of a JSON body
	PosForm                   // URL-encoded field of a form body
	NumPositions
)

var positionNames = [NumPositions]string{"query", "path", "header", "cookie", "json body", "form body"}

func (p Position) String() string { return positionNames[p] }

// Case is one payload in one position.
type Case struct {
	Payload string
	Pos     Position
	// Category is the attack category, or the benign list's name.
	Category string
	Benign   bool
}

// HTTPRequest is the request a WAF in front of the function would see.
type HTTPRequest struct {
	Method  string
	URI     string // path and query, as sent
	Headers [][2]string
	Body    []byte
}

// Event is one case in both shapes: the Lambda event lambda-rasp parses
// and the equivalent HTTP request.
type Event struct {
	Case
	Lambda []byte
	HTTP   HTTPRequest
}

// The fixed parts of every request.
const (
	host      = "api.example.com"
	userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	basePath  = "/api/items"
	param     = "q"
	bodyField = "comment"
	header    = "x-custom"
	cookie    = "session"
)

// BuildEvent places c's payload in its position and returns both shapes.
func BuildEvent(c Case) Event {
	method, path, query, ctype := "GET", basePath, "", ""
	var body []byte
	var cookies []string
	headers := [][2]string{
		{"host", host},
		{"user-agent", userAgent},
		{"accept", "application/json, text/plain, */*"},
		{"accept-language", "en-US,en;q=0.5"},
	}
	p := c.Payload
	switch c.Pos {
	case PosQuery:
		query = param + "=" + url.QueryEscape(p)
	case PosPath:
		path = basePath + "/" + url.PathEscape(p)
	case PosHeader:
		headers = append(headers, [2]string{header, p})
	case PosCookie:
		cookies = []string{cookie + "=" + p}
	case PosJSON:
		method, ctype = "POST", "application/json"
		body = jsonObject(bodyField, p)
	case PosForm:
		method, ctype = "POST", "application/x-www-form-urlencoded"
		body = []byte(bodyField + "=" + url.QueryEscape(p))
	}
	if ctype != "" {
		headers = append(headers,
			[2]string{"content-type", ctype},
			[2]string{"content-length", strconv.Itoa(len(body))})
	}

	uri := path
	if query != "" {
		uri += "?" + query
	}
	hreq := HTTPRequest{Method: method, URI: uri, Headers: headers, Body: body}
	if len(cookies) > 0 {
		// API Gateway moves the Cookie header into "cookies"; the WAF sees
		// the header.
		hreq.Headers = append(hreq.Headers[:len(hreq.Headers):len(hreq.Headers)], [2]string{"cookie", cookies[0]})
	}
	return Event{Case: c, Lambda: lambdaV2(method, path, query, headers, cookies, body), HTTP: hreq}
}

// jsonObject is {"name": value} as a browser would send it (no HTML
// escaping).
func jsonObject(name, value string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{name: value})
	return bytes.TrimRight(b.Bytes(), "\n")
}

// API Gateway HTTP API (payload 2.0) event, with the fields a real one
// carries.
type v2Event struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        v2Context         `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type v2Context struct {
	AccountID    string `json:"accountId"`
	APIID        string `json:"apiId"`
	DomainName   string `json:"domainName"`
	DomainPrefix string `json:"domainPrefix"`
	HTTP         v2HTTP `json:"http"`
	RequestID    string `json:"requestId"`
	RouteKey     string `json:"routeKey"`
	Stage        string `json:"stage"`
	Time         string `json:"time"`
	TimeEpoch    int64  `json:"timeEpoch"`
}

type v2HTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

func lambdaV2(method, path, query string, headers [][2]string, cookies []string, body []byte) []byte {
	ev := v2Event{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        path,
		RawQueryString: query,
		Cookies:        cookies,
		Headers:        make(map[string]string, len(headers)),
		RequestContext: v2Context{
			AccountID:    "123456789012",
			APIID:        "abc123def4",
			DomainName:   "abc123def4.execute-api.us-east-1.amazonaws.com",
			DomainPrefix: "abc123def4",
			HTTP:         v2HTTP{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7", UserAgent: userAgent},
			RequestID:    "JKJaXmPLvHcESHA=",
			RouteKey:     "$default",
			Stage:        "$default",
			Time:         "23/Nov/2026:09:36:43 +0000",
			TimeEpoch:    1795426603000,
		},
		Body: string(body),
	}
	for _, h := range headers {
		ev.Headers[h[0]] = h[1]
	}
	if query != "" {
		// What API Gateway hands the handler: the decoded parameters.
		if v, err := url.ParseQuery(query); err == nil {
			ev.QueryStringParameters = map[string]string{}
			for k := range v {
				ev.QueryStringParameters[k] = v.Get(k)
			}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		panic(err) // only strings and maps: cannot fail
	}
	return b.Bytes()
}
