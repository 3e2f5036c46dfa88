// Command demo is what "make demo" runs: it builds the layer and the
// example function in layer/demo/fn, runs them in the local Lambda
// simulator (package lambdasim) and sends two phases of traffic:
//
//  1. the default policy in block mode (with the production egress recipe:
//     deny by default, allow the partner API the function calls), with
//     benign requests and attacks in every position across API Gateway REST
//     and HTTP APIs, ALB, Function URL and SQS events;
//  2. the same policy with the input rules in monitor mode, as during a
//     rollout, so the exploits reach the function and the sink guards (SQL,
//     file, egress) stop them at the point of harm.
//
// A baseline with LAMBDA_RASP_MODE=off measures the overhead. The report
// shows per-source outcomes, the refused responses, the rules that fired,
// the latency and the metrics the extension exported, and [Run] fails with
// [ErrUnexpected] when a benign request is refused, an attack gets through
// or the extension's counts disagree with what the callers saw.
//
//	go run ./layer/demo [-v] [-keep] [-quick] [-prometheus http://127.0.0.1:9090]
//
// It exits 0 when every benign request was served and every attack
// stopped, 1 otherwise.
package main
