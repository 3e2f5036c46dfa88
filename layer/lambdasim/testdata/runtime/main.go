// Command runtime is a test function for the simulator, built on the real
// aws-lambda-go runtime loop. The payload's "action" selects a behaviour.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Action  string `json:"action"`
	SleepMs int    `json:"sleepMs"`
	Message string `json:"message"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req request
	if err := json.Unmarshal(raw, &req); err != nil {
		return raw, nil
	}
	switch req.Action {
	case "env":
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env, nil
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		return map[string]any{
			"requestId":    lc.AwsRequestID,
			"functionArn":  lc.InvokedFunctionArn,
			"clientCustom": lc.ClientContext.Custom,
			"deadlineMs":   deadline.UnixMilli(),
			"traceId":      ctx.Value("x-amzn-trace-id"),
			"tenantId":     lc.TenantID,
		}, nil
	case "sleep":
		start := time.Now()
		time.Sleep(time.Duration(req.SleepMs) * time.Millisecond)
		return map[string]int64{"start": start.UnixNano(), "end": time.Now().UnixNano()}, nil
	case "error":
		return nil, errors.New(req.Message)
	case "crash":
		fmt.Println("crashing on purpose")
		os.Exit(2)
	case "streamerror":
		// A streamed response whose reader fails midway: aws-lambda-go
		// reports the error in HTTP trailers.
		return io.MultiReader(strings.NewReader("partial"), failingReader{req.Message}), nil
	case "stream":
		// A Function URL response stream whose second chunk waits until
		// the file named by message exists: the caller creates it after
		// it received the first chunk.
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write([]byte("first,"))
			for range 1000 {
				if _, err := os.Stat(req.Message); err == nil {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			_, _ = pw.Write([]byte("second"))
			_ = pw.Close()
		}()
		return &events.LambdaFunctionURLStreamingResponse{StatusCode: 201, Headers: map[string]string{"content-type": "text/plain"}, Body: pr}, nil
	case "big":
		return strings.Repeat("x", req.SleepMs), nil
	case "log":
		fmt.Println(req.Message)
		return map[string]string{"logged": req.Message}, nil
	}
	return raw, nil
}

type failingReader struct{ msg string }

func (f failingReader) Read([]byte) (int, error) { return 0, errors.New(f.msg) }

func main() {
	fmt.Println("runtime starting")
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	switch os.Getenv("SIMTEST_RUNTIME_MODE") {
	case "initerror":
		req, err := http.NewRequest(http.MethodPost, "http://"+api+"/2018-06-01/runtime/init/error",
			strings.NewReader(`{"errorMessage":"config missing","errorType":"ConfigError","stackTrace":[]}`))
		if err != nil {
			os.Exit(4)
		}
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.TestInit")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			fmt.Println("init/error status", resp.StatusCode)
			resp.Body.Close()
		}
		os.Exit(1)
	case "crashinit":
		os.Exit(3)
	case "ignoreterm":
		signal.Ignore(syscall.SIGTERM)
	case "sigterm":
		// Registers the internal extension that asks for SIGTERM before SIGKILL.
		lambda.StartWithOptions(handle, lambda.WithEnableSIGTERM(func() {
			fmt.Println("sigterm received")
			os.Exit(0)
		}))
	}
	lambda.Start(handle)
}
