// Package wire is the datagram format between the in-process wrapper and
// the lambda-rasp extension: one JSON object per datagram on a unix
// datagram socket (default /tmp/lambda-rasp/events.sock).
//
// It owns the whole contract, and both processes use it and nothing else:
// the one encoder ([Append], [Encode]) and the one decoder ([Decode]),
// both without reflection for the shape the wrapper writes and held to
// encoding/json by differential fuzz tests; the version, the event kinds
// and reasons; the bounded label values ([Label]) the extension accepts
// as metric labels; and the security log's fields ([Event.LogFields]).
//
// The format is versioned by the field "v"; a receiver rejects versions it
// does not know. Values are bounded: a datagram never exceeds MaxDatagram
// bytes, excerpts are redacted and short, and payloads are never carried.
package wire
