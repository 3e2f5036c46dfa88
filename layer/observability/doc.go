// Package observability holds the security team's views of lambda-rasp:
// a provisioning-ready Grafana dashboard (grafana/), Prometheus alerting
// rules with their unit tests (prometheus/), and CloudWatch Logs Insights
// queries for the security event log (cloudwatch/). Its tests run promtool
// on the rules and check that every query names a metric the extension
// exports.
package observability
