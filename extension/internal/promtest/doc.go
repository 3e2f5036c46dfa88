// Package promtest starts the real Prometheus and Pushgateway binaries
// (Debian packages prometheus and prometheus-pushgateway, which .ci/run
// installs) on loopback for tests, and skips the test when they are
// absent. It is imported by tests only.
package promtest
