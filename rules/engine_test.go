package rules

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/detect"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// fakeDetector flags values containing its marker. It panics on values
// containing "PANIC".
type fakeDetector struct {
	name, marker string
}

func (d fakeDetector) Name() string     { return d.name }
func (d fakeDetector) Category() string { return d.name + "-cat" }
func (d fakeDetector) Detect(sc *detect.Scratch, in detect.Input) (detect.Finding, bool) {
	v := sc.Raw()
	if v != in.Value {
		panic("scratch not reset for this field")
	}
	if strings.Contains(v, "PANIC") {
		panic("fake detector panic")
	}
	if i := strings.Index(v, d.marker); i >= 0 {
		fd := detect.Finding{Evidence: v[i : i+len(d.marker)], Reason: "marker"}
		if strings.Contains(v, "maybe") {
			fd.Confidence = detect.Low
		}
		return fd, true
	}
	return detect.Finding{}, false
}

func testDetectors() detectorSet {
	return detectorSet{
		"evil":  fakeDetector{name: "evil", marker: "EVIL"},
		"worse": fakeDetector{name: "worse", marker: "WORSE"},
	}
}

// detectorKey finds the detector names of a test policy.
var detectorKey = regexp.MustCompile(`detector: ([A-Za-z0-9_-]+)`)

// parseFake parses a policy that names the fake detectors: the parser
// knows only the built-in names, so every detector is parsed as "sqli"
// and given its own name back afterwards, in file order.
func parseFake(name, src string) (*policy.Policy, error) {
	var names []string
	src = detectorKey.ReplaceAllStringFunc(src, func(m string) string {
		names = append(names, detectorKey.FindStringSubmatch(m)[1])
		return "detector: sqli"
	})
	p, err := policy.Parse(name, []byte(src))
	if err != nil {
		return nil, err
	}
	k := 0
	for i := range p.Inputs {
		if p.Inputs[i].Detector != "" {
			p.Inputs[i].Detector = names[k]
			k++
		}
	}
	return p, nil
}

// testEngine parses and compiles policy with the fake detectors.
func testEngine(t testing.TB, policy string) *Engine {
	t.Helper()
	p, err := parseFake("test.yaml", policy)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	e, err := compile(p, testDetectors())
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return e
}

func req(route string, fields ...Field) *Request {
	return &Request{Route: route, Fields: fields}
}

func f(src Source, path, value string) Field { return Field{Source: src, Path: path, Value: value} }

// ruleIDs lists the matched rule ids, in order.
func ruleIDs(d Decision) string {
	ids := make([]string, len(d.Matches))
	for i, m := range d.Matches {
		ids[i] = m.RuleID + "@" + m.Path
	}
	return strings.Join(ids, ",")
}

func TestInspect(t *testing.T) {
	const policy = `
version: 1
inputs:
  - {id: evil, detector: evil, targets: [query, body]}
  - {id: worse-mon, detector: worse, action: monitor}
  - {id: admin, match: {regex: '(?i)/wp-admin'}, targets: [path]}
  - {id: pw, match: {equals: [hunter2]}, paths: ['body.**.password']}
exclusions:
  - rules: [evil]
    paths: ['body.comment.*']
    when: {route: 'POST /posts'}
  - rules: ['*']
    paths: ['query.trusted']
`
	e := testEngine(t, policy)
	tests := []struct {
		name       string
		give       *Request
		wantAction Action
		wantRules  string
	}{
		{"clean", req("GET /", f(SourceQuery, "query.q", "hello"), f(SourceBody, "body.a", "world")), ActionAllow, ""},
		{"detector hit", req("GET /", f(SourceQuery, "query.q", "an EVIL thing")), ActionBlock, "evil@query.q"},
		{"source not targeted", req("GET /", f(SourceHeaders, "headers.x", "EVIL")), ActionAllow, ""},
		{"monitor rule", req("GET /", f(SourceHeaders, "headers.x", "WORSE")), ActionMonitor, "worse-mon@headers.x"},
		{"block wins over monitor", req("GET /", f(SourceHeaders, "headers.x", "WORSE"), f(SourceBody, "body.a", "EVIL")), ActionBlock, "worse-mon@headers.x,evil@body.a"},
		{"two rules one field", req("GET /", f(SourceBody, "body.a", "EVIL WORSE")), ActionBlock, "evil@body.a,worse-mon@body.a"},
		{"user regex", req("GET /wp-admin/x", f(SourcePath, "path", "/WP-Admin/setup.php")), ActionBlock, "admin@path"},
		{"path glob hit", req("", f(SourceBody, "body.user.password", "hunter2")), ActionBlock, "pw@body.user.password"},
		{"path glob miss", req("", f(SourceBody, "body.password", "hunter2")), ActionAllow, ""},
		{"excluded on route", req("POST /posts", f(SourceBody, "body.comment.html", "EVIL")), ActionAllow, ""},
		{"exclusion other route", req("PUT /posts", f(SourceBody, "body.comment.html", "EVIL")), ActionBlock, "evil@body.comment.html"},
		{"exclusion other path", req("POST /posts", f(SourceBody, "body.title", "EVIL")), ActionBlock, "evil@body.title"},
		{"wildcard exclusion", req("", f(SourceQuery, "query.trusted", "EVIL WORSE")), ActionAllow, ""},
		{"empty value skipped", req("", f(SourceQuery, "query.q", "")), ActionAllow, ""},
		{"unknown source skipped", req("", Field{Source: Source(200), Path: "x", Value: "EVIL"}), ActionAllow, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Inspect(context.Background(), tt.give)
			if d.Action != tt.wantAction {
				t.Errorf("Inspect() action = %v, want %v", d.Action, tt.wantAction)
			}
			if got := ruleIDs(d); got != tt.wantRules {
				t.Errorf("Inspect() matches = %q, want %q", got, tt.wantRules)
			}
			if d.Err != nil || d.Truncated {
				t.Errorf("Inspect() err = %v, truncated = %v, want neither", d.Err, d.Truncated)
			}
		})
	}
}

func TestInspectMatchDetails(t *testing.T) {
	e := testEngine(t, "version: 1\ninputs:\n  - {id: evil, detector: evil}\n  - {id: card, match: {phrases: [card=]}}\n")
	value := "first line\nthen the EVIL part with a long tail that must not be shown in full at all"
	d := e.Inspect(context.Background(), req("", f(SourceBody, "body.note", value), f(SourceQuery, "query.p", "card=4111111111111111&x=1")))
	if len(d.Matches) != 2 {
		t.Fatalf("Inspect() matches = %+v, want 2", d.Matches)
	}
	m := d.Matches[0]
	want := Match{RuleID: "evil", Category: "evil-cat", Source: SourceBody, Path: "body.note", Excerpt: `ne\nthen the EVIL part with a`, Action: ActionBlock}
	if m != want {
		t.Errorf("Matches[0] = %+v, want %+v", m, want)
	}
	if got, want := d.Matches[1].Excerpt, "card=************"; got != want {
		t.Errorf("Matches[1].Excerpt = %q, want %q", got, want)
	}
	if got := d.Matches[1].Category; got != "custom" {
		t.Errorf("Matches[1].Category = %q, want custom", got)
	}
}

func TestInspectModes(t *testing.T) {
	tests := []struct {
		name   string
		give   string
		force  *Mode
		want   Action
		wantOK bool // whether a match is recorded
	}{
		{"policy block", "mode: block\ninputs: [{id: r, detector: evil}]", nil, ActionBlock, true},
		{"policy monitor", "mode: monitor\ninputs: [{id: r, detector: evil}]", nil, ActionMonitor, true},
		{"policy off", "mode: off\ninputs: [{id: r, detector: evil}]", nil, ActionAllow, false},
		{"rule monitor", "inputs: [{id: r, detector: evil, mode: monitor}]", nil, ActionMonitor, true},
		{"rule off", "inputs: [{id: r, detector: evil, mode: off}]", nil, ActionAllow, false},
		{"rule block under policy monitor", "mode: monitor\ninputs: [{id: r, detector: evil, mode: block}]", nil, ActionBlock, true},
		{"rule action monitor", "inputs: [{id: r, detector: evil, action: monitor}]", nil, ActionMonitor, true},
		{"forced monitor caps rule block", "inputs: [{id: r, detector: evil, mode: block}]", modePtr(ModeMonitor), ActionMonitor, true},
		{"forced off", "inputs: [{id: r, detector: evil}]", modePtr(ModeOff), ActionAllow, false},
		{"forced block keeps rule monitor", "mode: monitor\ninputs: [{id: r, detector: evil, mode: monitor}]", modePtr(ModeBlock), ActionMonitor, true},
		{"forced block", "mode: monitor\ninputs: [{id: r, detector: evil}]", modePtr(ModeBlock), ActionBlock, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parseFake("m.yaml", "version: 1\n"+tt.give+"\n")
			if err != nil {
				t.Fatal(err)
			}
			p.ForcedMode = tt.force
			e, err := compile(p, testDetectors())
			if err != nil {
				t.Fatal(err)
			}
			d := e.Inspect(context.Background(), req("", f(SourceQuery, "query.q", "EVIL")))
			if d.Action != tt.want {
				t.Errorf("Inspect() action = %v, want %v", d.Action, tt.want)
			}
			if got := len(d.Matches) > 0; got != tt.wantOK {
				t.Errorf("Inspect() recorded a match = %v, want %v", got, tt.wantOK)
			}
		})
	}
}

func modePtr(m Mode) *Mode { return &m }

func TestInspectOnError(t *testing.T) {
	tests := []struct {
		name    string
		give    string
		fields  []Field
		trunc   bool
		want    Action
		wantErr error
	}{
		{"truncated fails open", "on_error: allow", []Field{f(SourceQuery, "query.q", "ok")}, true, ActionAllow, nil},
		{"truncated fails closed", "on_error: block", []Field{f(SourceQuery, "query.q", "ok")}, true, ActionBlock, nil},
		{"truncated under monitor only monitors", "mode: monitor\non_error: block", []Field{f(SourceQuery, "query.q", "ok")}, true, ActionMonitor, nil},
		{"truncated keeps a block match", "on_error: allow", []Field{f(SourceQuery, "query.q", "EVIL")}, true, ActionBlock, nil},
		{"panic fails open", "on_error: allow", []Field{f(SourceQuery, "query.q", "PANIC")}, false, ActionAllow, &PanicError{}},
		{"panic fails closed", "on_error: block", []Field{f(SourceQuery, "query.q", "PANIC")}, false, ActionBlock, &PanicError{}},
		{"panic keeps earlier matches", "on_error: allow", []Field{f(SourceQuery, "query.a", "EVIL"), f(SourceQuery, "query.q", "PANIC")}, false, ActionBlock, &PanicError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEngine(t, "version: 1\n"+tt.give+"\ninputs: [{id: r, detector: evil}]\n")
			d := e.Inspect(context.Background(), &Request{Fields: tt.fields, Truncated: tt.trunc})
			if d.Action != tt.want {
				t.Errorf("Inspect() action = %v, want %v", d.Action, tt.want)
			}
			if !d.Truncated {
				t.Errorf("Inspect() truncated = false, want true")
			}
			var pe *PanicError
			switch {
			case tt.wantErr == nil && d.Err != nil:
				t.Errorf("Inspect() err = %v, want nil", d.Err)
			case tt.wantErr != nil && !errors.As(d.Err, &pe):
				t.Errorf("Inspect() err = %v, want a *PanicError", d.Err)
			case pe != nil && pe.RuleID != "r":
				t.Errorf("PanicError.RuleID = %q, want r", pe.RuleID)
			}
		})
	}
}

// fakeClock advances by step on every reading.
type fakeClock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(c.step)
	return c.t
}

// TestInspectBudget holds the budget to what it promises: an overrun is
// reported, never a reason to skip the fields after it, whatever on_error
// says — padding the head of an event must not hide its tail.
func TestInspectBudget(t *testing.T) {
	for _, onError := range []string{"allow", "block"} {
		t.Run("on_error "+onError, func(t *testing.T) {
			e := testEngine(t, "version: 1\non_error: "+onError+"\nlimits: {budget: 1ms}\ninputs: [{id: r, detector: evil}]\n")
			clock := &fakeClock{step: 400 * time.Microsecond}
			e.now = clock.now
			fields := make([]Field, 100)
			for i := range fields {
				fields[i] = f(SourceBody, fmt.Sprintf("body.f%d", i), "clean")
			}
			fields[99].Value = "EVIL at the very end"
			d := e.Inspect(context.Background(), &Request{Fields: fields})
			if !d.OverBudget {
				t.Error("Inspect() OverBudget = false, want true")
			}
			if d.Truncated || d.Err != nil || d.Incomplete != "" {
				t.Errorf("Inspect() truncated = %v, err = %v, incomplete = %q; want a complete inspection", d.Truncated, d.Err, d.Incomplete)
			}
			if len(d.Matches) != 1 || d.Action != ActionBlock {
				t.Errorf("Inspect() = %v with %d matches, want block with the match in the last field", d.Action, len(d.Matches))
			}
		})
	}
}

func TestInspectCancelled(t *testing.T) {
	e := testEngine(t, "version: 1\ninputs: [{id: r, detector: evil}]\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fields := make([]Field, 40)
	for i := range fields {
		fields[i] = f(SourceBody, "body.x", "clean")
	}
	d := e.Inspect(ctx, &Request{Fields: fields})
	if !errors.Is(d.Err, context.Canceled) || !d.Truncated {
		t.Errorf("Inspect() err = %v, truncated = %v, want context.Canceled and true", d.Err, d.Truncated)
	}
}

func TestInspectNil(t *testing.T) {
	e := testEngine(t, "version: 1\ninputs: [{id: r, detector: evil}]\n")
	if d := e.Inspect(context.Background(), nil); d.Action != ActionAllow || d.Matches != nil {
		t.Errorf("Inspect(ctx, nil) = %+v, want allow", d)
	}
	// A nil context must not make Inspect panic.
	var nilCtx context.Context
	if d := e.Inspect(nilCtx, req("", f(SourceQuery, "query.q", "EVIL"))); d.Action != ActionBlock || d.Err != nil {
		t.Errorf("Inspect(nil, attack) = %+v, want block", d)
	}
}

func TestInspectMaxFields(t *testing.T) {
	e := testEngine(t, "version: 1\non_error: block\nlimits: {max_fields: 2}\ninputs: [{id: r, detector: evil}]\n")
	d := e.Inspect(context.Background(), req("", f(SourceQuery, "query.a", "ok"), f(SourceQuery, "query.b", "ok"), f(SourceQuery, "query.c", "EVIL")))
	if !d.Truncated || len(d.Matches) != 0 || d.Action != ActionBlock {
		t.Errorf("Inspect() = truncated %v, %d matches, %v; want truncated, no match, on_error block", d.Truncated, len(d.Matches), d.Action)
	}
}

func TestInspectValueBeyondMaxBodyBytes(t *testing.T) {
	e := testEngine(t, "version: 1\nlimits: {max_body_bytes: 1024}\ninputs: [{id: r, detector: evil}]\n")
	tests := []struct {
		name      string
		value     string
		wantMatch bool
	}{
		{"attack inside the limit", "EVIL" + strings.Repeat("x", 4000), true},
		{"attack past the limit", strings.Repeat("x", 4000) + "EVIL", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Inspect(context.Background(), req("", f(SourceBody, "body", tt.value)))
			if !d.Truncated || (len(d.Matches) == 1) != tt.wantMatch {
				t.Errorf("Inspect() = truncated %v, %d matches; want truncated, match %v", d.Truncated, len(d.Matches), tt.wantMatch)
			}
		})
	}
}

func TestInspectMatchesAreBounded(t *testing.T) {
	e := testEngine(t, "version: 1\ninputs: [{id: r, detector: evil}]\n")
	fields := make([]Field, 500)
	for i := range fields {
		fields[i] = f(SourceBody, "body.x", "EVIL")
	}
	d := e.Inspect(context.Background(), &Request{Fields: fields})
	if len(d.Matches) != maxMatches || d.Action != ActionBlock {
		t.Errorf("Inspect() = %d matches, action %v; want %d, block", len(d.Matches), d.Action, maxMatches)
	}
}

func TestInspectConcurrent(t *testing.T) {
	t.Parallel()
	e := testEngine(t, "version: 1\ninputs:\n  - {id: r, detector: evil}\n  - {id: w, detector: worse}\n  - {id: p, match: {phrases: [drop table]}}\n")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				attack := (g+i)%2 == 0
				v := "harmless value"
				if attack {
					v = "EVIL; drop table users"
				}
				d := e.Inspect(context.Background(), req("", f(SourceBody, "body.a", "x"), f(SourceQuery, "query.q", v)))
				if got := d.Action == ActionBlock; got != attack || (attack && len(d.Matches) != 2) {
					errs <- fmt.Errorf("goroutine %d iteration %d: action %v, %d matches, attack %v", g, i, d.Action, len(d.Matches), attack)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkInspectClean measures a request no rule matches (0
// allocations is the budget; see the README).
func BenchmarkInspectClean(b *testing.B) {
	e := testEngine(b, `
version: 1
inputs:
  - {id: r, detector: evil}
  - {id: w, detector: worse, paths: ['body.**']}
  - {id: p, match: {phrases: [drop table, union select], case_insensitive: true}}
  - {id: x, match: {regex: '(?i)<script'}}
exclusions:
  - {rules: [r], paths: ['body.comment.*'], when: {route: 'POST /posts'}}
`)
	r := req("POST /posts",
		f(SourceQuery, "query.q", "search terms"),
		f(SourceHeaders, "headers.user-agent", "Mozilla/5.0 (X11; Linux x86_64)"),
		f(SourceBody, "body.comment.html", "<b>hello</b> there"),
		f(SourceBody, "body.user.name", "Ada Lovelace"),
	)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e.Inspect(ctx, r)
	}
}

func TestCompileUnknownDetector(t *testing.T) {
	p, err := parseFake("c.yaml", "version: 1\ninputs: [{id: r, detector: evil}]\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = compile(p, detectorSet{})
	var pe *policy.Error
	if !errors.As(err, &pe) || pe.RuleID != "r" || pe.Line != 2 {
		t.Errorf("compile() error = %v, want a PolicyError for rule r at line 2", err)
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded, want an error")
	}
}

func TestEngineAccessors(t *testing.T) {
	e := testEngine(t, "version: 1\nname: shop\nmode: monitor\non_error: block\nlimits: {budget: 5ms}\n")
	if e.Name() != "shop" || e.Mode() != ModeMonitor || e.OnError() != ActionMonitor || e.Limits().Budget != 5*time.Millisecond {
		t.Errorf("accessors = %q %v %v %v", e.Name(), e.Mode(), e.OnError(), e.Limits())
	}
	if len(e.Version()) != 12 {
		t.Errorf("Version() = %q, want 12 hex digits", e.Version())
	}
	if e.Policy() == nil || e.Egress() == nil || e.Sinks() == nil {
		t.Error("Policy(), Egress() or Sinks() is nil")
	}
	e2 := testEngine(t, "version: 1\nname: shop\nmode: monitor\non_error: block\nlimits: {budget: 5ms}\n")
	if e.Version() != e2.Version() {
		t.Errorf("Version() differs for the same content: %q, %q", e.Version(), e2.Version())
	}
	if e3 := testEngine(t, "version: 1\nname: shop\n"); e3.Version() == e.Version() {
		t.Error("Version() is the same for different policies")
	}
	unnamed := testEngine(t, "version: 1\n")
	if got := unnamed.Name(); got != "test" {
		t.Errorf("Name() of an unnamed policy = %q, want the file's base name", got)
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("a", 100)
	tests := []struct {
		name       string
		give       string
		start, end int
		want       string
	}{
		{"short", "' OR 1=1--", 0, 10, "' OR 1=1--"},
		{"context before", long + "EVIL" + long, 100, 104, strings.Repeat("a", 12) + "EVIL" + strings.Repeat("a", 12)},
		{"control chars", "a\x00b\x1bc\r\n", 0, 7, `a\x00b\x1bc\r\n`},
		{"digits masked", "ssn 123456789 pin 1234", 4, 13, "ssn ********* pin 1234"},
		{"run cut by the window is masked", "4111111111111111 EVIL", 17, 21, "*********** EVIL"},
		{"invalid utf8", "x\xffy", 0, 3, `x\xffy`},
		{"utf8 kept", "héllo wörld", 0, 3, "héllo wörld"},
		{"c1 control", "a\u0085b", 0, 1, `a\u0085b`},
		{"long evidence", long + long, 10, 190, strings.Repeat("a", 48)},
		{"out of range", "abc", 10, 20, "abc"},
		{"escapes stay within bound", strings.Repeat("\x00", 40), 0, 40, strings.Repeat(`\x00`, 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := excerpt(tt.give, tt.start, tt.end)
			if got != tt.want {
				t.Errorf("excerpt(%q, %d, %d) = %q, want %q", tt.give, tt.start, tt.end, got, tt.want)
			}
			if len(got) > maxExcerpt {
				t.Errorf("excerpt is %d bytes, want at most %d", len(got), maxExcerpt)
			}
		})
	}
}

// escapeRE matches the escapes excerpt writes, whose hex digits are not
// digits of the value.
var escapeRE = regexp.MustCompile(`\\x[0-9a-f]{2}|\\u[0-9a-f]{4}`)

// FuzzExcerpt checks that excerpts stay short, printable and never contain
// a long digit run.
func FuzzExcerpt(f *testing.F) {
	f.Add("card 4111111111111111 end", 5, 21)
	f.Add("\x00\xff\u2028é", 0, 4)
	f.Fuzz(func(t *testing.T, s string, start, end int) {
		got := excerpt(s, start, end)
		if len(got) > maxExcerpt {
			t.Fatalf("excerpt is %d bytes", len(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("excerpt %q is not valid UTF-8", got)
		}
		run := 0
		stripped := escapeRE.ReplaceAllString(got, "~")
		for i := 0; i < len(stripped); i++ {
			c := stripped[i]
			if c < 0x20 || c == 0x7f {
				t.Fatalf("excerpt %q contains control byte %#x", got, c)
			}
			if c >= '0' && c <= '9' {
				run++
				if run >= minDigitRun {
					t.Fatalf("excerpt %q contains a digit run", got)
				}
			} else {
				run = 0
			}
		}
	})
}

func TestExclusionForms(t *testing.T) {
	e := testEngine(t, `
version: 1
inputs:
  - {id: r, detector: evil}
  - {id: w, detector: worse}
exclusions:
  - rules: r
    targets: ['body.*.bio']
  - rules: ['*']
    when: {route: 'POST /webhooks/*'}
  - rules: [w]
    paths: ['headers.**']
    when: {route: '* /admin/**'}
`)
	tests := []struct {
		name string
		give *Request
		want string
	}{
		{"scalar rules with targets", req("", f(SourceBody, "body.user.bio", "EVIL WORSE")), "w@body.user.bio"},
		{"route-only exclusion", req("POST /webhooks/stripe", f(SourceBody, "body.x", "EVIL WORSE")), ""},
		{"route glob does not cross segments", req("POST /webhooks/a/b", f(SourceBody, "body.x", "EVIL")), "r@body.x"},
		{"method wildcard", req("GET /admin/users/1", f(SourceHeaders, "headers.x-note", "EVIL WORSE")), "r@headers.x-note"},
		{"keys are fields too", req("", Field{Source: SourceBody, Path: "body.EVIL", Value: "EVIL", Key: true}), "r@body.EVIL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ruleIDs(e.Inspect(context.Background(), tt.give)); got != tt.want {
				t.Errorf("Inspect() matches = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNumSources holds the engine's per-source table to the policy's
// sources: every source below numSources has a name, none beyond.
func TestNumSources(t *testing.T) {
	for s := SourceQuery; s < numSources; s++ {
		if got, err := policy.ParseSource(s.String()); err != nil || got != s {
			t.Errorf("ParseSource(%q) = %v, %v, want %v", s.String(), got, err, s)
		}
	}
	if got := numSources.String(); got != "unknown" {
		t.Errorf("Source(numSources).String() = %q: the policy has a source the engine does not index", got)
	}
}

func TestMinConfidence(t *testing.T) {
	const base = "version: 1\ninputs:\n  - id: evil\n    detector: evil\n"
	tests := []struct {
		name   string
		policy string
		value  string
		want   Action
		conf   Confidence
	}{
		{"high finding blocks", base, "EVIL", ActionBlock, ConfidenceHigh},
		{"low finding is reported by default", base, "maybe EVIL", ActionMonitor, ConfidenceLow},
		{"low finding blocks with min_confidence low", base + "    min_confidence: low\n", "maybe EVIL", ActionBlock, ConfidenceLow},
		{"high bar stated explicitly", base + "    min_confidence: high\n", "maybe EVIL", ActionMonitor, ConfidenceLow},
		{"monitor rule stays monitor", base + "    action: monitor\n    min_confidence: low\n", "EVIL", ActionMonitor, ConfidenceHigh},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEngine(t, tt.policy)
			d := e.Inspect(context.Background(), req("", f(SourceQuery, "query.q", tt.value)))
			if d.Action != tt.want || len(d.Matches) != 1 || d.Matches[0].Action != tt.want || d.Matches[0].Confidence != tt.conf {
				t.Errorf("decision %v, matches %+v; want %v with confidence %v", d.Action, d.Matches, tt.want, tt.conf)
			}
		})
	}
	p, err := parseFake("bad.yaml", base+"    min_confidence: medium\n")
	if err == nil || !strings.Contains(err.Error(), `unknown min_confidence "medium"`) {
		t.Errorf("parse(min_confidence: medium) = %v, %v; want an error naming the value", p, err)
	}
}
