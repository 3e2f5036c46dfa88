// Package managed tests lambda-rasp on Lambda Managed Instances, where one
// process serves several invocations at once: aws-lambda-go runs
// AWS_LAMBDA_MAX_CONCURRENCY Runtime API poll loops on one handler.
//
// Its tests drive thousands of concurrent invocations of a function built
// with rasp.Start (testdata/fn: API Gateway HTTP API routes, one of which
// reads a file through rasp.ReadFile, and SQS batches with partial batch
// responses) and check that every caller got exactly its own response and
// verdict: through the local simulator (layer/lambdasim) in every test
// run, and through AWS's Runtime Interface Emulator in managed-instances
// mode when ../shared/tools/aws-lambda-rie is present. Invokes refused
// with Runtime.Unavailable (no poll loop waiting) are retried, as a load
// balancer does.
package managed
