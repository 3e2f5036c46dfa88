package otele2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// EnvCollector names the collector binary (built by `make otele2e` from
// ./cmd/otelcol).
const EnvCollector = "LAMBDA_RASP_OTELCOL"

var extDir, fnBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "otele2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	extDir = filepath.Join(dir, "extensions")
	fnBin = filepath.Join(dir, "fn", "bootstrap")
	root := filepath.Join("..", "..")
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, b := range []struct{ pkg, out string }{
		{"./extension", filepath.Join(extDir, "lambda-rasp")},
		{"./extension/testdata/fn", fnBin},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = lambdasim.BuildGo(ctx, root, b.pkg, b.out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading
// test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startCollector runs the collector on loopback: OTLP/HTTP on recv,
// deltatocumulative, Prometheus exporter on prom. It stops with the test.
func startCollector(t *testing.T) (recv, prom string) {
	t.Helper()
	bin := os.Getenv(EnvCollector)
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; .ci/run builds the collector (make otele2e)", EnvCollector)
		}
		t.Skipf("%s is not set: run make otele2e, which builds the collector", EnvCollector)
	}
	recv, prom = freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
processors:
  deltatocumulative: {}
exporters:
  prometheus:
    endpoint: %s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [otlp]
      processors: [deltatocumulative]
      exporters: [prometheus]
`, recv, prom)
	file := filepath.Join(t.TempDir(), "collector.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "--config", file)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() { exitErr = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("collector output:\n%s", out.String())
		}
	})
	// Ready when both listeners accept.
	deadline := time.Now().Add(60 * time.Second)
	for _, a := range []string{recv, prom} {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				c.Close()
				break
			}
			select {
			case <-done:
				t.Fatalf("collector exited: %v\n%s", exitErr, out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("collector not listening on %s:\n%s", a, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return recv, prom
}

func apigw(query string) string {
	return `{"version":"2.0","routeKey":"GET /items","rawPath":"/items","rawQueryString":"q=` + query +
		`","headers":{"host":"api.example.com"},"queryStringParameters":{"q":"` + query +
		`"},"requestContext":{"http":{"method":"GET","path":"/items","sourceIp":"203.0.113.9"},"requestId":"rc-1","routeKey":"GET /items","stage":"$default"},"isBase64Encoded":false}`
}

// matches is how many detections the default policy reports for payload.
func matches(t *testing.T, payload string) int {
	t.Helper()
	eng, err := rules.LoadEnv(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ev, err := adapter.Parse([]byte(payload), adapter.PolicyLimits(eng.Limits()))
	if err != nil {
		t.Fatal(err)
	}
	d := eng.Inspect(context.Background(), &ev.Request)
	if d.Action != rules.ActionBlock {
		t.Fatalf("payload is not blocked by the default policy: %v", d.Action)
	}
	return len(d.Matches)
}

// coldStart runs one execution environment of function "orders": Init,
// the invokes, SHUTDOWN.
func coldStart(t *testing.T, env map[string]string, payloads []string) {
	t.Helper()
	var out syncBuffer
	sim, err := lambdasim.New(lambdasim.Config{Bootstrap: fnBin, ExtensionsDir: extDir, FunctionName: "orders",
		Env: env, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, p := range payloads {
		if _, err := sim.Invoke(ctx, []byte(p)); err != nil {
			t.Fatalf("invoke: %v\n%s", err, out.String())
		}
	}
	if err := sim.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		t.Fatalf("shutdown: %v\n%s", err, out.String())
	}
	if s := out.String(); strings.Contains(s, `"msg":"export failed"`) || strings.Contains(s, `"msg":"export timed out"`) {
		t.Fatalf("an export failed:\n%s", s)
	}
}

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := expfmt.NewDecoder(resp.Body, expfmt.NewFormat(expfmt.TypeTextPlain))
	out := map[string]*dto.MetricFamily{}
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			break
		}
		out[mf.GetName()] = &mf
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// TestFleetRecipe: 60 cold starts of one function push OTLP deltas to a
// real collector running deltatocumulative; its Prometheus output holds
// one series per label set of the function (nothing per environment) and
// the exact totals.
func TestFleetRecipe(t *testing.T) {
	recv, prom := startCollector(t)
	attack := apigw("x%27%20UNION%20SELECT%20name%2C%20sql%20FROM%20sqlite_master--")
	perAttack := matches(t, attack)
	const coldStarts = 60
	var wantAllow, wantBlock int
	for i := 0; i < coldStarts; i++ {
		env := map[string]string{
			"LAMBDA_RASP_SOCKET":                  filepath.Join(t.TempDir(), "events.sock"),
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://" + recv + "/v1/metrics",
			"LAMBDA_RASP_FLUSH_INTERVAL":          "1h", // SHUTDOWN exports
			"LAMBDA_RASP_TELEMETRY":               "off",
		}
		if i%2 == 1 {
			env["LAMBDA_RASP_FLUSH_INTERVAL"] = "1ns" // and after every invoke
		}
		payloads := []string{apigw("shoes")}
		wantAllow++
		if i%3 == 0 {
			payloads = append(payloads, attack, apigw("socks"))
			wantBlock++
			wantAllow++
		}
		coldStart(t, env, payloads)
	}
	want := map[string]float64{"allow": float64(wantAllow), "block": float64(wantBlock)}
	var mfs map[string]*dto.MetricFamily
	// The exporter serves what the processor has accumulated; the last
	// SHUTDOWN's export may take a moment to arrive.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		mfs = scrape(t, prom)
		got := map[string]float64{}
		for _, m := range mfs["lambda_rasp_inspections_total"].GetMetric() {
			got[labels(m)["decision"]] += m.GetCounter().GetValue()
		}
		if got["allow"] == want["allow"] && got["block"] == want["block"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inspections_total by decision = %v, want %v", got, want)
		}
	}
	insp := mfs["lambda_rasp_inspections_total"]
	if n := len(insp.GetMetric()); n != 2 {
		t.Errorf("%d inspections_total series, want 2 (allow, block) for the whole fleet:\n%v", n, insp)
	}
	for name, mf := range mfs {
		if !strings.HasPrefix(name, "lambda_rasp_") {
			continue
		}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			ls := labels(m)
			if ls["function"] != "orders" || ls["job"] != "orders" {
				t.Errorf("%s series %v: want function and job orders", name, ls)
			}
			if ls["instance"] != "" {
				t.Errorf("%s series %v names an environment", name, ls)
			}
			key := fmt.Sprint(model.LabelSet(toLabelSet(ls)))
			if seen[key] {
				t.Errorf("%s: duplicate series %v", name, ls)
			}
			seen[key] = true
		}
	}
	var detections float64
	for _, m := range mfs["lambda_rasp_detections_total"].GetMetric() {
		detections += m.GetCounter().GetValue()
	}
	if detections != float64(wantBlock*perAttack) {
		t.Errorf("detections_total = %v, want %d", detections, wantBlock*perAttack)
	}
	var observed uint64
	for _, m := range mfs["lambda_rasp_inspection_duration_seconds"].GetMetric() {
		observed += m.GetHistogram().GetSampleCount()
	}
	if observed != uint64(wantAllow+wantBlock) {
		t.Errorf("inspection_duration_seconds count = %d, want %d", observed, wantAllow+wantBlock)
	}
	t.Logf("%d cold starts: allow %v, block %v, detections %v; %d lambda_rasp families",
		coldStarts, want["allow"], want["block"], detections, len(mfs))
}

func toLabelSet(ls map[string]string) model.LabelSet {
	out := model.LabelSet{}
	for k, v := range ls {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}
