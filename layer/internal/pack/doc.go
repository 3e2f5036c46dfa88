// Package pack builds the lambda-rasp Lambda layer: a zip per architecture
// holding the extension binary and the default policy.
//
// # Layout
//
//	extensions/lambda-rasp     the extension (static, 0755) → /opt/extensions/lambda-rasp
//	lambda-rasp/policy.yaml    the default policy (0644)     → /opt/lambda-rasp/policy.yaml
//
// # Reproducibility
//
// Two builds from the same commit and toolchain are byte-identical: the
// binary is built with CGO_ENABLED=0, -trimpath and an empty build id, and
// the zip has sorted entries, a fixed modification time, explicit Unix
// modes and no extra fields.
package pack
