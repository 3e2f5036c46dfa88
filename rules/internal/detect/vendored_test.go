package detect

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// The vendored regression corpus (testdata/corpus) is a compact,
// deduplicated sample of ../shared/corpus, so that detection and
// false-positive thresholds bind on a clean clone. It is rebuilt with
//
//	go test ./rules/internal/detect -run TestVendoredCorpus -vendor
//
// which samples each shared list by hash (deterministic), up to
// vendorCap lines per file. testdata/corpus/README.md lists the sources
// and licences.
var vendor = flag.Bool("vendor", false, "rebuild testdata/corpus from ../shared/corpus")

// vendorCap bounds the lines vendored per list.
const vendorCap = 3000

// vendoredAttacks and vendoredBenign name the vendored lists.
var (
	vendoredAttacks = []string{"sqli", "xss", "cmdi", "path_traversal", "ssrf", "nosqli", "log4shell", "ssti"}
	vendoredBenign  = []string{"prose", "libinjection_false_positives", "user_agents", "httpparams", "blns"}
)

// Thresholds over the vendored corpus, high-confidence findings only (what
// the default policy blocks), over the positions of vendoredPositions.
const (
	minVendoredFamily  = 0.90  // each attack list, tuning part
	minVendoredHoldout = 0.88  // each attack list, hold-out part
	maxVendoredFP      = 0.002 // each benign list except libinjection's false positives
	maxVendoredLibFP   = 0.06  // libinjection's own false-positive list: short upper-case SQL words, URL-encoded queries
)

// vendoredPositions are the positions the vendored test places values in.
var vendoredPositions = []position{positions[0], positions[1], positions[3], positions[5]}

func vendoredPath(kind, name string) string {
	return filepath.Join("testdata", "corpus", kind, name+".txt.gz")
}

// sampleLines returns at most n lines of lines, chosen by hash so that the
// choice does not depend on the order or on the other lines.
func sampleLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	type hl struct {
		h uint64
		s string
	}
	hs := make([]hl, len(lines))
	for i, l := range lines {
		h := fnv.New64a()
		h.Write([]byte(l))
		hs[i] = hl{h.Sum64(), l}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].h < hs[j].h })
	out := make([]string, n)
	for i := range out {
		out[i] = hs[i].s
	}
	sort.Strings(out)
	return out
}

func writeGz(t *testing.T, path string, lines []string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	zw.ModTime = zw.ModTime.UTC() // zero: reproducible bytes
	for _, l := range lines {
		fmt.Fprintln(zw, l)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func readGz(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("vendored corpus: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func rebuildVendored(t *testing.T) {
	dir := corpusDir(t)
	for _, c := range vendoredAttacks {
		lines := readLines(t, filepath.Join(dir, "attacks", c+".txt"))
		exc := readExceptions(t, c)
		lines = slices.DeleteFunc(slices.Clone(lines), func(l string) bool { _, ok := exc[l]; return ok })
		writeGz(t, vendoredPath("attacks", c), sampleLines(lines, vendorCap))
	}
	for _, b := range vendoredBenign {
		writeGz(t, vendoredPath("benign", b), sampleLines(readLines(t, filepath.Join(dir, "benign", b+".txt")), vendorCap))
	}
}

// TestVendoredCorpus binds detection and false-positive thresholds on the
// vendored corpus, reporting the tuning and hold-out parts (holdout in
// gen_test.go) separately.
func TestVendoredCorpus(t *testing.T) {
	if *vendor {
		rebuildVendored(t)
	}
	sc := NewScratch()
	for _, c := range vendoredAttacks {
		lines := readGz(t, vendoredPath("attacks", c))
		var tn, th, hn, hh int
		for _, p := range vendoredPositions {
			for _, l := range lines {
				ok := highAny(sc, p.prepare(l), p.source)
				if holdout(l) {
					hn++
					if ok {
						hh++
					}
				} else {
					tn++
					if ok {
						th++
					}
				}
			}
		}
		t.Logf("attacks %-15s %5d lines: tune %s, hold-out %s", c, len(lines), pct(th, tn), pct(hh, hn))
		if float64(th) < minVendoredFamily*float64(tn) {
			t.Errorf("%s: tune detection %s < %.0f%%", c, pct(th, tn), minVendoredFamily*100)
		}
		if float64(hh) < minVendoredHoldout*float64(hn) {
			t.Errorf("%s: hold-out detection %s < %.0f%%", c, pct(hh, hn), minVendoredHoldout*100)
		}
	}
	for _, b := range vendoredBenign {
		lines := readGz(t, vendoredPath("benign", b))
		var n, h int
		var shown []string
		for _, p := range vendoredPositions {
			for _, l := range lines {
				n++
				if highAny(sc, p.prepare(l), p.source) {
					h++
					if len(shown) < 5 && !slices.Contains(shown, l) {
						shown = append(shown, l)
					}
				}
			}
		}
		t.Logf("benign  %-30s %5d lines: blocked %s", b, len(lines), pct(h, n))
		for _, s := range shown {
			t.Logf("    blocked: %.100q", s)
		}
		limit := maxVendoredFP
		if strings.HasPrefix(b, "libinjection") {
			limit = maxVendoredLibFP
		}
		if float64(h) > limit*float64(n) {
			t.Errorf("%s: false positives %s > %.1f%%", b, pct(h, n), limit*100)
		}
	}
}
