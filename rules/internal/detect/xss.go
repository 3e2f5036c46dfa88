package detect

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// xss detects cross-site scripting.
//
//   - libinjection's HTML5 tokenizer (libinjection.IsXSS, which tries the
//     data, attribute and quoted-attribute contexts) on the decoded view,
//     run only when the value holds '<' or '>', or a quote or backtick
//     together with '='.
//   - Script URLs (javascript:, vbscript:, data:text/html) spelled with
//     whitespace, control characters or entities inside the scheme.
//   - CSS expression( next to markup or style syntax.
//   - Event-handler attributes (on...=) after a quote or inside an opened
//     tag, and opening or closing tags of script-capable elements
//     (<script, <svg, <iframe, <img, ... followed by space, '/', '+' or '>').
//   - Script sinks: calls of alert, prompt, confirm, eval, setTimeout,
//     fromCharCode, properties such as document.cookie, window.location,
//     x.innerHTML, and dialogs passed as values ((alert)(1), [1].find(alert)).
//   - A '<' hidden in an escape the adapter did not undo (%3c, \x3c,
//     \u003c, &#60 with any padding); the named &lt; of HTML-escaped text is
//     not counted.
type xss struct{}

// Name implements Detector.
func (xss) Name() string { return "xss" }

// Category implements Detector.
func (xss) Category() string { return "xss" }

// Detect implements Detector.
func (xss) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	markup := m&cAngle != 0 || m&(cQuote|cTick) != 0 && m&cEq != 0
	if !markup && m&(cColon|cParen|cTick|cDot|cComma) == 0 {
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
	if m&(cParen|cTick) != 0 {
		if i, j := scriptCall(l); i >= 0 {
			return hit(l, i, j, "script sink")
		}
	}
	if m&cDot != 0 {
		if i, j := scriptObject(l); i >= 0 {
			return hit(l, i, j, "script object")
		}
	}
	if m&(cParen|cComma|cEq) != 0 {
		if i, j := dialogReference(l); i >= 0 {
			return hit(l, i, j, "script dialog reference")
		}
	}
	if m&(cPct|cAmp|cBslash) != 0 {
		// A request path arrives as sent, percent-encoded once: there a
		// %3C is transport encoding, not an escape that survived it.
		if i, j := escapedAngle(sc.Raw(), in.Source != "path"); i >= 0 {
			return hit(sc.Raw(), i, j, "escaped angle bracket")
		}
	}
	return miss()
}

// dialogReference finds alert, prompt or confirm used as a function value
// rather than called by name: (alert)(1), [1].find(alert), a=alert,a(1).
func dialogReference(l string) (int, int) {
	for _, name := range [...]string{"alert", "prompt", "confirm"} {
		for off := 0; off < len(l); {
			i := strings.Index(l[off:], name)
			if i < 0 {
				break
			}
			i += off
			j := i + len(name)
			off = j
			if i > 0 && isWord(l[i-1]) || j < len(l) && isWord(l[j]) {
				continue
			}
			before := byte(0)
			if i > 0 {
				before = l[i-1]
			}
			after := byte(0)
			if j < len(l) {
				after = l[j]
			}
			if (before == '(' || before == '=' || before == ',') && (after == ')' || after == ',' || after == ';') {
				return i, j
			}
		}
	}
	return -1, -1
}

// escapedAngle finds a '<' hidden in an escape that survived the
// adapter's decoding: %3c (double percent-encoding; with pct set), \x3c, \u003c, or a
// numeric character reference (&#60, &#x3c, with any zero padding). The
// named reference &lt; is ordinary in HTML-escaped text and not counted.
func escapedAngle(raw string, pct bool) (int, int) {
	// The escaped '<' must open a tag: a letter, '/', '!' or '?' (or a
	// further escape) follows; "I %3C3 you" is a heart.
	tag := func(j int) bool {
		if j >= len(raw) {
			return false
		}
		c := raw[j] | 0x20
		return c >= 'a' && c <= 'z' || raw[j] == '/' || raw[j] == '!' || raw[j] == '?' || raw[j] == '%' || raw[j] == '\\' || raw[j] == '&'
	}
	for i := 0; i+2 < len(raw); i++ {
		switch raw[i] {
		case '%':
			if pct && raw[i+1] == '3' && (raw[i+2] == 'c' || raw[i+2] == 'C') && tag(i+3) {
				return i, i + 3
			}
		case '\\':
			if r, n := hexEscape(raw, i); n > 0 && r == '<' && tag(i+n) {
				return i, i + n
			}
		case '&':
			if raw[i+1] == '#' {
				if r, n := numericRef(raw, i); n > 0 && r == '<' && tag(i+n) {
					return i, i + n
				}
			}
		}
	}
	return -1, -1
}

// hexEscape reads \xHH or \uHHHH at s[i].
func hexEscape(s string, i int) (rune, int) {
	n := 0
	switch {
	case i+3 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
		n = 2
	case i+5 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U'):
		n = 4
	default:
		return 0, 0
	}
	var r rune
	for k := i + 2; k < i+2+n; k++ {
		if !isHex(s[k]) {
			return 0, 0
		}
		v := rune(s[k] | 0x20)
		if v >= 'a' {
			v -= 'a' - 10
		} else {
			v -= '0'
		}
		r = r<<4 | v
	}
	return r, n + 2
}

// numericRef reads a numeric character reference at s[i] ('&#'),
// reading at most 12 digits.
func numericRef(s string, i int) (rune, int) {
	j := i + 2
	base := rune(10)
	if j < len(s) && (s[j] == 'x' || s[j] == 'X') {
		base = 16
		j++
	}
	start := j
	var r rune
	for ; j < len(s) && j-start < 12; j++ {
		c := s[j]
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case base == 16 && isHex(c):
			d = rune(c|0x20) - 'a' + 10
		default:
			d = -1
		}
		if d < 0 {
			break
		}
		r = r*base + d
	}
	if j == start {
		return 0, 0
	}
	if j < len(s) && s[j] == ';' {
		j++
	}
	return r, j - i
}

// scriptObject finds a property of a browser object that only injected
// script touches (document.cookie, document.write, document.domain,
// window.location, location.href, x.innerHTML, ...) by looking at the
// words around each '.', and returns its bounds or -1.
func scriptObject(l string) (int, int) {
	for p := 1; p+1 < len(l); p++ {
		if l[p] != '.' {
			continue
		}
		i := p
		for i > 0 && isWord(l[i-1]) {
			i--
		}
		j := p + 1
		for j < len(l) && isWord(l[j]) {
			j++
		}
		obj, prop := l[i:p], l[p+1:j]
		if strings.HasSuffix(obj, "document") {
			obj = "document" // a stripped tag may precede it
			i = p - 8
		}
		switch {
		case prop == "innerhtml" || prop == "outerhtml":
			return i, j
		case obj == "document" && (prop == "cookie" || prop == "write" || prop == "writeln" || prop == "domain" || prop == "location"):
			return i, j
		case obj == "window" && (prop == "location" || prop == "open" || prop == "name"):
			return i, j
		case obj == "location" && (prop == "href" || prop == "hash" || prop == "replace"):
			return i, j
		}
	}
	return -1, -1
}

// scriptCall finds a call (name( or name`) of a browser dialog or a
// string-to-code function: alert, prompt, confirm, eval, setTimeout,
// setInterval, fromCharCode, XMLHttpRequest. The name must not continue
// another word, except a stripped "script" tag before it.
func scriptCall(l string) (int, int) {
	for p := 0; p < len(l); p++ {
		if c := l[p]; c != '(' && c != '`' {
			continue
		}
		i := p
		for i > 0 && isWord(l[i-1]) {
			i--
		}
		name := l[i:p]
		switch name {
		case "alert", "prompt", "confirm", "settimeout", "setinterval", "fromcharcode", "xmlhttprequest":
		case "scriptalert", "scriptprompt", "scriptconfirm":
			i += 6
		case "eval":
			if l[p] != '(' {
				continue
			}
		default:
			continue
		}
		return i, p + 1
	}
	return -1, -1
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
				if k < len(l) && l[k] == ':' && scriptCode(l, k+1) {
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

// inTag reports whether position i is inside an opened tag: a '<' and a
// tag name before it, with no '>' in between.
func inTag(l string, i int) bool {
	k := strings.LastIndexByte(l[max(0, i-window):i], '<')
	if k >= 0 {
		k += max(0, i-window)
	}
	if k < 0 || strings.IndexByte(l[k:i], '>') >= 0 || k+1 >= i {
		return false
	}
	c := l[k+1]
	return c >= 'a' && c <= 'z'
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
		if p >= 0 && l[p] != '"' && l[p] != '\'' && l[p] != '`' && l[p] != '<' && !inTag(l, i) {
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

// scriptCode reports whether the first token after a script scheme's
// colon at l[k:] is code (a call, template, assignment, index, escape,
// comment or string), not a word of prose: "JavaScript: the good parts"
// names a language.
func scriptCode(l string, k int) bool {
	k = skipCtl(l, k)
	e := k
	for e < len(l) && l[e] > ' ' {
		e++
	}
	return strings.ContainsAny(l[k:e], "(`=[%\\/'\";.&{+")
}
