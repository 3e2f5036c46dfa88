package rasp

import "testing"

// BenchmarkCheckCommandGuard measures the exec guard's check of a shell
// command (no process is started).
func BenchmarkCheckCommandGuard(b *testing.B) {
	g, _ := sinkTestGuard(b, "block", sinkPolicy)
	ctx := sinkTestCtx(g, sinkBenchInputs("photo.png")...)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkCommand(ctx, "/bin/sh", []string{"-c", "convert photo.png -resize 50% /tmp/out.png"}); err != nil {
			b.Fatal(err)
		}
	}
}
