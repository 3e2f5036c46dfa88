// Command fn is the demo function: a small product API protected by
// lambda-rasp, written the way a real Go Lambda function would be — a SQL
// query, an outbound HTTP call and a file read — and deliberately careless
// in each (string-built SQL, a fetch of a caller-supplied URL, a file name
// from the query), so the demo can show the input guard and the sink
// guards stopping what gets through.
//
// It serves API Gateway REST and HTTP APIs, ALB and Function URL events,
// and SQS batches (orders, with partial batch responses):
//
//	GET  /products?search=TERM   SQL LIKE query on an in-memory SQLite table,
//	                             with live prices from the partner API
//	GET  /preview?url=URL        fetches a caller-supplied URL (link preview)
//	GET  /docs?name=FILE         reads FILE from the assets directory
//	POST /orders                 JSON body {"product": "...", "note": "..."}
//
// Environment: DEMO_PARTNER_URL (the partner price API; unset skips live
// prices), DEMO_ASSETS (directory for /docs, default
// $LAMBDA_TASK_ROOT/assets).
package main
