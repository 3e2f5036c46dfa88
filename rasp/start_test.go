package rasp

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// TestStartExitsOnInvalidPolicy runs Start in a child process: an invalid
// policy must end init with the loader's message and a non-zero status.
func TestStartExitsOnInvalidPolicy(t *testing.T) {
	if os.Getenv("RASP_TEST_START_CHILD") == "1" {
		Start(func() error { return nil })
		return
	}
	bad := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nmode: sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStartExitsOnInvalidPolicy$")
	cmd.Env = append(os.Environ(), "RASP_TEST_START_CHILD=1", "LAMBDA_RASP_POLICY="+bad, "LAMBDA_RASP_POLICY_URL=", "LAMBDA_RASP_MODE=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child exited with %v, want status 1; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "policy.yaml") || !strings.Contains(stderr.String(), "sometimes") {
		t.Errorf("stderr = %q, want the loader's message naming the file and the bad value", stderr.String())
	}
}

func TestSocketFromEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.sock")
	ln := listen(t, path)
	env := map[string]string{EnvSocket: path}
	p, err := New(WithEngine(testEngine(t, "marker.yaml")), withGetenv(func(k string) string { return env[k] }),
		WithFunctionName("fn"), WithSecurityLog(zap.NewNop()))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := p.Wrap(lambda.NewHandler(func(context.Context, any) error { return nil }))
	if _, err := h.Invoke(lambdaCtx("req-9"), []byte(`{"q":"EVIL"}`)); err == nil {
		t.Fatal("Invoke() error = nil, want a BlockedError for a blocked generic event")
	}
	insp, det := receive(t, ln), receive(t, ln)
	if insp.Kind != wire.KindInspection || insp.Action != "block" || insp.Matches != 1 || insp.RequestID != "req-9" || insp.Function != "fn" || insp.EventSource != "json" {
		t.Errorf("inspection event = %+v", insp)
	}
	if det.Kind != wire.KindDetection || det.RuleID != "evil-marker" || det.Path != "body.q" || det.Source != "body" || det.Action != "block" || det.PolicyVersion == "" {
		t.Errorf("detection event = %+v", det)
	}
}
