// Package rasp is lambda-rasp's in-process guard for Go Lambda functions.
//
// Wrap a handler once, at init:
//
//	func main() {
//		rasp.Start(handler) // or lambda.Start(rasp.Wrap(lambda.NewHandler(handler)))
//	}
//
// # Input guard
//
// [Wrap] works at aws-lambda-go's byte-level seam (lambda.Handler), so it
// protects every handler signature. Each event is turned into fields by
// package adapter (API Gateway, ALB, function URLs, WebSocket, SQS, SNS,
// EventBridge, S3, Kinesis, DynamoDB Streams, any JSON) and inspected by
// the policy engine (package rules). Then:
//
//   - allowed and monitored events run the handler, whose context carries
//     the [Invocation] ([FromContext]);
//   - blocked HTTP-shaped events get a 403 JSON response in their source's
//     shape ({"message":"Forbidden","requestId":"..."}), configurable with
//     [WithBlockResponse], and never run the handler;
//   - blocked queue, stream and notification events fail with a
//     [*BlockedError] so the platform retries and dead-letters them, or,
//     with [WithPartialBatch] on SQS, Kinesis and DynamoDB Streams, only
//     the offending records are withheld from the handler and reported in
//     batchItemFailures.
//
// # Policy
//
// Without [WithEngine], the first Protector loads the policy the
// environment selects (LAMBDA_RASP_POLICY_URL, LAMBDA_RASP_POLICY,
// /opt/lambda-rasp/policy.yaml, else the embedded default;
// LAMBDA_RASP_MODE forces block, monitor or off). An invalid policy makes
// [New] fail, [Start] exit during init, and a handler from [Wrap] fail
// every invocation, all with the loader's message. With mode off the
// wrapper passes events straight through.
//
// # Sink guards
//
// The request's inspected inputs travel in its context ([FromContext]), so
// the guards at the sinks can tell an input that became code from one that
// stayed data:
//
//   - egress: [HTTPClient], [Transport], [DialContext], [Dialer] and
//     [Protect] decide on the address actually dialled (the dialer's
//     control hook), refuse the metadata service, link-local addresses and
//     the Lambda Runtime API to handler code, and refuse SSRF — a request
//     input steering a URL inward;
//   - SQL: [OpenDB], [WrapDriver] and [WrapConnector] check each statement
//     for a request input that spans SQL tokens, forms a tautology or opens
//     a trailing comment;
//   - exec: [Command] and [CheckCommand] apply the policy's allow list and
//     refuse inputs that span shell tokens or become options;
//   - files: [Open], [ReadFile], [OpenFile], [CheckPath] and [FS] refuse
//     traversal out of the joined directory and denied paths such as
//     /proc/self/environ, symlinks resolved.
//
// A refused call returns a [*BlockedError] before any network, database,
// process or file access; monitor mode reports and lets it through.
//
// # Failures
//
// The guard's own failures (malformed events, a panic in the adapter or
// the engine, the time budget) never crash the function: they are
// counted and decided by the policy's on_error. The customer handler's
// errors and panics pass through untouched.
//
// # Telemetry
//
// One inspection event per invocation and one detection event per match
// go to the lambda-rasp extension as JSON datagrams on a unix socket
// (LAMBDA_RASP_SOCKET, default /tmp/lambda-rasp/events.sock; see package
// wire). Sending never blocks; without the extension, security events are
// logged as JSON lines on stderr (rate-limited) and counted as dropped.
package rasp
