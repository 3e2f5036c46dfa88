package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// ExtensionName is the extension's file name; Lambda registers it under
// this name.
const ExtensionName = "lambda-rasp"

// MaxZipBytes is the size budget of one layer zip.
const MaxZipBytes = 8 << 20

// epoch is the modification time of every zip entry (the zip format's
// earliest representable date is 1980).
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of a layer zip.
type File struct {
	Name string      // slash-separated path inside the zip
	Mode os.FileMode // Unix permission bits, e.g. 0755
	Data []byte
}

// WriteZip writes files as a deterministic zip to w: entries sorted by
// name, fixed time, Unix modes set, deflate compression.
func WriteZip(w io.Writer, files []File) error {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	zw := zip.NewWriter(w)
	seenDir := map[string]bool{}
	for _, f := range sorted {
		if f.Name == "" || strings.HasPrefix(f.Name, "/") || strings.Contains(f.Name, "..") {
			return fmt.Errorf("pack: invalid entry name %q", f.Name)
		}
		// Directory entries first, so unzip tools create them with sane modes.
		parts := strings.Split(f.Name, "/")
		for i := 1; i < len(parts); i++ {
			dir := strings.Join(parts[:i], "/") + "/"
			if seenDir[dir] {
				continue
			}
			seenDir[dir] = true
			if err := addEntry(zw, dir, os.ModeDir|0o755, nil); err != nil {
				return err
			}
		}
		if err := addEntry(zw, f.Name, f.Mode&os.ModePerm, f.Data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack: close zip: %w", err)
	}
	return nil
}

func addEntry(zw *zip.Writer, name string, mode os.FileMode, data []byte) error {
	h := &zip.FileHeader{
		Name:     name,
		Method:   zip.Deflate,
		Modified: epoch,
	}
	if mode.IsDir() {
		h.Method = zip.Store
	}
	h.SetMode(mode)
	// Made by Unix (3), so ExternalAttrs carry Unix modes.
	h.CreatorVersion = 3<<8 | 20
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("pack: add %s: %w", name, err)
	}
	if _, err := fw.Write(data); err != nil {
		return fmt.Errorf("pack: write %s: %w", name, err)
	}
	return nil
}

// Options configures Build.
type Options struct {
	// Root is the module root (the directory holding go.mod).
	Root string
	// Arch is the Lambda architecture: "x86_64" or "arm64".
	Arch string
	// Version is stamped into the binary and the zip name.
	Version string
	// OutDir receives lambda-rasp-<version>-<arch>.zip.
	OutDir string
	// Policy is the default policy file's content.
	Policy []byte
	// Go is the go command; "go" when empty.
	Go string
}

// ErrArch reports an unsupported architecture.
var ErrArch = errors.New("pack: unsupported architecture (want x86_64 or arm64)")

// GOARCH maps a Lambda architecture name to Go's.
func GOARCH(arch string) (string, error) {
	switch arch {
	case "x86_64":
		return "amd64", nil
	case "arm64":
		return "arm64", nil
	}
	return "", fmt.Errorf("%w: %q", ErrArch, arch)
}

// ZipName returns the layer file name for version and arch.
func ZipName(version, arch string) string {
	return fmt.Sprintf("lambda-rasp-%s-%s.zip", version, arch)
}

// Build compiles the extension for opts.Arch and writes the layer zip,
// returning its path. The zip is refused when it exceeds MaxZipBytes.
func Build(ctx context.Context, opts Options) (string, error) {
	goarch, err := GOARCH(opts.Arch)
	if err != nil {
		return "", err
	}
	if len(opts.Policy) == 0 {
		return "", errors.New("pack: empty default policy")
	}
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	tmp, err := os.MkdirTemp("", "lambda-rasp-layer-")
	if err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, ExtensionName)
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath",
		"-ldflags", "-s -w -buildid= -X main.version="+opts.Version,
		"-o", bin, "./extension")
	cmd.Dir = opts.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOFLAGS=-mod=readonly")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("pack: build extension for %s: %w: %s", opts.Arch, err, strings.TrimSpace(stderr.String()))
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	var buf bytes.Buffer
	err = WriteZip(&buf, []File{
		{Name: "extensions/" + ExtensionName, Mode: 0o755, Data: data},
		{Name: "lambda-rasp/policy.yaml", Mode: 0o644, Data: opts.Policy},
	})
	if err != nil {
		return "", err
	}
	if buf.Len() > MaxZipBytes {
		return "", fmt.Errorf("pack: %s layer is %d bytes, over the %d byte budget", opts.Arch, buf.Len(), MaxZipBytes)
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	out := filepath.Join(opts.OutDir, ZipName(opts.Version, opts.Arch))
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("pack: %w", err)
	}
	return out, nil
}

// FindRoot walks up from dir to the directory holding go.mod.
func FindRoot(dir string) (string, error) {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("pack: go.mod not found")
		}
		dir = parent
	}
}
