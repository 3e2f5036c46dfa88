package ingest_test

import (
	"io"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/ingest"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/logging"
	"github.com/lambda-rasp/lambda-rasp/extension/internal/metrics"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// FuzzIngestMetrics feeds arbitrary datagrams through the ingest into the
// metrics and checks that no label ever takes a value from the datagram
// outside its bounded set.
func FuzzIngestMetrics(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"detection","rule":"sqli","cat":"sqli","action":"block","source":"query","src":"apigw-v2"}`))
	f.Add([]byte(`{"v":1,"kind":"detection","rule":"attacker-rule","cat":"attacker-cat","action":"nuke","source":"x"}`))
	f.Add([]byte(`{"v":1,"kind":"egress","class":"evil.example","action":"block","sink":"egress","dropped":18446744073709551615}`))
	f.Add([]byte(`{"v":1,"kind":"inspection","src":"whatever","action":"allow","dur_ns":-5}`))
	f.Add([]byte(`{"v":1,"kind":"sink","sink":"ldap","action":"monitor","fn":"other-function"}`))
	allowed := map[string]map[string]bool{
		"rule":     {"sqli": true, "xss": true, "sqli-sink": true, "egress-deny": true, metrics.Other: true},
		"function": {"orders": true},
		"category": {"sqli": true, "xss": true, "cmdi": true, "traversal": true, "ssrf": true, "jndi": true, "nosql": true, "ssti": true, "proto": true, "crlf": true, "custom": true, "egress": true, "exec": true, "file": true, "argi": true, metrics.Other: true},
		"action":   {"allow": true, "monitor": true, "block": true, metrics.Other: true},
		"decision": {"allow": true, "monitor": true, "block": true, metrics.Other: true},
		"source": {"apigw-v1": true, "apigw-v2": true, "alb": true, "function-url": true, "websocket": true, "sqs": true, "sns": true,
			"eventbridge": true, "s3": true, "kinesis": true, "dynamodb": true, "json": true, "query": true, "path": true, "headers": true,
			"cookies": true, "body": true, "pathParams": true, "record": true, "unknown": true, metrics.None: true, metrics.Other: true},
		"sink":        {"sql": true, "exec": true, "file": true, "egress": true, metrics.Other: true},
		"destination": {"public": true, "private": true, "loopback": true, "link_local": true, "metadata": true, "lambda_api": true, "unspecified": true, metrics.Other: true},
		"reason": {"limits": true, wire.ReasonMalformed: true, wire.ReasonBudget: true, wire.ReasonPanic: true, wire.ReasonCancelled: true,
			wire.ReasonError: true, "malformed": true, "oversized": true, "version": true, metrics.Other: true},
		"status": {metrics.StatusSuccess: true, metrics.StatusError: true, metrics.StatusTimeout: true, metrics.StatusFailure: true, metrics.Other: true},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := metrics.New("orders", []string{"sqli", "xss", "sqli-sink", "egress-deny"}, logging.Security(io.Discard))
		ingest.NewProcessor(m).Process(b)
		mfs, err := m.Registry().Gather()
		if err != nil {
			t.Fatalf("Gather() after %q: %v", b, err)
		}
		for _, mf := range mfs {
			for _, s := range mf.GetMetric() {
				for _, lp := range s.GetLabel() {
					if set, ok := allowed[lp.GetName()]; ok && !set[lp.GetValue()] {
						t.Fatalf("%s{%s=%q} from %q", mf.GetName(), lp.GetName(), lp.GetValue(), b)
					}
				}
			}
		}
	})
}
