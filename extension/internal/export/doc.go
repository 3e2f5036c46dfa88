// Package export sends the extension's metrics out of the Lambda sandbox.
//
// Exporters are chosen by environment variables (see FromEnv): Prometheus
// remote write, a Pushgateway, CloudWatch Embedded Metric Format lines on
// stdout, and a loopback-only /metrics endpoint for local runs. Because the
// sandbox is frozen between invokes, the extension calls every Exporter
// before it asks for the next event, each call bounded by Config.Timeout.
package export
