// Package wire is the datagram format between the in-process wrapper and
// the lambda-rasp extension: one JSON object per datagram on a unix
// datagram socket (default /tmp/lambda-rasp/events.sock).
//
// The format is versioned by the field "v"; a receiver rejects versions it
// does not know. Values are bounded: a datagram never exceeds MaxDatagram
// bytes, excerpts are redacted and short, and payloads are never carried.
package wire
