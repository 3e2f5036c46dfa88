package rasp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// testEngine compiles a policy from testdata/policies, with edits applied
// as old→new string replacements.
func testEngine(t testing.TB, name string, edits ...string) *rules.Engine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "policies", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		s = strings.ReplaceAll(s, edits[i], edits[i+1])
	}
	p, err := policy.Parse(name, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "budget") {
		// The race detector on a loaded machine makes an inspection take
		// several times its production time (4-9 ms for an API Gateway v1
		// event, past the 2 ms default): the tests here are not about the
		// time budget, so it must not decide them.
		p.Limits.Budget = time.Second
	}
	e, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// testProtector builds a Protector on the marker policy whose events go
// to a socket nobody listens on and whose local log is discarded.
func testProtector(t testing.TB, opts ...Option) *Protector {
	t.Helper()
	base := []Option{
		WithEngine(testEngine(t, "marker.yaml")),
		WithSocket(filepath.Join(t.TempDir(), "none.sock")),
		WithSecurityLog(zap.NewNop()),
		WithFunctionName("orders"),
	}
	p, err := New(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// lambdaCtx returns a context as the Lambda runtime builds it.
func lambdaCtx(requestID string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: requestID})
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inject replaces the first occurrence of old in the fixture by new.
func inject(t testing.TB, name, old, new string) []byte {
	t.Helper()
	s := string(readFixture(t, name))
	if !strings.Contains(s, old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	return []byte(strings.Replace(s, old, new, 1))
}
