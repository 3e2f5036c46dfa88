// Package telemetryapi subscribes the extension to the Lambda Telemetry
// API (2022-07-01) and receives its batches.
//
// The listener counts finished invocations by status (from
// platform.runtimeDone, or platform.report on managed instances, which send
// no runtimeDone) and lets the lifecycle wait until the runtime of a given
// request is done, the point at which the wrapper has sent all of that
// request's events and flushing before the freeze is safe.
//
// # Where it listens
//
// Lambda delivers telemetry to http://sandbox.localdomain:<port>, and
// sandbox.localdomain resolves inside the execution environment to the
// sandbox's own address. The listener therefore binds the address
// sandbox.localdomain resolves to (looked up with a short timeout, as the
// OpenTelemetry Lambda collector does) and falls back to 127.0.0.1 where
// the name does not resolve (local runs, the lambdasim simulator, which
// maps sandbox.localdomain to 127.0.0.1). It never binds all interfaces.
// The destination URI sent when subscribing is always
// http://sandbox.localdomain:<port>.
//
// Only "platform" events are subscribed: never the function's or the
// extension's own log lines, so nothing the extension logs can loop back.
// The handler itself never logs.
package telemetryapi
