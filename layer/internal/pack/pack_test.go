package pack

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"testing"
)

func TestWriteZipDeterministic(t *testing.T) {
	files := []File{
		{Name: "lambda-rasp/policy.yaml", Mode: 0o644, Data: []byte("version: 1\n")},
		{Name: "extensions/lambda-rasp", Mode: 0o755, Data: bytes.Repeat([]byte{0x7f, 'E', 'L', 'F'}, 1000)},
	}
	var a, b bytes.Buffer
	if err := WriteZip(&a, files); err != nil {
		t.Fatal(err)
	}
	// Reverse order in: same bytes out.
	if err := WriteZip(&b, []File{files[1], files[0]}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two zips of the same files differ")
	}
	checkLayout(t, a.Bytes())
}

// checkLayout asserts the layer layout and Unix modes of a zip.
func checkLayout(t *testing.T, data []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]os.FileMode{
		"extensions/":             os.ModeDir | 0o755,
		"extensions/lambda-rasp":  0o755,
		"lambda-rasp/":            os.ModeDir | 0o755,
		"lambda-rasp/policy.yaml": 0o644,
	}
	if len(zr.File) != len(want) {
		t.Errorf("zip has %d entries, want %d", len(zr.File), len(want))
	}
	for _, f := range zr.File {
		mode, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected entry %q", f.Name)
			continue
		}
		if got := f.Mode(); got != mode {
			t.Errorf("%s mode = %v, want %v", f.Name, got, mode)
		}
		if f.CreatorVersion>>8 != 3 {
			t.Errorf("%s creator = %d, want Unix (3)", f.Name, f.CreatorVersion>>8)
		}
		if !f.Modified.Equal(epoch) {
			t.Errorf("%s modified = %v, want %v", f.Name, f.Modified, epoch)
		}
	}
}

func TestWriteZipRejectsBadNames(t *testing.T) {
	tests := []string{"", "/abs", "../escape", "a/../b"}
	for _, give := range tests {
		err := WriteZip(&bytes.Buffer{}, []File{{Name: give, Mode: 0o644}})
		if err == nil {
			t.Errorf("WriteZip(%q) = nil, want error", give)
		}
	}
}

func TestGOARCH(t *testing.T) {
	tests := []struct {
		give    string
		want    string
		wantErr bool
	}{
		{give: "x86_64", want: "amd64"},
		{give: "arm64", want: "arm64"},
		{give: "amd64", wantErr: true},
		{give: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := GOARCH(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("GOARCH(%q) = %q, %v; want %q, error %v", tt.give, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrArch) {
			t.Errorf("GOARCH(%q) error %v is not ErrArch", tt.give, err)
		}
	}
}
