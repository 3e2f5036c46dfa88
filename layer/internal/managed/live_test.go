package managed

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// appConfigAgent is a local server speaking the AWS AppConfig agent's HTTP
// API: GET /applications/{app}/environments/{env}/configurations/{profile}
// answers the deployed content with its Configuration-Version.
type appConfigAgent struct {
	mu      sync.Mutex
	content string
	version int
	served  map[int]int // polls answered per version
}

const agentPath = "/applications/orders/environments/prod/configurations/rasp-policy"

func (a *appConfigAgent) deploy(content string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.content, a.version = content, a.version+1
	return a.version
}

// polls returns how many polls version v answered.
func (a *appConfigAgent) polls(v int) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.served[v]
}

func (a *appConfigAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != agentPath {
		http.Error(w, "ResourceNotFoundException", http.StatusNotFound)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.served == nil {
		a.served = map[int]int{}
	}
	a.served[a.version]++
	w.Header().Set("Configuration-Version", fmt.Sprint(a.version))
	w.Header().Set("Content-Type", "application/x-yaml")
	fmt.Fprint(w, a.content)
}

// markerPolicy blocks any input containing word.
func markerPolicy(word string) string {
	return "version: 1\nname: live\nmode: block\nlimits:\n  budget: 1s\ninputs:\n  - id: marker-" +
		strings.ToLower(word) + "\n    match: {regex: '" + word + "'}\n"
}

// TestLivePolicy rolls policies out through a local AppConfig agent to a
// function started with rasp.Start and the extension, running in the
// simulator: a new policy changes verdicts without a restart, and a
// broken one in the middle of the rollout changes nothing.
func TestLivePolicy(t *testing.T) {
	agent := &appConfigAgent{}
	agent.deploy(markerPolicy("ALPHA"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: agent, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	// A loopback port chosen free for the extension's /metrics.
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := probe.Addr().String()
	probe.Close()

	const interval = time.Second
	s, out, _ := simFunction(t, map[string]string{
		"LAMBDA_RASP_POLICY_URL":           "http://" + ln.Addr().String() + agentPath,
		"LAMBDA_RASP_POLICY_POLL_INTERVAL": interval.String(),
		"LAMBDA_RASP_METRICS_ADDR":         metricsAddr,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	blocked := func(token string) bool {
		t.Helper()
		res, err := s.Invoke(ctx, apigw("/echo", map[string]string{"token": token}))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.Contains(string(res.Body), `"statusCode":403`):
			return true
		case strings.Contains(string(res.Body), `"statusCode":200`):
			return false
		}
		t.Fatalf("invoke %s: unexpected response %s (error type %q)", token, res.Body, res.ErrorType)
		return false
	}
	// verdicts waits (a few poll intervals at most) until tokens a and b
	// get the wanted verdicts.
	verdicts := func(a string, wantA bool, b string, wantB bool) {
		t.Helper()
		deadline := time.Now().Add(10 * interval)
		for {
			gotA, gotB := blocked(a), blocked(b)
			if gotA == wantA && gotB == wantB {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("blocked(%s), blocked(%s) = %v, %v; want %v, %v", a, b, gotA, gotB, wantA, wantB)
			}
			time.Sleep(interval / 10)
		}
	}

	verdicts("ALPHA", true, "BETA", false)

	agent.deploy(markerPolicy("BETA"))
	verdicts("ALPHA", false, "BETA", true)

	// A broken policy mid-rollout: polled by both processes, rejected by
	// both, the active policy stays.
	broken := agent.deploy(markerPolicy("GAMMA") + "  - id: bad\n    match: {regex: '('}\n")
	for agent.polls(broken) < 4 { // two polls from each process
		if ctx.Err() != nil {
			t.Fatal("the broken policy was not polled")
		}
		time.Sleep(interval / 10)
	}
	if !blocked("BETA") || blocked("GAMMA") || blocked("ALPHA") {
		t.Fatal("a broken policy changed verdicts")
	}

	fixed := markerPolicy("GAMMA")
	agent.deploy(fixed)
	verdicts("BETA", false, "GAMMA", true)

	// The extension polled the same URL: lambda_rasp_policy_info names the
	// version the function enforces.
	p, err := policy.Parse("fixed", []byte(fixed))
	if err != nil {
		t.Fatal(err)
	}
	want := p.ContentVersion()
	for deadline := time.Now().Add(10 * interval); ; time.Sleep(interval / 10) {
		info := scrapePolicyInfo(t, metricsAddr)
		if strings.Contains(info, `version="`+want+`"`) && strings.Count(info, "\n") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lambda_rasp_policy_info = %q, want one series with version %s", info, want)
		}
	}

	if err := s.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		t.Fatal(err)
	}
	// The security events carry the version that decided them, and the
	// extension followed the rollout: one failure report for the broken
	// policy's streak, the recovery, the fixed policy's version.
	log := out.String()
	found := false
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"rule":"marker-gamma"`) {
			found = true
			if !strings.Contains(line, `"policy_version":"`+want+`"`) {
				t.Errorf("security event %s: want policy version %s", line, want)
			}
		}
	}
	if !found {
		t.Error("no security event of rule marker-gamma")
	}
	if n := strings.Count(log, "policy update failed"); n != 1 {
		t.Errorf("the extension reported the broken policy %d times, want once per failure streak", n)
	}
	for _, s := range []string{"policy polling recovered", `"policy updated","version":"` + want + `"`} {
		if !strings.Contains(log, s) {
			t.Errorf("the extension's log lacks %q", s)
		}
	}
}

// scrapePolicyInfo returns the lambda_rasp_policy_info series of the
// extension's /metrics at addr, one a line.
func scrapePolicyInfo(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var series strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "lambda_rasp_policy_info{") {
			series.WriteString(line + "\n")
		}
	}
	return series.String()
}
