// Package otlp exports the extension's counters as OTLP metrics with delta
// temporality and its security events as OTLP log records, through the
// OpenTelemetry Go SDK's OTLP/HTTP exporters, configured by the standard
// OTEL_EXPORTER_OTLP_* environment variables.
//
// Deltas are what make counters aggregate across ephemeral execution
// environments without a series per environment: the resource names the
// function (service.name, faas.name, cloud.*) and never the environment,
// so a collector running the deltatocumulative processor adds the deltas
// of every environment of one function into one cumulative series.
//
// Both signals are sent only on the extension's flush path (after an
// invocation when a flush is due, and at SHUTDOWN): log records wait in a
// bounded buffer until then, so nothing is sent while the environment may
// be frozen.
package otlp
