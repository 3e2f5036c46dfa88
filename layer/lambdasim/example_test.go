package lambdasim_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// A bootstrap that exits during Init fails Start with an *InitError, and
// the invoke endpoint answers 502 with the same error type.
func ExampleSim_Start() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	bootstrap := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bootstrap, []byte("#!/bin/sh\necho missing configuration >&2\nexit 3\n"), 0o755); err != nil {
		fmt.Println(err)
		return
	}

	sim, err := lambdasim.New(lambdasim.Config{Bootstrap: bootstrap, Stderr: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer sim.Shutdown(ctx, lambdasim.ReasonSpindown)

	var ie *lambdasim.InitError
	if err := sim.Start(ctx); errors.As(err, &ie) {
		fmt.Println("init failed:", ie.Type)
	}
	res, err := sim.Invoke(ctx, []byte(`{}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode, res.ErrorType)
	// Output:
	// [runtime] missing configuration
	// init failed: Runtime.ExitError
	// [runtime] missing configuration
	// 502 Runtime.ExitError
}

// Invoke cold-starts the environment and returns the function's response;
// here the function is the echo runtime built from testdata/runtime with
// the real aws-lambda-go package.
func ExampleSim_Invoke() {
	sim, err := lambdasim.New(lambdasim.Config{Bootstrap: runtimeBin, FunctionName: "hello"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := sim.Invoke(ctx, []byte(`{"greeting":"hi"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.StatusCode, string(res.Body))
	if err := sim.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 200 {"greeting":"hi"}
}
