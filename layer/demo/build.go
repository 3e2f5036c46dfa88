package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambda-rasp/lambda-rasp/layer/internal/pack"
	"github.com/lambda-rasp/lambda-rasp/layer/lambdasim"
)

// buildLayer builds the layer zip for the host architecture, exactly as
// "make layer" does, and unpacks it as Lambda would under /opt.
func (d *demo) buildLayer(ctx context.Context, arch string) error {
	d.progress("building the layer (extension + default policy) for %s", arch)
	start := time.Now()
	policy, err := os.ReadFile(filepath.Join(d.opt.Root, "rules", "policy", "default.yaml"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	zipPath, err := pack.Build(ctx, pack.Options{Root: d.opt.Root, Arch: arch, Version: "demo", OutDir: filepath.Join(d.opt.Root, "dist"), Policy: policy})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.optDir = filepath.Join(d.work, "opt")
	if err := unzip(zipPath, d.optDir); err != nil {
		return err
	}
	st, err := os.Stat(zipPath)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	rel, _ := filepath.Rel(d.opt.Root, zipPath)
	fmt.Fprintf(d.out, "  %s: %.1f MiB, built in %s\n", rel, float64(st.Size())/(1<<20), time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintln(d.out, "  contents: /opt/extensions/lambda-rasp (the extension), /opt/lambda-rasp/policy.yaml (the default policy)")
	return nil
}

// unzip extracts the layer as Lambda does, keeping the modes.
func unzip(path, dir string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return fmt.Errorf("demo: open layer: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		name := filepath.Join(dir, filepath.FromSlash(f.Name))
		if !strings.HasPrefix(name, dir+string(filepath.Separator)) {
			return fmt.Errorf("demo: layer entry %q escapes the layer", f.Name)
		}
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		rc, err := f.Open()
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if err := os.WriteFile(name, data, f.Mode().Perm()); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	return nil
}

// buildFunction builds layer/demo/fn as a provided.al2023 bootstrap.
func (d *demo) buildFunction(ctx context.Context) error {
	d.progress("building the example function (a products API: SQL, outbound HTTP, file reads)")
	start := time.Now()
	task := filepath.Join(d.work, "task")
	d.bootstrap = filepath.Join(task, "bootstrap")
	if err := lambdasim.BuildGo(ctx, d.opt.Root, "./layer/demo/fn", d.bootstrap); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	assets := filepath.Join(task, "assets")
	if err := os.MkdirAll(assets, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for name, text := range map[string]string{
		"shipping.txt": "Orders ship within two working days.\n",
		"returns.txt":  "Returns are free for 30 days.\n",
	} {
		if err := os.WriteFile(filepath.Join(assets, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	fmt.Fprintf(d.out, "  layer/demo/fn → bootstrap in %s (wrapped with rasp.Start; queries via rasp.OpenDB, fetches via rasp.HTTPClient, reads via rasp.ReadFile)\n",
		time.Since(start).Round(100*time.Millisecond))
	return nil
}

// findPrometheus returns the remote-write URL of a reachable Prometheus.
func (d *demo) findPrometheus(ctx context.Context) string {
	base := d.opt.Prometheus
	if base == "" {
		base = "http://127.0.0.1:9090"
	}
	ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/-/ready", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return strings.TrimSuffix(base, "/") + "/api/v1/write"
}

func (d *demo) writePolicy(base []byte, partner netip.AddrPort, rollout bool) (string, error) {
	data, err := demoPolicy(base, partner, rollout)
	if err != nil {
		return "", err
	}
	name := "policy-block.yaml"
	if rollout {
		name = "policy-rollout.yaml"
	}
	path := filepath.Join(d.work, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	return path, nil
}

// freePort returns a loopback address nobody listens on right now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}
