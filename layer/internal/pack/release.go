package pack

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
)

// ChecksumsFile is the name of the checksum list a release writes, in
// the format "sha256sum -c" reads.
const ChecksumsFile = "SHA256SUMS"

// SBOMName returns the SBOM file name for version and arch.
func SBOMName(version, arch string) string {
	return fmt.Sprintf("lambda-rasp-%s-%s.cdx.json", version, arch)
}

// Release builds the layer zip of every architecture in archs, a
// CycloneDX SBOM of each zip's extension binary and a SHA256SUMS file
// covering them all, into opts.OutDir. Every output is a function of the
// source tree, the Go toolchain and opts: two releases of the same tree
// are byte-identical. It returns the files written, sorted.
func Release(ctx context.Context, opts Options, archs []string) ([]string, error) {
	if len(archs) == 0 {
		return nil, errors.New("pack: no architecture")
	}
	var files []string
	for _, arch := range archs {
		o := opts
		o.Arch = arch
		zipPath, err := Build(ctx, o)
		if err != nil {
			return nil, err
		}
		bin, err := zipEntry(zipPath, "extensions/"+ExtensionName)
		if err != nil {
			return nil, err
		}
		info, err := buildinfo.Read(bytes.NewReader(bin))
		if err != nil {
			return nil, fmt.Errorf("pack: build info of the %s extension: %w", arch, err)
		}
		zipData, err := os.ReadFile(zipPath)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		bom, err := SBOM(info, opts.Version, arch, zipData, bin)
		if err != nil {
			return nil, err
		}
		sbomPath := filepath.Join(opts.OutDir, SBOMName(opts.Version, arch))
		if err := os.WriteFile(sbomPath, bom, 0o644); err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		files = append(files, zipPath, sbomPath)
	}
	sums, err := checksums(files)
	if err != nil {
		return nil, err
	}
	sumsPath := filepath.Join(opts.OutDir, ChecksumsFile)
	if err := os.WriteFile(sumsPath, sums, 0o644); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	files = append(files, sumsPath)
	slices.Sort(files)
	return files, nil
}

// zipEntry returns the content of one entry of a zip file.
func zipEntry(path, name string) ([]byte, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("pack: %s: %w", name, err)
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, MaxZipBytes*4))
		if err != nil {
			return nil, fmt.Errorf("pack: %s: %w", name, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("pack: %s has no %s", path, name)
}

// checksums returns "HEX  NAME" lines for files (base names, sorted).
func checksums(files []string) ([]byte, error) {
	names := slices.Clone(files)
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(filepath.Base(a), filepath.Base(b)) })
	var b bytes.Buffer
	for _, f := range names {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), filepath.Base(f))
	}
	return b.Bytes(), nil
}

// cdxBOM is the part of a CycloneDX 1.5 BOM we write.
type cdxBOM struct {
	Schema       string          `json:"$schema"`
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber"`
	Version      int             `json:"version"`
	Metadata     cdxMetadata     `json:"metadata"`
	Components   []cdxComponent  `json:"components"`
	Dependencies []cdxDependency `json:"dependencies"`
}

type cdxMetadata struct {
	Tools     cdxTools     `json:"tools"`
	Component cdxComponent `json:"component"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type       string         `json:"type"`
	BOMRef     string         `json:"bom-ref,omitempty"`
	Name       string         `json:"name"`
	Version    string         `json:"version,omitempty"`
	PURL       string         `json:"purl,omitempty"`
	Hashes     []cdxHash      `json:"hashes,omitempty"`
	Properties []cdxProperty  `json:"properties,omitempty"`
	Components []cdxComponent `json:"components,omitempty"`
}

type cdxHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// SBOM returns a CycloneDX 1.5 JSON SBOM of one layer: the layer zip as
// the described component, holding the extension binary, whose
// components are the Go modules linked into it (from its build info,
// replacements applied) and the Go standard library. It carries no
// timestamp and a serial number derived from the content, so it is
// reproducible.
func SBOM(info *debug.BuildInfo, version, arch string, zipData, bin []byte) ([]byte, error) {
	if info == nil {
		return nil, errors.New("pack: no build info")
	}
	zipSum, binSum := sha256.Sum256(zipData), sha256.Sum256(bin)
	goarch, err := GOARCH(arch)
	if err != nil {
		return nil, err
	}
	binRef := "extension:" + info.Main.Path + "/extension"
	layer := cdxComponent{
		Type:    "application",
		BOMRef:  "layer:" + ZipName(version, arch),
		Name:    "lambda-rasp",
		Version: version,
		PURL:    fmt.Sprintf("pkg:golang/%s@%s?arch=%s&type=layer", info.Main.Path, version, goarch),
		Hashes:  []cdxHash{{Alg: "SHA-256", Content: hex.EncodeToString(zipSum[:])}},
		Properties: []cdxProperty{
			{Name: "lambda-rasp:layer:file", Value: ZipName(version, arch)},
			{Name: "lambda-rasp:layer:architecture", Value: arch},
		},
		Components: []cdxComponent{{
			Type:       "application",
			BOMRef:     binRef,
			Name:       "extensions/" + ExtensionName,
			Version:    version,
			Hashes:     []cdxHash{{Alg: "SHA-256", Content: hex.EncodeToString(binSum[:])}},
			Properties: buildProperties(info),
		}},
	}
	comps := []cdxComponent{{
		Type: "library", BOMRef: "pkg:golang/std@" + info.GoVersion, Name: "std",
		Version: info.GoVersion, PURL: "pkg:golang/std@" + info.GoVersion,
	}}
	for _, m := range info.Deps {
		if m.Replace != nil {
			m = m.Replace
		}
		purl := "pkg:golang/" + m.Path + "@" + m.Version
		c := cdxComponent{Type: "library", BOMRef: purl, Name: m.Path, Version: m.Version, PURL: purl}
		if m.Sum != "" {
			c.Properties = []cdxProperty{{Name: "lambda-rasp:go:sum", Value: m.Sum}}
		}
		comps = append(comps, c)
	}
	slices.SortFunc(comps[1:], func(a, b cdxComponent) int { return strings.Compare(a.BOMRef, b.BOMRef) })
	comps = slices.CompactFunc(comps, func(a, b cdxComponent) bool { return a.BOMRef == b.BOMRef })
	refs := make([]string, len(comps))
	for i, c := range comps {
		refs[i] = c.BOMRef
	}
	bom := cdxBOM{
		Schema:      "http://cyclonedx.org/schema/bom-1.5.schema.json",
		BOMFormat:   "CycloneDX",
		SpecVersion: "1.5",
		Version:     1,
		Metadata: cdxMetadata{
			Tools: cdxTools{Components: []cdxComponent{{Type: "application", Name: "mklayer", Version: version,
				PURL: "pkg:golang/" + info.Main.Path + "/layer/cmd/mklayer@" + version}}},
			Component: layer,
		},
		Components: comps,
		Dependencies: []cdxDependency{
			{Ref: layer.BOMRef, DependsOn: []string{binRef}},
			{Ref: binRef, DependsOn: refs},
		},
	}
	// The serial number is a version-5-style UUID of the BOM without it.
	body, err := json.Marshal(bom)
	if err != nil {
		return nil, fmt.Errorf("pack: sbom: %w", err)
	}
	bom.SerialNumber = contentUUID(body)
	out, err := json.MarshalIndent(bom, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("pack: sbom: %w", err)
	}
	return append(out, '\n'), nil
}

// buildProperties records the build settings that affect the binary.
func buildProperties(info *debug.BuildInfo) []cdxProperty {
	props := []cdxProperty{{Name: "lambda-rasp:go:version", Value: info.GoVersion}}
	for _, s := range info.Settings {
		switch s.Key {
		case "GOOS", "GOARCH", "GOAMD64", "GOARM64", "CGO_ENABLED", "-trimpath", "-ldflags", "-tags", "-buildmode", "-compiler":
			props = append(props, cdxProperty{Name: "lambda-rasp:go:build:" + s.Key, Value: s.Value})
		}
	}
	return props
}

// contentUUID returns "urn:uuid:..." built from the SHA-256 of data with
// the version and variant bits of an RFC 9562 name-based UUID.
func contentUUID(data []byte) string {
	h := sha256.Sum256(data)
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u)
	return fmt.Sprintf("urn:uuid:%s-%s-%s-%s-%s", x[0:8], x[8:12], x[12:16], x[16:20], x[20:32])
}
