// Package otele2e tests the OTLP fleet recipe end to end against a real
// OpenTelemetry Collector (OTLP receiver, deltatocumulative processor,
// Prometheus exporter) built from its published Go modules by
// ./cmd/otelcol. It is a separate module so that the collector never
// enters the layer. Run it with `make otele2e`, which builds the collector
// once (cached by go.sum) and sets LAMBDA_RASP_OTELCOL.
package otele2e
