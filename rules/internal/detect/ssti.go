package detect

import "strings"

// ssti detects server-side template injection: template delimiters that
// enclose an expression rather than a plain variable name.
//
// Delimiters: {{ }}, {% %}, ${ }, #{ }, *{ }, @{ }, ~{ }, <%= %> / <% %>,
// [[ ]], {$ } (Smarty), @( ) (Razor), <#...> and ${...} (FreeMarker),
// #set( / #foreach( (Velocity), {php}. An enclosed expression is a hit
// when it holds an operator or call syntax (7*7, x.y(), a[0], a|filter,
// 'str'), a dunder attribute (__class__) or one of the objects template
// exploits start from (config, self, request, T(java...), ...).
// {{name}} and ${user} alone are left alone: templates echoed back as
// text are common and harmless, and ${jndi:...} is the jndi detector's.
type ssti struct{}

// Name implements Detector.
func (ssti) Name() string { return "ssti" }

// Category implements Detector.
func (ssti) Category() string { return "ssti" }

// sstiRoots are objects and keywords that template-injection payloads
// reach for.
var sstiRoots = [...]string{
	"config", "self", "request", "settings", "lipsum", "cycler", "joiner",
	"namespace", "range", "url_for", "get_flashed_messages", "_self", "app",
	"smarty", "t(", "class", "getclass", "runtime", "product", "import",
	"include", "exec", "system", "object", "freemarker", "java", "new(",
	"constructor", "process", "global", "require", "this",
}

// sstiOpen lists the opening delimiters and their closers.
var sstiOpen = [...]struct{ open, close string }{
	{"{{", "}}"}, {"{%", "%}"}, {"${", "}"}, {"#{", "}"}, {"*{", "}"},
	{"@{", "}"}, {"~{", "}"}, {"<%", "%>"}, {"[[", "]]"}, {"{$", "}"},
	{"@(", ")"}, {"<#", ">"},
}

// sstiFirst marks the first bytes of the opening delimiters.
var sstiFirst = func() (t [256]bool) {
	for _, d := range sstiOpen {
		t[d.open[0]] = true
	}
	return t
}()

// Detect implements Detector.
func (ssti) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	if m&(cBrace|cAngle|cBracket|cHash) == 0 && m&(cAt|cParen) != cAt|cParen {
		return miss()
	}
	l := sc.Lower()
	for i := 0; i+1 < len(l); i++ {
		if !sstiFirst[l[i]] {
			continue
		}
		for _, d := range sstiOpen {
			if d.open[0] != l[i] || l[i+1] != d.open[1] {
				continue
			}
			body := ahead(l, i+len(d.open))
			if k := strings.Index(body, d.close); k >= 0 {
				body = body[:k]
			} else if d.open != "{{" && d.open != "{%" && d.open != "<%" {
				continue
			}
			if d.open == "${" && strings.HasPrefix(strings.TrimLeft(body, " "), "jndi:") {
				continue
			}
			if templateExpr(body, d.open) {
				if sstiInProse(l, body) {
					return lowHit(l, i, i+len(d.open)+len(body)+len(d.close), "template expression in prose")
				}
				return hit(l, i, i+len(d.open)+len(body)+len(d.close), "template expression")
			}
		}
	}
	for _, s := range [...]string{"#set(", "#foreach(", "{php}", "#evaluate(", "$class.inspect"} {
		if i := strings.Index(l, s); i >= 0 {
			if proseLike(l) {
				return lowHit(l, i, i+len(s), "template directive in prose")
			}
			return hit(l, i, i+len(s), "template directive")
		}
	}
	return miss()
}

// templateExpr reports whether the body of a delimiter pair is an
// expression worth flagging.
func templateExpr(body, open string) bool {
	b := strings.TrimSpace(body)
	if b == "" {
		return false
	}
	switch open {
	case "<%":
		// ASP/ERB/EJS: any code block with an operator or call.
		b = strings.TrimLeft(b, "=-# ")
	case "<#":
		// FreeMarker directives.
		return strings.HasPrefix(b, "assign") || strings.HasPrefix(b, "import") || strings.HasPrefix(b, "include") ||
			strings.HasPrefix(b, "list") || strings.Contains(b, "?new")
	case "{%":
		if strings.HasPrefix(b, "for ") || strings.HasPrefix(b, "if ") || strings.HasPrefix(b, "set ") ||
			strings.HasPrefix(b, "import") || strings.HasPrefix(b, "include") || strings.HasPrefix(b, "debug") ||
			strings.HasPrefix(b, "print") || strings.HasPrefix(b, "load") || strings.HasPrefix(b, "raw") {
			return true
		}
	}
	if strings.Contains(b, "__") {
		return true
	}
	if open == "{{" && goTemplate(b) {
		return true
	}
	operator := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '(', '[', '*', '+', '|', '\'', '"', '`', '~', '%', '!', '<', '>', '=', '?':
			operator = true
		case '-', '/':
			// x-y and a/b, but not a date or path-like word between
			// letters alone.
			if i > 0 && i+1 < len(b) && (b[i+1] >= '0' && b[i+1] <= '9' || b[i+1] == ' ') {
				operator = true
			}
		}
	}
	if operator {
		return true
	}
	// Attribute chains from an exploit root: {{config.items}}, ${self.module}.
	for _, r := range sstiRoots {
		if b == r || strings.HasPrefix(b, r) && len(b) > len(r) && (b[len(r)] == '.' || b[len(r)] == '(') {
			return true
		}
	}
	return false
}

// goTemplate reports a Go text/template or html/template action: the dot
// or a field chain on it ({{.}}, {{ .Config.Password }}), a control word
// (range, with, if, define, template, block), or a built-in function
// applied to an argument ({{ index .Secrets 0 }}, {{ js . }}, {{ len . }}).
// A bare name ({{name}}) is a Mustache variable and stays out.
func goTemplate(b string) bool {
	if b[0] == '.' || b[0] == '$' {
		// {{.}}, {{.Field}}, {{$x := .}}; not {{...}} or {{..}}.
		return len(b) == 1 || b[1] != '.'
	}
	word, rest, _ := strings.Cut(b, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "range", "with", "if", "define", "template", "block":
		return rest != ""
	case "index", "len", "slice", "js", "html", "print", "printf", "println", "call", "urlquery", "and", "or", "not",
		"eq", "ne", "lt", "le", "gt", "ge":
		return rest != "" && (rest[0] == '.' || rest[0] == '$' || rest[0] == '"')
	}
	return false
}

// sstiInProse reports a template expression explained in prose ("In
// Jinja you write {{ user.name }}"): the value reads as prose and the
// expression neither computes (arithmetic, a call, a subscript) nor
// reaches for the objects exploits start from (dunder attributes,
// config, self, request, class loaders).
func sstiInProse(l, body string) bool {
	if !proseLike(l) || strings.Contains(body, "__") || strings.ContainsAny(body, "*()[]+'\"") {
		return false
	}
	b := strings.TrimSpace(body)
	for _, r := range sstiRoots {
		if strings.Contains(b, r) {
			return false
		}
	}
	return true
}
