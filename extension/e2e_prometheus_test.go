package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"

	"github.com/lambda-rasp/lambda-rasp/extension/internal/promtest"
)

// TestMetricsReachPrometheusAndPushgateway runs the built extension and a
// wrapped function in the simulator with remote write to a real
// Prometheus and push to a real Pushgateway, sends benign and attack
// invokes, shuts down, and reads the blocked-event series back through
// Prometheus's HTTP API and the Pushgateway's /metrics.
func TestMetricsReachPrometheusAndPushgateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Prometheus and Pushgateway")
	}
	promAddr, pgAddr := promtest.Prometheus(t), promtest.Pushgateway(t)

	e := newSim(t, fnBin, lambdasim.Config{Env: map[string]string{
		"LAMBDA_RASP_SOCKET":           socketPath(t),
		"LAMBDA_RASP_REMOTE_WRITE_URL": "http://" + promAddr + "/api/v1/write",
		"LAMBDA_RASP_PUSHGATEWAY_URL":  "http://" + pgAddr,
		"LAMBDA_RASP_FLUSH_INTERVAL":   "1h", // SHUTDOWN exports
	}})
	const attacks, benign = 3, 4
	for range benign {
		e.invoke(t, apigw("shoes"))
	}
	for range attacks {
		if res := e.invoke(t, apigw(attackQuery)); !strings.Contains(string(res.Body), `"statusCode":403`) {
			t.Fatalf("attack not blocked: %s", res.Body)
		}
	}
	e.shutdown(t)

	resp, err := http.Get("http://" + promAddr + "/api/v1/query?query=" +
		url.QueryEscape(`lambda_rasp_inspections_total{job="lambda-rasp",function="orders",decision="block"}`))
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		Status string
		Data   struct {
			Result []struct {
				Metric map[string]string
				Value  [2]any
			}
		}
	}
	err = json.NewDecoder(resp.Body).Decode(&q)
	resp.Body.Close()
	if err != nil || q.Status != "success" || len(q.Data.Result) != 1 || q.Data.Result[0].Value[1] != fmt.Sprint(attacks) {
		t.Errorf("Prometheus query for blocked inspections = %+v (%v), want one series of %d", q, err, attacks)
	}

	resp, err = http.Get("http://" + pgAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	found := false
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, "lambda_rasp_inspections_total{") && strings.Contains(l, `decision="block"`) &&
			strings.Contains(l, `function="orders"`) && strings.Contains(l, `job="lambda-rasp"`) && strings.HasSuffix(l, fmt.Sprint(" ", attacks)) {
			found = true
		}
	}
	if !found {
		t.Errorf("Pushgateway /metrics has no blocked series of %d:\n%s", attacks, body)
	}
}
