// Package observability_test validates the security team's views: the
// Prometheus alert rules (with promtool), the Grafana dashboard's queries,
// and the metric names both rely on.
package observability_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// metricNames are the metrics the extension exports (README, "Metrics").
var metricNames = map[string]bool{
	"lambda_rasp_inspections_total":                  true,
	"lambda_rasp_detections_total":                   true,
	"lambda_rasp_egress_total":                       true,
	"lambda_rasp_sink_checks_total":                  true,
	"lambda_rasp_events_dropped_total":               true,
	"lambda_rasp_inspection_duration_seconds":        true,
	"lambda_rasp_inspection_duration_seconds_bucket": true,
	"lambda_rasp_invocations_total":                  true,
	"lambda_rasp_policy_info":                        true,
	"lambda_rasp_export_errors_total":                true,
	"lambda_rasp_ingest_errors_total":                true,
	"lambda_rasp_incomplete_inspections_total":       true,
}

var metricRef = regexp.MustCompile(`lambda_rasp_[a-z_]+`)

// promtool returns the promtool binary, skipping the test when it is
// missing outside CI (.ci/run installs it).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool not found; .ci/run installs the Debian package prometheus")
		}
		t.Skip("promtool not found (apt-get install prometheus)")
	}
	return p
}

func TestAlertRules(t *testing.T) {
	bin := promtool(t)
	for _, args := range [][]string{
		{"check", "rules", "alerts.yaml"},
		{"test", "rules", "alerts_test.yaml"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	data, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkMetricNames(t, "alerts.yaml", string(data))
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID         int    `json:"id"`
		Title      string `json:"title"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile("grafana/lambda-rasp.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("dashboard needs a uid and a title for provisioning")
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	for _, want := range []string{"datasource", "function"} {
		if !vars[want] {
			t.Errorf("dashboard lacks the $%s variable", want)
		}
	}
	var exprs []string
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("duplicate panel id %d", p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the $datasource variable", p.Title)
		}
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q has an invalid width/position", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
			checkMetricNames(t, p.Title, tg.Expr)
		}
	}
	// Every query must be valid PromQL: check them as recording rules with
	// promtool, Grafana's variables replaced by concrete values.
	bin := promtool(t)
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	r := strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$function", ".*")
	for i, e := range exprs {
		fmt.Fprintf(&rules, "      - record: dashboard:query%d\n        expr: %q\n", i, r.Replace(e))
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "check", "rules", file).CombinedOutput(); err != nil {
		t.Errorf("dashboard queries are not valid PromQL: %v\n%s", err, out)
	}
}

func checkMetricNames(t *testing.T, where, text string) {
	t.Helper()
	for _, m := range metricRef.FindAllString(text, -1) {
		if !metricNames[m] {
			t.Errorf("%s uses unknown metric %s", where, m)
		}
	}
}
