package detect

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// xss detects cross-site scripting with libinjection's HTML5 tokenizer
// (libinjection.IsXSS, which tries the data, attribute and quoted
// attribute contexts) on the decoded view, plus checks for what it does
// not model: script URLs (javascript:, vbscript:, data:text/html) spelled
// with whitespace, control characters or entities inside the scheme, CSS
// expression(), and event-handler attributes injected after a quote.
//
// The prefilter runs libinjection only on values holding '<', '>', a quote
// or a backtick together with '=', or ':' (a possible script URL).
type xss struct{}

// Name implements Detector.
func (xss) Name() string { return "xss" }

// Category implements Detector.
func (xss) Category() string { return "xss" }

// Detect implements Detector.
func (xss) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	markup := m&cAngle != 0 || m&(cQuote|cTick) != 0 && m&cEq != 0
	if !markup && m&(cColon|cParen) == 0 {
		return miss()
	}
	d := sc.Decoded()
	if markup && libinjection.IsXSS(d) {
		return hit(d, 0, len(d), "libinjection html")
	}
	l := sc.Lower()
	if m&cColon != 0 {
		if i, j := scriptURL(l); i >= 0 {
			return hit(l, i, j, "script url")
		}
	}
	if m&cParen != 0 {
		if i := strings.Index(l, "expression("); i >= 0 && m&(cBrace|cQuote|cAngle|cColon) != 0 {
			return hit(l, i, i+11, "css expression")
		}
	}
	if markup {
		if i, j := eventHandler(l); i >= 0 {
			return hit(l, i, j, "event handler attribute")
		}
	}
	if m&cAngle != 0 {
		if i, j := dangerousTag(l); i >= 0 {
			return hit(l, i, j, "script-capable tag")
		}
	}
	if m&(cParen|cTick|cDot) != 0 {
		for _, s := range jsSinks {
			if i := strings.Index(l, s); i >= 0 && (i == 0 || !isWord(l[i-1])) {
				return hit(l, i, i+len(s), "script sink")
			}
		}
	}
	return miss()
}

// jsSinks are calls and properties of browser script that only an
// injected script uses.
var jsSinks = [...]string{
	"alert(", "alert`", "prompt(", "prompt`", "confirm(", "confirm`",
	"document.cookie", "document.write", "document.domain", "window.location",
	"fromcharcode(", "window.open(", "settimeout(", "setinterval(",
	"location.href=", "innerhtml=", "xmlhttprequest", "document.location",
}

// dangerousTags are elements that run script or load active content.
var dangerousTags = [...]string{
	"script", "iframe", "frame", "frameset", "img", "image", "svg", "object",
	"embed", "applet", "video", "audio", "source", "body", "style", "link",
	"meta", "base", "form", "input", "button", "details", "marquee", "isindex",
	"textarea", "select", "keygen", "math", "xss", "animate", "set", "handler",
	"layer", "bgsound", "xml", "import", "template", "html",
}

// dangerousTag finds an opening or closing tag of a dangerous element:
// '<', optional '/', the name, then whitespace, '/', '+', '>' or the end.
func dangerousTag(l string) (int, int) {
	for off := 0; off < len(l); {
		i := strings.IndexByte(l[off:], '<')
		if i < 0 {
			break
		}
		i += off
		off = i + 1
		j := i + 1
		if j < len(l) && l[j] == '/' {
			j++
		}
		k := j
		for k < len(l) && (l[k] >= 'a' && l[k] <= 'z' || l[k] >= '0' && l[k] <= '9' || l[k] == ':') {
			k++
		}
		name := l[j:k]
		if c := strings.IndexByte(name, ':'); c >= 0 {
			name = name[c+1:]
		}
		if k < len(l) && !isSp(l[k]) && l[k] != '/' && l[k] != '+' && l[k] != '>' {
			continue
		}
		for _, t := range dangerousTags {
			if name == t {
				return i, k
			}
		}
	}
	return -1, -1
}

// scriptSchemes are the URL schemes that execute script in a browser.
var scriptSchemes = [...]string{"javascript", "vbscript", "livescript"}

// scriptURL finds a script-executing URL scheme followed by ':' in the
// lower-case view l, skipping whitespace and control characters between
// its letters (java\tscript:, java&#x09;script: after decoding). It
// returns the match bounds or -1.
func scriptURL(l string) (int, int) {
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c != 'j' && c != 'v' && c != 'l' && c != 'd' {
			continue
		}
		if i > 0 && isWord(l[i-1]) {
			continue
		}
		if c == 'd' {
			if strings.HasPrefix(l[i:], "data:text/html") || strings.HasPrefix(l[i:], "data:image/svg+xml") ||
				strings.HasPrefix(l[i:], "data:application/x-javascript") {
				return i, i + 14
			}
			continue
		}
		for _, s := range scriptSchemes {
			if s[0] != c {
				continue
			}
			k, n := i, 0
			for k < len(l) && n < len(s) {
				if l[k] == s[n] {
					n++
				} else if l[k] > ' ' {
					break
				}
				k++
			}
			if n == len(s) {
				k = skipCtl(l, k)
				if k < len(l) && l[k] == ':' {
					return i, k + 1
				}
			}
		}
	}
	return -1, -1
}

// skipCtl skips whitespace and control characters.
func skipCtl(s string, i int) int {
	for i < len(s) && s[i] <= ' ' {
		i++
	}
	return i
}

// eventHandler finds an on<event>= attribute that follows a quote, '<' or
// '/' and whitespace, as injected attribute syntax does (" onfocus=...),
// and returns its bounds or -1.
func eventHandler(l string) (int, int) {
	for off := 0; off < len(l); {
		i := strings.Index(l[off:], "on")
		if i < 0 {
			break
		}
		i += off
		off = i + 2
		if i == 0 {
			continue
		}
		p := i - 1
		if !isSp(l[p]) && l[p] != '/' && l[p] != '"' && l[p] != '\'' {
			continue
		}
		for p >= 0 && (isSp(l[p]) || l[p] == '/') {
			p--
		}
		if p >= 0 && l[p] != '"' && l[p] != '\'' && l[p] != '`' && l[p] != '<' {
			continue
		}
		j := i + 2
		for j < len(l) && l[j] >= 'a' && l[j] <= 'z' {
			j++
		}
		if j-i < 5 {
			continue
		}
		k := skipCtl(l, j)
		if k < len(l) && l[k] == '=' {
			return i, k + 1
		}
	}
	return -1, -1
}
