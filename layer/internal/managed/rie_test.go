package managed

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// rieBinary is AWS's Runtime Interface Emulator, outside the repository.
const rieBinary = "../../../../shared/tools/aws-lambda-rie/aws-lambda-rie-x86_64"

// The paths AWS's emulator runs a function from; these tests are their
// only users, create them and remove them afterwards.
const (
	taskDir       = "/var/task"
	extensionsDir = "/opt/extensions"
)

// freeAddr returns a loopback address free at the time of the call.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// claimDir creates dir for the test and removes it afterwards; it skips
// the test when dir already exists (someone else's function).
func claimDir(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); err == nil {
		t.Skipf("%s exists: not overwriting another function", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot create %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
}

// TestConcurrentInvokesRIE runs the load of TestConcurrentInvokes under
// AWS's own emulator in managed-instances mode (AWS_LAMBDA_MAX_CONCURRENCY=8:
// 8 poll loops, an invoke refused with 400 Runtime.Unavailable when none
// waits, processes run as an unprivileged user): an independent check of
// what the simulator shows.
func TestConcurrentInvokesRIE(t *testing.T) {
	rie, err := filepath.Abs(rieBinary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rie); err != nil {
		t.Skipf("AWS's emulator is not here (%s): the simulator's TestConcurrentInvokes covers the same load", rieBinary)
	}
	if testing.Short() {
		t.Skip("-short")
	}
	claimDir(t, taskDir)
	claimDir(t, extensionsDir)
	copyExecutable(t, fnBin, filepath.Join(taskDir, "bootstrap"))
	copyExecutable(t, extBin, filepath.Join(extensionsDir, "lambda-rasp"))
	data := filepath.Join(taskDir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeData(t, data)
	policy := testPolicy(t, taskDir)
	// The emulator runs the function and the extension as another user:
	// the socket's directory must be theirs to write.
	sockDir := t.TempDir()
	if err := os.Chmod(sockDir, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{taskDir, filepath.Join(taskDir, "bootstrap"), policy, extensionsDir, filepath.Join(extensionsDir, "lambda-rasp")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, fi.Mode().Perm()|0o555); err != nil {
			t.Fatal(err)
		}
	}

	addr := freeAddr(t)
	out := &syncBuffer{}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", freeAddr(t), filepath.Join(taskDir, "bootstrap"))
	cmd.Dir = taskDir
	cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_MAX_CONCURRENCY=8", "AWS_LAMBDA_FUNCTION_NAME=fn", "AWS_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30",
		"FN_DATA_DIR="+data, "LAMBDA_RASP_POLICY="+policy, "LAMBDA_RASP_SOCKET="+filepath.Join(sockDir, "events.sock"),
		"GORACE=halt_on_error=1 exitcode=66")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // runs the SHUTDOWN phase
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("emulator output (last 8 KB):\n%s", tail(out.String(), 8<<10))
		}
	})

	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	client := &http.Client{Timeout: 60 * time.Second}
	invoke := func(ctx context.Context, c *call) (result, bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(c.payload))
		if err != nil {
			return result{}, false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return result{}, false, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return result{}, false, err
		}
		res := result{status: resp.StatusCode, body: body, errorType: resp.Header.Get("Error-Type")}
		return res, res.errorType == lambdasim.ErrorTypeUnavailable, nil
	}
	waitReady(t, url)
	drive(t, invoke, makeCalls(1000, false), 8, false)
}

// waitReady waits until the emulator accepts connections.
func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url) // wrong method: any answer means it listens
		if err == nil {
			resp.Body.Close()
			return
		}
		var op *net.OpError
		if time.Now().After(deadline) || !errors.As(err, &op) {
			t.Fatalf("the emulator did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
