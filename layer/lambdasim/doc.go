// Package lambdasim is a local AWS Lambda execution environment for tests
// and demos: it runs a real function binary (`bootstrap`) and real external
// extensions as child processes and serves them the Lambda Runtime API
// (2018-06-01), Extensions API (2020-01-01) and Telemetry API (2022-07-01)
// on one loopback listener, plus the invoke endpoint
// (POST /2015-03-31/functions/function/invocations) on a second one.
//
// # Usage
//
//	sim, err := lambdasim.New(lambdasim.Config{
//		Bootstrap:     "build/bootstrap",
//		ExtensionsDir: "build/extensions",
//		Env:           map[string]string{"LAMBDA_RASP_MODE": "block"},
//		Stdout:        os.Stdout,
//	})
//	if err != nil { ... }
//	defer sim.Shutdown(ctx, lambdasim.ReasonSpindown)
//	if err := sim.Start(ctx); err != nil { ... } // *InitError on a failed Init
//	res, err := sim.Invoke(ctx, []byte(`{"path":"/"}`))
//
// BuildGo compiles a bootstrap or an extension the way the layer is built,
// typically once in TestMain.
//
// Invoke returns a Result shaped like the invoke endpoint's HTTP answer:
// 200 with the response; 200 with the error JSON and FunctionError
// "Unhandled" for a function error or timeout; 502 with errorType
// "Runtime.ExitError" when the runtime crashed, or with the Init error type
// ("Extension.Crash", "Runtime.ExitError", the type an init/error call
// gave, "Sandbox.Timedout") when Init failed.
//
// # Lifecycle
//
// Init starts every executable file of ExtensionsDir in parallel (at most
// MaxExtensions); each must register under its file name before the runtime
// starts. An extension that exits first fails Init with "Extension.Crash".
// Init ends when the runtime and every extension called next; it is bounded
// by Config.InitTimeout (10 s by default). A failed Init is retried by the
// next Invoke.
//
// An invoke sends INVOKE to the extensions registered for it and the event
// to the runtime. Its response is returned as soon as the runtime posts it;
// the invoke phase lasts until the runtime and every INVOKE extension called
// next again, and the next invoke waits for it. The function timeout covers both. A
// timeout resets the environment: SHUTDOWN with reason "timeout", the
// runtime is killed and the next invoke initialises a new generation (new
// extension identifiers). A runtime crash resets with reason "failure".
//
// Shutdown (and a reset) depends on who registered. With external
// extensions the runtime gets SIGTERM and 30 % of the budget
// (Config.ShutdownBudget, 2 000 ms by default), then SIGKILL; extensions
// registered for SHUTDOWN then get the event with deadlineMs at the end of
// the budget and are killed at that deadline; the others are killed at once.
// With only internal extensions (e.g. aws-lambda-go's
// lambda.WithEnableSIGTERM) the runtime gets SIGTERM and at most 500 ms;
// with none it is killed at once.
//
// Managed-instances mode (Config.ManagedInstances) follows Lambda Managed
// Instances: AWS_LAMBDA_INITIALIZATION_TYPE=lambda-managed-instances,
// extensions may register only for SHUTDOWN, the runtime gets
// AWS_LAMBDA_MAX_CONCURRENCY (aws-lambda-go then runs that many Runtime API
// poll loops in one process) and invokes run concurrently, one per waiting
// poll loop. An invoke no poll loop waits for is refused at once with 400
// and ErrorTypeUnavailable, as AWS's emulator does (no queue): load drivers
// retry it. The Telemetry API requires schema 2025-01-29 and sends
// platform.report without platform.runtimeDone.
//
// # Responses
//
// The runtime's response keeps its content type (Result.ContentType; the
// invoke endpoint answers with it). InvokeOptions.Stream asks for it as a
// stream, like InvokeWithResponseStream: Result.Stream delivers the bytes
// as the runtime posts them, and a function error midway (aws-lambda-go
// sends it in HTTP trailers) ends the stream with a *StreamError.
// InvokeOptions.TenantID (the invoke endpoint's X-Amz-Tenant-Id header)
// reaches the runtime as Lambda-Runtime-Aws-Tenant-Id, as in tenant
// isolation mode.
//
// # Telemetry
//
// Extensions may subscribe during Init with an HTTP destination on
// sandbox.localdomain (mapped to 127.0.0.1) or a TCP port (NDJSON). Buffering limits are validated
// like the service does; batches are JSON arrays of {time, type, record}
// delivered when maxItems, maxBytes or timeoutMs is reached, and once more
// before SHUTDOWN. Platform events: initStart, telemetrySubscription,
// initRuntimeDone, extension, initReport, start, runtimeDone, report;
// "function" and "extension" records are the children's output lines.
// Config.ClassicTelemetry stubs the API like the classic emulator.
//
// # Observability
//
// Children's output is copied line by line to Config.Stdout/Stderr with a
// "[name] " prefix. Events returns the lifecycle log (registrations, events
// sent, next calls, signals, exits, kills) for assertions in tests;
// Config.OnEvent receives it live.
//
// # Differences from the service
//
// The sandbox is frozen between invokes only with Config.Freeze (SIGSTOP and
// SIGCONT of the process groups); otherwise extension goroutines keep
// running. The Logs API is not offered (202 Logs.NotSupported); in
// managed-instances mode a timeout fails only its request and does not
// reset the environment; memory is not limited (maxMemoryUsedMB is the
// children's measured peak RSS).
package lambdasim
