package lambdasim_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// BenchmarkInvoke measures a warm invoke of the aws-lambda-go echo function
// with one INVOKE-registered extension, through the Go API.
func BenchmarkInvoke(b *testing.B) {
	s, err := lambdasim.New(lambdasim.Config{Bootstrap: runtimeBin, ExtensionsDir: benchExtDir(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background(), lambdasim.ReasonSpindown)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"path":"/orders","body":"` + strings.Repeat("x", 1024) + `"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := s.Invoke(ctx, payload)
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("Invoke = %v, %v", res, err)
		}
	}
}

// BenchmarkInvokeHTTP measures a warm invoke through the invoke endpoint.
func BenchmarkInvokeHTTP(b *testing.B) {
	s, err := lambdasim.New(lambdasim.Config{Bootstrap: runtimeBin})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(context.Background(), lambdasim.ReasonSpindown)
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	url := s.InvokeURL()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"n":1}`))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func benchExtDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := os.Symlink(extensionBin, filepath.Join(dir, "logger")); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkColdStart measures a whole environment lifetime: Init of the
// echo function with one extension, one invoke, and the Shutdown phase.
func BenchmarkColdStart(b *testing.B) {
	dir := benchExtDir(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := lambdasim.New(lambdasim.Config{Bootstrap: runtimeBin, ExtensionsDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if res, err := s.Invoke(ctx, []byte(`{}`)); err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("Invoke = %v, %v", res, err)
		}
		if err := s.Shutdown(ctx, lambdasim.ReasonSpindown); err != nil {
			b.Fatal(err)
		}
	}
}
