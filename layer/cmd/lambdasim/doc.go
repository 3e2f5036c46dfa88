// Command lambdasim runs a function binary and its extensions in a local
// Lambda execution environment and serves the invoke endpoint
// (POST /2015-03-31/functions/function/invocations) until SIGTERM or SIGINT,
// which trigger the Shutdown phase.
//
// Usage:
//
//	lambdasim --bootstrap PATH [--extensions DIR] [--timeout 3s] [--managed]
//	          [--addr 127.0.0.1:9000] [--env KEY=VALUE]...
//
// Then:
//
//	curl -d '{"hello":"world"}' http://127.0.0.1:9000/2015-03-31/functions/function/invocations
package main
