package detect

import "strings"

// crlf detects CR/LF injection into headers, redirects and log lines.
//
// Headers, cookies and path values cannot legitimately carry CR or LF, so
// any CR/LF in their raw or decoded value is a hit. Query, body and record
// values may hold multi-line text (a textarea, a message), so there a hit
// needs what an injection needs: a line break followed by a header line
// ("Set-Cookie: ...", "Location: ...") or a status line ("HTTP/1.1 200"),
// or a line break that is still percent-encoded after the adapter decoded
// the value once (%0d%0a, double encoding).
type crlf struct{}

// Name implements Detector.
func (crlf) Name() string { return "crlf" }

// Category implements Detector.
func (crlf) Category() string { return "crlf" }

// Detect implements Detector.
func (crlf) Detect(sc *Scratch, in Input) (Finding, bool) {
	if sc.Mask()&cCRLF == 0 {
		return miss()
	}
	d := sc.Decoded()
	raw := sc.Raw()
	if sc.RawMask()&cCRLF != 0 {
		switch in.Source {
		case "headers", "cookies", "path", "pathParams":
			i := strings.IndexAny(raw, "\r\n")
			return hit(raw, i, i+1, "line break in header")
		}
	} else if i := strings.IndexAny(d, "\r\n"); i >= 0 && encodedLineBreak(raw) {
		// The line break came from a percent or character escape the
		// adapter did not decode: double encoding aimed at a later
		// decoder.
		return hit(d, i, i+1, "encoded line break")
	}
	for i := 0; i < len(d); i++ {
		if d[i] != '\r' && d[i] != '\n' {
			continue
		}
		j := skip(d, i, "\r\n")
		if j-i > 0 && headerLine(d[j:]) {
			return hit(d, i, min(len(d), j+24), "header after line break")
		}
		i = j - 1
	}
	return miss()
}

// encodedLineBreak reports whether raw holds a percent-encoded or
// character-reference line break (%0d, %0a, %250a, %u000a, &#10;, &#13;,
// &#x0a;), in any case.
func encodedLineBreak(raw string) bool {
	for _, e := range [...]string{"%0a", "%0d", "%250a", "%250d", "%u000a", "%u000d", "&#10", "&#13", "&#x0a", "&#x0d", "&#xa;", "&#xd;"} {
		if indexFold(raw, e) >= 0 {
			return true
		}
	}
	return false
}

// injectedHeaders are header names (or name prefixes, ending in '-')
// whose appearance after a line break means response splitting or header
// injection.
var injectedHeaders = [...]string{
	"set-cookie", "location", "refresh", "content-", "x-", "access-control-",
	"transfer-encoding", "cache-control", "host", "cookie", "connection",
	"link", "server", "authorization", "www-authenticate", "strict-transport-",
}

// headerLine reports whether s starts like an injected HTTP header or
// status line: a well-known header name followed by ':', or "HTTP/1." /
// "HTTP/2".
func headerLine(s string) bool {
	if strings.HasPrefix(s, "HTTP/1.") || strings.HasPrefix(s, "HTTP/2") {
		return true
	}
	n := 0
	for n < len(s) && n <= 64 && (isWord(s[n]) || s[n] == '-') {
		n++
	}
	if n < 2 || n >= len(s) || s[n] != ':' {
		return false
	}
	name := s[:n]
	for _, h := range injectedHeaders {
		if h[len(h)-1] == '-' {
			if len(name) > len(h) && strings.EqualFold(name[:len(h)], h) {
				return true
			}
		} else if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}
