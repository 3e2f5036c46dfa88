// Command raspctl checks lambda-rasp policies as code:
//
//	raspctl lint FILE...   validate policies; every problem as file:line:col: rule: message
//	raspctl test FILE...   run each policy's own tests (event files and expected decisions)
//	raspctl scan [--policy FILE] < EVENTS.jsonl
//	                       decide a stream of events (one JSON event per line on
//	                       stdin), one JSON result per line, e.g. to replay
//	                       recorded traffic against a candidate policy
//	raspctl explain [--policy FILE] EVENT.json
//	                       show every field extracted from one event, the rules
//	                       that ran on it, what matched and the final decision
//
// "raspctl test", "scan" and "explain" turn each test's event file into fields with the same
// event adapters as the in-process wrapper (package rasp/adapter), so a
// passing test (or a clean scan) predicts the decision in production.
//
// Exit status: 0 on success, 1 when a policy is invalid or a test fails,
// 2 on usage errors.
package main
