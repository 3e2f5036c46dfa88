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
//	raspctl egress suggest [--min-count N] [FILE...]
//	                       turn egress discovery summaries (log lines, or a
//	                       CloudWatch Logs Insights export) into the smallest
//	                       egress.allow list that allows what was seen
//
// Every command takes --format text|json (scan defaults to json, the
// others to text) and exits 0 when done with nothing found, 1 on
// findings (lint: a policy has problems; test: a test fails or a policy is
// invalid; scan and explain: an event matched a rule or could not be
// decided; egress suggest: the list may be incomplete), 2 on a usage
// error or an input or output that cannot be read or written.
//
// "raspctl test", "scan" and "explain" turn each test's event file into fields with the same
// event adapters as the in-process wrapper (package rasp/adapter), so a
// passing test (or a clean scan) predicts the decision in production.
package main
