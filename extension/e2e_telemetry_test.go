package main

import (
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/otlptest"
	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// TestOTLPFlushedBeforeFreeze: with OTEL_EXPORTER_OTLP_ENDPOINT set, the
// deltas and the security events reach the collector on the flush path,
// with the sandbox frozen between invokes, and add up to exact totals.
func TestOTLPFlushedBeforeFreeze(t *testing.T) {
	c := otlptest.Start(t)
	e := newSim(t, fnBin, lambdasim.Config{Freeze: true, Env: map[string]string{
		"LAMBDA_RASP_SOCKET":          socketPath(t),
		"LAMBDA_RASP_FLUSH_INTERVAL":  "1ns", // a flush after every invoke
		"OTEL_EXPORTER_OTLP_ENDPOINT": c.URL,
		"OTEL_EXPORTER_OTLP_HEADERS":  "authorization=Bearer%20t0ken",
	}})
	attack := apigw("x%27%20UNION%20SELECT%20name%2C%20sql%20FROM%20sqlite_master--")
	perAttack := expectedMatches(t, attack)
	const benign, attacks = 3, 2
	for i := 0; i < benign; i++ {
		if res := e.invoke(t, apigw("shoes")); res.StatusCode != 200 {
			t.Fatalf("benign invoke: %d %s", res.StatusCode, res.Body)
		}
	}
	for i := 0; i < attacks; i++ {
		if res := e.invoke(t, attack); !strings.Contains(string(res.Body), "403") {
			t.Fatalf("attack invoke was not blocked: %d %s", res.StatusCode, res.Body)
		}
	}
	// Before SHUTDOWN: every invoke's flush ran before the freeze.
	if got := c.SumTotals("lambda_rasp_inspections_total", "decision"); got["allow"] != benign || got["block"] != attacks {
		t.Errorf("inspection deltas before SHUTDOWN add up to %v, want allow=%d block=%d", got, benign, attacks)
	}
	if got := len(c.Records()); got != attacks*perAttack {
		t.Errorf("%d security log records before SHUTDOWN, want %d", got, attacks*perAttack)
	}
	e.shutdown(t)
	e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp"
	})
	// SHUTDOWN adds nothing twice.
	if got := c.SumTotals("lambda_rasp_inspections_total", "decision"); got["allow"] != benign || got["block"] != attacks {
		t.Errorf("inspection deltas add up to %v, want allow=%d block=%d", got, benign, attacks)
	}
	recs := c.Records()
	if len(recs) != attacks*perAttack {
		t.Errorf("%d security log records, want %d", len(recs), attacks*perAttack)
	}
	for _, r := range recs {
		a := otlptest.Attrs(r.GetAttributes())
		if a["faas.name"] != "orders" || a["security_rule.name"] == "" || a["lambda_rasp.action"] != "block" || a["faas.invocation_id"] == "" {
			t.Errorf("record attributes %v", a)
		}
	}
	for _, h := range c.Headers() {
		if h.Get("Authorization") != "Bearer t0ken" {
			t.Errorf("request without the configured header")
			break
		}
	}
	if strings.Contains(e.stderr.String(), "t0ken") {
		t.Error("the extension logged the OTLP header value")
	}
}

// TestOCSFSecurityLog: with LAMBDA_RASP_LOG_FORMAT=ocsf every detection is
// one OCSF Detection Finding line on stdout instead of the JSON security
// log line.
func TestOCSFSecurityLog(t *testing.T) {
	e := newSim(t, fnBin, lambdasim.Config{Env: map[string]string{
		"LAMBDA_RASP_SOCKET":     socketPath(t),
		"LAMBDA_RASP_LOG_FORMAT": "ocsf",
	}})
	attack := apigw("x%27%20UNION%20SELECT%20name%2C%20sql%20FROM%20sqlite_master--")
	perAttack := expectedMatches(t, attack)
	if res := e.invoke(t, attack); !strings.Contains(string(res.Body), "403") {
		t.Fatalf("attack invoke was not blocked: %d %s", res.StatusCode, res.Body)
	}
	e.shutdown(t)
	e.waitEvent(t, func(ev lambdasim.Event) bool {
		return ev.Kind == lambdasim.EventExtensionExit && ev.Name == "lambda-rasp"
	})
	findings := e.stdout.with(`"class_uid":2004`)
	if len(findings) != perAttack {
		t.Errorf("%d OCSF findings, want %d:\n%s", len(findings), perAttack, e.stdout.String())
	}
	for _, l := range findings {
		if !strings.Contains(l, `"resources":[{"type":"AWS::Lambda::Function","name":"orders"}]`) || !strings.Contains(l, `"disposition":"Blocked"`) {
			t.Errorf("finding %s", l)
		}
	}
	if n := len(e.stdout.with(`"logger":"security"`)); n != 0 {
		t.Errorf("%d JSON security log lines besides the findings", n)
	}
}
