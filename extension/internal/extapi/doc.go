// Package extapi is a client of the Lambda Extensions API (version
// 2020-01-01): register, event/next, init/error and exit/error.
//
// The base URL comes from AWS_LAMBDA_RUNTIME_API. Every success status in
// the 2xx range is accepted (init/error and exit/error answer 202), every
// response body is read up to a bound, and event types and shutdown
// reasons are parsed case-insensitively because the service and the
// emulator spell them differently.
package extapi
