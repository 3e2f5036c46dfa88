package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuild builds the real layer: two builds of the same tree are
// byte-identical, the zip holds exactly the extension (executable, static,
// for the right machine) and the policy, and it fits the size budget.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the extension for two architectures")
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := os.ReadFile(filepath.Join(root, "rules", "policy", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arch    string
		machine elf.Machine
	}{
		{"x86_64", elf.EM_X86_64},
		{"arm64", elf.EM_AARCH64},
	}
	for _, tt := range tests {
		t.Run(tt.arch, func(t *testing.T) {
			build := func(dir string) []byte {
				path, err := Build(context.Background(), Options{Root: root, Arch: tt.arch, Version: "v0.0.0-test", OutDir: dir, Policy: policy})
				if err != nil {
					t.Fatalf("Build() = %v", err)
				}
				if got, want := filepath.Base(path), "lambda-rasp-v0.0.0-test-"+tt.arch+".zip"; got != want {
					t.Errorf("zip name = %q, want %q", got, want)
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
			a := build(t.TempDir())
			if len(a) > MaxZipBytes {
				t.Errorf("layer is %d bytes, over the %d byte budget", len(a), MaxZipBytes)
			}
			t.Logf("%s layer: %d bytes", tt.arch, len(a))
			if tt.arch == "x86_64" {
				if b := build(t.TempDir()); !bytes.Equal(a, b) {
					t.Error("two builds of the same tree differ")
				}
			}
			zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
			if err != nil {
				t.Fatal(err)
			}
			// Directory entries come first so unzip tools create them 0755.
			want := map[string]os.FileMode{"extensions/": 0o755, "lambda-rasp/": 0o755, "extensions/lambda-rasp": 0o755, "lambda-rasp/policy.yaml": 0o644}
			if len(zr.File) != len(want) {
				t.Errorf("zip has %d entries, want %d", len(zr.File), len(want))
			}
			for _, f := range zr.File {
				mode, ok := want[f.Name]
				if !ok {
					t.Errorf("unexpected entry %q", f.Name)
					continue
				}
				if got := f.Mode().Perm(); got != mode {
					t.Errorf("%s mode = %v, want %v", f.Name, got, mode)
				}
				if strings.HasSuffix(f.Name, "/") {
					if !f.Mode().IsDir() {
						t.Errorf("%s is not a directory entry", f.Name)
					}
					continue
				}
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				if _, err := buf.ReadFrom(rc); err != nil {
					t.Fatal(err)
				}
				rc.Close()
				switch f.Name {
				case "lambda-rasp/policy.yaml":
					if !bytes.Equal(buf.Bytes(), policy) {
						t.Error("policy.yaml differs from the default policy")
					}
				case "extensions/lambda-rasp":
					ef, err := elf.NewFile(bytes.NewReader(buf.Bytes()))
					if err != nil {
						t.Fatalf("extension is not an ELF binary: %v", err)
					}
					if ef.Machine != tt.machine {
						t.Errorf("extension machine = %v, want %v", ef.Machine, tt.machine)
					}
					for _, p := range ef.Progs {
						if p.Type == elf.PT_INTERP {
							t.Error("extension is dynamically linked (has an interpreter)")
						}
					}
					ef.Close()
				}
			}
		})
	}
}
