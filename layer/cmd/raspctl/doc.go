// Command raspctl checks lambda-rasp policies as code:
//
//	raspctl lint FILE...   validate policies; every problem as file:line:col: rule: message
//	raspctl test FILE...   run each policy's own tests (event files and expected decisions)
//
// "raspctl test" turns each test's event file into fields with the same
// event adapters as the in-process wrapper (package rasp/adapter), so a
// passing test predicts the decision in production.
//
// Exit status: 0 on success, 1 when a policy is invalid or a test fails,
// 2 on usage errors.
package main
