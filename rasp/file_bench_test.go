package rasp

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFileGuard measures the file guard's check (with symlink
// resolution) next to the os.ReadFile it guards.
func BenchmarkFileGuard(b *testing.B) {
	dir := b.TempDir()
	name := filepath.Join(dir, "guide.md")
	if err := os.WriteFile(name, []byte("# guide"), 0o644); err != nil {
		b.Fatal(err)
	}
	g, _ := sinkTestGuard(b, "block", sinkPolicy)
	ctx := sinkTestCtx(g, sinkBenchInputs("guide.md")...)
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := CheckPath(ctx, name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os.ReadFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := os.ReadFile(name); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadFile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ReadFile(ctx, name); err != nil {
				b.Fatal(err)
			}
		}
	})
}
