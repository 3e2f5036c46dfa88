package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/libinjection-go"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Engine is one detector under comparison.
type Engine interface {
	Name() string
	// Detect reports whether ev is blocked.
	Detect(ev *Event) bool
	// Explain returns what made Detect block ev (rule ids), for the
	// false-positive breakdown. It is not timed.
	Explain(ev *Event) []string
}

// Ours runs lambda-rasp's production path: the event adapter, then the
// default policy's engine.
type Ours struct {
	engine *rules.Engine
	// Errors counts inspections that ended with an error (budget overrun,
	// recovered panic) or truncated, by kind; on_error then decided.
	Errors map[string]int
}

// NewOurs compiles the embedded default policy.
func NewOurs() (*Ours, error) {
	e, err := rules.DefaultEngine()
	if err != nil {
		return nil, err
	}
	return &Ours{engine: e, Errors: map[string]int{}}, nil
}

func (o *Ours) Name() string { return "lambda-rasp" }

func (o *Ours) Detect(ev *Event) bool {
	d, ok := o.inspect(ev)
	return ok && d.Blocked()
}

func (o *Ours) inspect(ev *Event) (rules.Decision, bool) {
	parsed, err := adapter.Parse(ev.Lambda, adapter.Limits{})
	if err != nil {
		o.Errors["adapter: "+err.Error()]++
		return rules.Decision{}, false
	}
	d := o.engine.Inspect(context.Background(), &parsed.Request)
	switch {
	case d.Err != nil:
		o.Errors[d.Err.Error()]++
	case d.Truncated:
		o.Errors["truncated"]++
	}
	return d, true
}

func (o *Ours) Explain(ev *Event) []string {
	d, _ := o.inspect(ev)
	var ids []string
	for _, m := range d.Matches {
		ids = append(ids, m.RuleID+"@"+m.Source.String())
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// ParseOnly runs only the adapter; with InspectOnly it splits our latency.
type ParseOnly struct{}

func (ParseOnly) Name() string { return "lambda-rasp adapter.Parse only" }
func (ParseOnly) Detect(ev *Event) bool {
	_, err := adapter.Parse(ev.Lambda, adapter.Limits{})
	return err != nil
}
func (ParseOnly) Explain(*Event) []string { return nil }

// CorazaDirectives is the Coraza configuration: Coraza's recommended
// configuration, the CRS example setup, blocking paranoia level 1 and an
// inbound anomaly threshold of 5 (the CRS defaults, set explicitly), then
// the rules, with the engine switched from DetectionOnly to On.
const CorazaDirectives = `
Include @coraza.conf-recommended
Include @crs-setup.conf.example
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=1"
SecAction "id:900110,phase:1,pass,t:none,nolog,setvar:tx.inbound_anomaly_score_threshold=5,setvar:tx.outbound_anomaly_score_threshold=4"
Include @owasp_crs/*.conf
SecRuleEngine On
SecRequestBodyAccess On
SecResponseBodyAccess Off
SecAuditEngine Off
`

// Coraza runs a Coraza v3 WAF with the OWASP CRS.
type Coraza struct {
	waf coraza.WAF
	// Errors counts transactions in which Coraza returned an error, by
	// message.
	Errors map[string]int
}

// NewCoraza creates the WAF (parses and compiles the CRS).
func NewCoraza() (*Coraza, error) {
	waf, err := coraza.NewWAF(coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(CorazaDirectives))
	if err != nil {
		return nil, fmt.Errorf("coraza: %w", err)
	}
	return &Coraza{waf: waf, Errors: map[string]int{}}, nil
}

func (c *Coraza) Name() string { return "Coraza + CRS PL1" }

func (c *Coraza) Detect(ev *Event) bool {
	blocked, _ := c.run(ev, false)
	return blocked
}

func (c *Coraza) Explain(ev *Event) []string {
	_, ids := c.run(ev, true)
	return ids
}

// run is one transaction through the request phases. CRS blocks in
// phase 2 (rule 949110) once the inbound anomaly score reaches the
// threshold, so an interruption after the request body is a detection.
func (c *Coraza) run(ev *Event, explain bool) (bool, []string) {
	tx := c.waf.NewTransaction()
	defer tx.Close()
	r := &ev.HTTP
	tx.ProcessConnection("203.0.113.7", 40000, "10.0.0.1", 443)
	tx.ProcessURI(r.URI, r.Method, "HTTP/1.1")
	for _, h := range r.Headers {
		tx.AddRequestHeader(h[0], h[1])
	}
	tx.SetServerName(host)
	it := tx.ProcessRequestHeaders()
	if it == nil && len(r.Body) > 0 {
		var err error
		if it, _, err = tx.WriteRequestBody(r.Body); err != nil {
			c.Errors[err.Error()]++
		}
	}
	if it == nil {
		var err error
		if it, err = tx.ProcessRequestBody(); err != nil {
			c.Errors[err.Error()]++
		}
	}
	if !explain {
		return it != nil, nil
	}
	var ids []string
	for _, m := range tx.MatchedRules() {
		id := m.Rule().ID()
		// Detection rules only (they have a message), not the paranoia
		// level skips, initialisation and scoring.
		if m.Message() != "" && id >= 910000 && id < 949000 {
			ids = append(ids, strconv.Itoa(id))
		}
	}
	slices.Sort(ids)
	return it != nil, slices.Compact(ids)
}

// Libinjection is bare libinjection on the decoded value: it knows no
// request, only strings, so it runs once per payload.
type Libinjection struct{}

func (Libinjection) Name() string { return "libinjection (SQLi+XSS)" }

func (Libinjection) Detect(ev *Event) bool {
	if sqli, _ := libinjection.IsSQLi(ev.Payload); sqli {
		return true
	}
	return libinjection.IsXSS(ev.Payload)
}

func (Libinjection) Explain(ev *Event) []string {
	var ids []string
	if sqli, _ := libinjection.IsSQLi(ev.Payload); sqli {
		ids = append(ids, "IsSQLi")
	}
	if libinjection.IsXSS(ev.Payload) {
		ids = append(ids, "IsXSS")
	}
	return ids
}
