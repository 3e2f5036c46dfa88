// Package adapter turns raw Lambda event bytes into the fields the policy
// engine inspects.
//
// [Parse] detects the event source from the payload's shape (API Gateway
// REST and HTTP APIs, ALB, function URLs, WebSocket, SQS, SNS,
// EventBridge, S3, Kinesis, DynamoDB Streams, or any other JSON) and
// extracts every attacker-controllable value as a [rules.Field] with a
// stable, readable path such as "body.user.name", "headers.user-agent" or
// "record[3].body.order.note". Names (JSON keys, header, cookie, query and
// form field names) are fields too, with Key set.
//
// # Bodies
//
// HTTP bodies are decoded by Content-Type: JSON, form-urlencoded,
// multipart (field names, values and filenames as sent) and text; an
// unknown type, application/octet-stream included, is inspected as text.
// isBase64Encoded is honoured and gzip or deflate Content-Encoding is
// inflated up to [Limits.MaxBodyBytes], so a compression bomb stops at the
// bound.
//
// # Limits and errors
//
// Beyond a limit (body bytes, JSON depth, field count) Parse stops
// descending and sets Request.Truncated; the engine then applies the
// policy's on_error. Malformed JSON is reported with an [*Error] wrapping
// [ErrMalformed]. No input makes Parse panic.
//
// # Cost
//
// The event is scanned once by a bounded-depth JSON scanner that unescapes
// every string into one buffer; fields' values and paths are substrings
// of a few shared strings, so a typical API Gateway event costs a handful
// of allocations whatever its number of fields.
package adapter
