// Command demo is what "make demo" runs: it builds the lambda-rasp layer
// and an example function, runs both in the local Lambda simulator with
// the default policy, sends benign and attack traffic across API Gateway,
// ALB, Function URL and SQS events, and shows what was allowed, blocked
// and measured.
//
//	go run ./layer/cmd/demo [-v] [-keep] [-prometheus http://127.0.0.1:9090]
//
// It exits 0 when every benign request was served and every attack
// stopped, 1 otherwise.
package main
