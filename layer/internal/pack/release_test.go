package pack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestRelease builds a release twice: the two are byte-identical; each
// layer zip holds what it should (checkLayerZip); the checksums verify;
// each SBOM validates against the CycloneDX 1.5 schema and lists exactly
// the modules the go command says are linked into the extension.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the extension for two architectures, twice")
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
	archs := []string{"x86_64", "arm64"}
	release := func(dir string) map[string][]byte {
		files, err := Release(context.Background(), Options{Root: root, Version: "v0.0.0-test", OutDir: dir, Policy: policy}, archs)
		if err != nil {
			t.Fatalf("Release() = %v", err)
		}
		out := map[string][]byte{}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(f)] = data
		}
		return out
	}
	dirA := t.TempDir()
	a, b := release(dirA), release(t.TempDir())

	wantFiles := []string{ChecksumsFile}
	for _, arch := range archs {
		wantFiles = append(wantFiles, ZipName("v0.0.0-test", arch), SBOMName("v0.0.0-test", arch))
	}
	slices.Sort(wantFiles)
	var got []string
	for name := range a {
		got = append(got, name)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantFiles) {
		t.Fatalf("release files = %v, want %v", got, wantFiles)
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two releases of the same tree", name)
		}
	}

	t.Run("checksums", func(t *testing.T) {
		sums := map[string]string{}
		sc := bufio.NewScanner(bytes.NewReader(a[ChecksumsFile]))
		for sc.Scan() {
			sum, name, ok := strings.Cut(sc.Text(), "  ")
			if !ok {
				t.Fatalf("SHA256SUMS line %q is not \"HEX  NAME\"", sc.Text())
			}
			sums[name] = sum
		}
		if len(sums) != len(a)-1 {
			t.Errorf("SHA256SUMS lists %d files, want %d", len(sums), len(a)-1)
		}
		for name, data := range a {
			if name == ChecksumsFile {
				continue
			}
			h := sha256.Sum256(data)
			if sums[name] != hex.EncodeToString(h[:]) {
				t.Errorf("SHA256SUMS: %s = %s, want %x", name, sums[name], h)
			}
		}
		// The file is in the format sha256sum -c reads, where it exists.
		if _, err := exec.LookPath("sha256sum"); err == nil {
			cmd := exec.Command("sha256sum", "-c", "--strict", ChecksumsFile)
			cmd.Dir = dirA
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("sha256sum -c: %v\n%s", err, out)
			}
		}
	})

	machines := map[string]elf.Machine{"x86_64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, arch := range archs {
		t.Run("zip-"+arch, func(t *testing.T) {
			checkLayerZip(t, a[ZipName("v0.0.0-test", arch)], machines[arch], policy)
		})
	}

	schema := cdxSchema(t)
	for _, arch := range archs {
		t.Run("sbom-"+arch, func(t *testing.T) {
			data := a[SBOMName("v0.0.0-test", arch)]
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Errorf("SBOM does not validate against CycloneDX 1.5: %v", err)
			}
			var bom cdxBOM
			if err := json.Unmarshal(data, &bom); err != nil {
				t.Fatal(err)
			}
			zipSum := sha256.Sum256(a[ZipName("v0.0.0-test", arch)])
			if h := bom.Metadata.Component.Hashes; len(h) != 1 || h[0].Content != hex.EncodeToString(zipSum[:]) {
				t.Errorf("SBOM layer hash = %v, want the zip's %x", h, zipSum)
			}
			var mods []string
			for _, c := range bom.Components {
				if c.Name != "std" {
					mods = append(mods, c.Name+"@"+c.Version)
				}
			}
			if want := linkedModules(t, root, arch); !slices.Equal(mods, want) {
				t.Errorf("SBOM modules = %v\nwant (go list -deps) %v", mods, want)
			}
		})
	}
}

// cdxSchema compiles the vendored CycloneDX 1.5 JSON schema.
func cdxSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	dir := filepath.Join("testdata", "cyclonedx")
	for _, name := range []string{"bom-1.5.SNAPSHOT.schema.json", "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("http://cyclonedx.org/schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("http://cyclonedx.org/schema/bom-1.5.SNAPSHOT.schema.json")
	if err != nil {
		t.Fatalf("compile CycloneDX schema: %v", err)
	}
	return s
}

// linkedModules asks the go command which modules the extension's
// packages come from for arch (an independent account of what the build
// info records), as sorted "path@version".
func linkedModules(t *testing.T, root, arch string) []string {
	t.Helper()
	goarch, err := GOARCH(arch)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{with .Replace}}{{.Path}}@{{.Version}}{{else}}{{.Path}}@{{.Version}}{{end}}{{end}}{{end}}", "./extension")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var mods []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line != "" {
			mods = append(mods, line)
		}
	}
	slices.Sort(mods)
	return slices.Compact(mods)
}
