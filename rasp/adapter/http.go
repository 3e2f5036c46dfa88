package adapter

import (
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// httpV1 extracts an API Gateway REST (payload 1.0) or ALB request.
func httpV1(ev *Event, d *doc, x *extractor) {
	method := d.text(d.child(0, "httpMethod"))
	path := d.text(d.child(0, "path"))
	alb := ev.Source == SourceALB
	switch resource := d.text(d.child(0, "resource")); {
	case !alb && resource != "":
		ev.Request.Route = method + " " + resource
	default:
		ev.Request.Route = method + " " + path
	}
	x.headers(ev, d)
	// ALB passes the query string as sent; API Gateway has decoded it.
	x.queryObject(d, alb)
	x.pathParams(d)
	x.path(path)
	x.httpBody(d)
	x.authorizer(d)
}

// httpV2 extracts an API Gateway HTTP API (payload 2.0) or function URL
// request.
func httpV2(ev *Event, d *doc, x *extractor) {
	method := d.text(d.path(0, "requestContext", "http", "method"))
	rawPath := d.text(d.child(0, "rawPath"))
	if rawPath == "" {
		rawPath = d.text(d.path(0, "requestContext", "http", "path"))
	}
	if rk := d.text(d.child(0, "routeKey")); rk != "" && rk != "$default" && ev.Source != SourceFunctionURL {
		ev.Request.Route = rk
	} else {
		ev.Request.Route = method + " " + rawPath
	}
	x.headers(ev, d)
	if c := d.child(0, "cookies"); d.isKind(c, kindArray) {
		m := x.push("cookies")
		for e := d.first(c); e >= 0; e = d.nextOf(e) {
			x.cookies(d.text(e))
		}
		x.pop(m)
	}
	// rawQueryString is what was sent; queryStringParameters is what
	// handlers read. Values only the latter carries (a hand-made event)
	// are inspected too.
	from := len(x.fields)
	x.rawQuery(d.text(d.child(0, "rawQueryString")))
	x.queryExtra(d, from)
	x.pathParams(d)
	x.path(rawPath)
	x.httpBody(d)
	x.authorizer(d)
}

// webSocket extracts an API Gateway WebSocket event. Its route is the
// route key ("$connect", "sendmessage", ...).
func webSocket(ev *Event, d *doc, x *extractor) {
	ev.Request.Route = d.text(d.path(0, "requestContext", "routeKey"))
	x.headers(ev, d)
	x.queryObject(d, false)
	x.httpBody(d)
}

// authorizer adds what an API Gateway authorizer passed on in
// requestContext.authorizer: JWT claims and scopes (HTTP API jwt, REST
// claims) and a Lambda authorizer's context. They come from the caller's
// token or from the authorizer's reading of it, and handlers use them as
// input (a user name, an email, a tenant), so their string values are
// inspected as headers, under "requestContext.authorizer...".
func (x *extractor) authorizer(d *doc) {
	a := d.path(0, "requestContext", "authorizer")
	if !d.isKind(a, kindObject) {
		return
	}
	m := x.push("requestContext.authorizer")
	x.walk(d, a, rules.SourceHeaders, 0)
	x.pop(m)
}

// headers adds header names and values; the Cookie header is split into
// cookies instead. multiValueHeaders (a superset when API Gateway or ALB
// sends both) comes first; a "headers" value it lacks is added too, so a
// hand-made event cannot hide a value from inspection.
func (x *extractor) headers(ev *Event, d *doc) {
	multi, single := d.child(0, "multiValueHeaders"), d.child(0, "headers")
	if d.isKind(multi, kindObject) {
		ev.MultiValueHeaders = true
		x.headerObject(d, multi, -1)
		x.headerObject(d, single, multi)
		return
	}
	x.headerObject(d, single, -1)
}

// headerObject adds the headers of object h, skipping values already
// present in object except (when except >= 0).
func (x *extractor) headerObject(d *doc, h, except int32) {
	if !d.isKind(h, kindObject) {
		return
	}
	for c := d.first(h); c >= 0 && !x.full(); c = d.nextOf(c) {
		name := d.keyOf(c)
		if except >= 0 && hasValues(d, d.child(except, name), c) {
			continue
		}
		if equalFold(name, "cookie") {
			m := x.push("cookies")
			eachString(d, c, func(v string) { x.cookies(v) })
			x.pop(m)
			continue
		}
		m := x.pushHeader(name)
		first := true
		eachString(d, c, func(v string) {
			if first {
				x.addKV(rules.SourceHeaders, name, v)
				first = false
				return
			}
			x.add(rules.SourceHeaders, v, false)
		})
		if first { // no values
			x.add(rules.SourceHeaders, name, true)
		}
		x.pop(m)
	}
}

// hasValues reports whether every string of node c (a string or an array
// of strings) is among the strings of node m.
func hasValues(d *doc, m, c int32) bool {
	if m < 0 {
		return false
	}
	all := true
	eachString(d, c, func(v string) {
		found := false
		eachString(d, m, func(w string) { found = found || w == v })
		all = all && found
	})
	return all
}

// eachString calls f with node c's string value, or each string of an
// array.
func eachString(d *doc, c int32, f func(string)) {
	switch d.nodes[c].kind {
	case kindString:
		f(d.text(c))
	case kindArray:
		for e := d.first(c); e >= 0; e = d.nextOf(e) {
			if d.isKind(e, kindString) {
				f(d.text(e))
			}
		}
	}
}

// pushHeader pushes "headers.<lower-cased name>".
func (x *extractor) pushHeader(name string) int {
	m := x.push("headers")
	x.pushLower(name)
	return m
}

// header returns the first value of header name (case-insensitive).
func header(d *doc, name string) string {
	if h := d.childFold(d.child(0, "multiValueHeaders"), name); h >= 0 {
		if d.isKind(h, kindArray) {
			return d.text(d.first(h))
		}
	}
	return d.text(d.childFold(d.child(0, "headers"), name))
}

// cookies adds the cookies of one Cookie header value ("a=1; b=2") as
// "cookies.<name>" fields; the current path is "cookies".
func (x *extractor) cookies(v string) {
	for v != "" {
		var part string
		part, v, _ = strings.Cut(v, ";")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		m := x.push(name)
		x.addKV(rules.SourceCookies, name, strings.TrimSpace(value))
		x.pop(m)
	}
}

// queryObject adds multiValueQueryStringParameters, then the
// queryStringParameters values it lacks, as "query.<name>" fields,
// URL-decoding them once when decode is set.
func (x *extractor) queryObject(d *doc, decode bool) {
	multi, single := d.child(0, "multiValueQueryStringParameters"), d.child(0, "queryStringParameters")
	if !d.isKind(multi, kindObject) && !d.isKind(single, kindObject) {
		return
	}
	m := x.push("query")
	if d.isKind(multi, kindObject) {
		x.queryParams(d, multi, -1, decode)
		x.queryParams(d, single, multi, decode)
	} else {
		x.queryParams(d, single, -1, decode)
	}
	x.pop(m)
}

// queryParams adds the parameters of object q, skipping values already
// present in object except (when except >= 0).
func (x *extractor) queryParams(d *doc, q, except int32, decode bool) {
	if !d.isKind(q, kindObject) {
		return
	}
	for c := d.first(q); c >= 0 && !x.full(); c = d.nextOf(c) {
		name := d.keyOf(c)
		if except >= 0 && hasValues(d, d.child(except, name), c) {
			continue
		}
		if decode {
			name = unescape(name, true)
		}
		n := x.push(name)
		x.add(rules.SourceQuery, name, true)
		eachString(d, c, func(v string) {
			if decode {
				v = unescape(v, true)
			}
			x.add(rules.SourceQuery, v, false)
		})
		x.pop(n)
	}
}

// queryExtra adds the queryStringParameters whose values are not among
// the fields added since index from.
func (x *extractor) queryExtra(d *doc, from int) {
	q := d.child(0, "queryStringParameters")
	if !d.isKind(q, kindObject) {
		return
	}
	added := x.fields[min(from, len(x.fields)):]
	seen := func(v string) bool {
		for _, f := range added {
			if !f.Key && f.Value == v {
				return true
			}
		}
		return false
	}
	m := x.push("query")
	for c := d.first(q); c >= 0 && !x.full(); c = d.nextOf(c) {
		v := d.text(c)
		if seen(v) {
			continue
		}
		// API Gateway joins repeated parameters with commas.
		all := strings.Contains(v, ",")
		for part := range strings.SplitSeq(v, ",") {
			all = all && seen(part)
		}
		if all {
			continue
		}
		name := d.keyOf(c)
		n := x.push(name)
		x.addKV(rules.SourceQuery, name, v)
		x.pop(n)
	}
	x.pop(m)
}

// rawQuery adds the pairs of a raw query string, URL-decoded once.
func (x *extractor) rawQuery(q string) {
	if q == "" {
		return
	}
	m := x.push("query")
	x.pairs(q, rules.SourceQuery)
	x.pop(m)
}

// pairs adds "name=value&..." pairs (query strings, form bodies) under the
// current path, decoding each part once.
func (x *extractor) pairs(s string, src rules.Source) {
	for s != "" {
		if x.full() {
			return
		}
		var part string
		part, s, _ = strings.Cut(s, "&")
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name = unescape(name, true)
		n := x.push(name)
		x.addKV(src, name, unescape(value, true))
		x.pop(n)
	}
}

// pathParams adds API Gateway path parameters.
func (x *extractor) pathParams(d *doc) {
	p := d.child(0, "pathParameters")
	if !d.isKind(p, kindObject) {
		return
	}
	m := x.push("pathParams")
	for c := d.first(p); c >= 0; c = d.nextOf(c) {
		n := x.push(d.keyOf(c))
		x.add(rules.SourcePathParams, d.text(c), false)
		x.pop(n)
	}
	x.pop(m)
}

// path adds the whole request path as "path" and each non-empty segment,
// URL-decoded once, as "path[i]".
func (x *extractor) path(p string) {
	if p == "" {
		return
	}
	m := x.push("path")
	x.add(rules.SourcePath, p, false)
	i := 0
	for rest := p; rest != ""; {
		var seg string
		seg, rest, _ = strings.Cut(rest, "/")
		if seg == "" {
			continue
		}
		n := x.pushIndex(i)
		x.add(rules.SourcePath, unescape(seg, false), false)
		x.pop(n)
		i++
	}
	x.pop(m)
}

// httpBody adds the body of an HTTP-shaped event, decoded by its
// Content-Type and Content-Encoding headers.
func (x *extractor) httpBody(d *doc) {
	b := d.child(0, "body")
	body := d.text(b)
	if body == "" {
		return
	}
	b64 := d.isKind(d.child(0, "isBase64Encoded"), kindTrue)
	m := x.push("body")
	x.body(body, b64, header(d, "content-type"), header(d, "content-encoding"), rules.SourceBody)
	x.pop(m)
}

// unescape URL-decodes s once; plus turns '+' into a space (query and
// form encoding). Invalid escapes are kept as they are.
func unescape(s string, plus bool) string {
	i := 0
	for ; i < len(s); i++ {
		if s[i] == '%' || (plus && s[i] == '+') {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+' && plus:
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
