package pack

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"os"
	"strings"
	"testing"
)

// checkLayerZip checks one built layer zip: it fits the size budget and
// holds exactly the extension (executable, static, for the right machine)
// and the policy. TestRelease, which also checks that two builds of the
// same tree are byte-identical, runs it on each architecture's zip.
func checkLayerZip(t *testing.T, a []byte, machine elf.Machine, policy []byte) {
	t.Helper()
	if len(a) > MaxZipBytes {
		t.Errorf("layer is %d bytes, over the %d byte budget", len(a), MaxZipBytes)
	}
	t.Logf("layer: %d bytes", len(a))
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
			if ef.Machine != machine {
				t.Errorf("extension machine = %v, want %v", ef.Machine, machine)
			}
			for _, p := range ef.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("extension is dynamically linked (has an interpreter)")
				}
			}
			ef.Close()
		}
	}
}
