package detect

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/decode"
)

// Accuracy thresholds enforced over the shared corpus.
const (
	minOverall     = 0.95
	minPerCategory = 0.90
	maxFalsePos    = 0.002
	maxExceptions  = 0.02
)

// corpusCategories are the attack lists of the shared corpus.
var corpusCategories = []string{"sqli", "xss", "cmdi", "path_traversal", "ssrf", "nosqli", "log4shell", "ssti"}

// position is where a corpus value is placed in a request.
type position struct {
	name   string
	source string
	key    bool
	// prepare turns the corpus value into the field value the adapter
	// would produce in that position.
	prepare func(string) string
}

// positions models how a value reaches the detectors. Query, header,
// cookie and JSON values and keys arrive as sent (the adapter has already
// undone the form/JSON encoding the client applied, which the corpus lines
// do not carry). A path value arrives percent-decoded once, as API Gateway
// delivers the path and path parameters; a payload that must stay inside
// one segment encodes its slashes as %2F, which that decoding turns back
// into '/', so slashes are kept.
var positions = []position{
	{"query", "query", false, func(s string) string { return s }},
	{"header", "headers", false, func(s string) string { return s }},
	{"cookie", "cookies", false, func(s string) string { return s }},
	{"body", "body", false, func(s string) string { return s }},
	{"jsonkey", "body", true, func(s string) string { return s }},
	{"path", "path", false, func(s string) string {
		if out, ok := decode.URL(nil, s); ok {
			return string(out)
		}
		return s
	}},
}

// corpusDir returns <repo root>/../shared/corpus, skipping (or failing in
// CI) when it is absent.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("corpus %s is missing (required in CI): %v", c, err)
		}
		t.Skipf("corpus %s is absent; clone the shared corpus beside the repository to run the accuracy test", c)
	}
	return c
}

// readLines returns the non-empty lines of a file.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return out
}

// readExceptions reads testdata/exceptions/<category>.txt: one payload
// per line, a tab, then the reason it is not an attack. Lines starting
// with '#' are comments.
func readExceptions(t *testing.T, category string) map[string]string {
	t.Helper()
	path := filepath.Join("testdata", "exceptions", category+".txt")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range readLines(t, path) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		payload, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s: exception %q has no reason after a tab", path, line)
		}
		out[payload] = reason
	}
	return out
}

// detectAny runs every built-in detector on one field, as the default
// policy does, and returns the name of the first that hits.
func detectAny(sc *Scratch, value, source string, key bool) (string, bool) {
	sc.Reset(value)
	for _, d := range builtins {
		if _, ok := d.Detect(sc, Input{Value: value, Key: key, Source: source}); ok {
			return d.Name(), true
		}
	}
	return "", false
}

func TestCorpusAccuracy(t *testing.T) {
	dir := corpusDir(t)
	sc := NewScratch()

	var total, detected int
	for _, cat := range corpusCategories {
		lines := readLines(t, filepath.Join(dir, "attacks", cat+".txt"))
		exc := readExceptions(t, cat)
		if limit := int(float64(len(lines)) * maxExceptions); len(exc) > limit {
			t.Errorf("%s: %d exceptions, more than %.0f%% of %d lines (%d)", cat, len(exc), maxExceptions*100, len(lines), limit)
		}
		inList := make(map[string]bool, len(lines))
		for _, l := range lines {
			inList[l] = true
		}
		for e := range exc {
			if !inList[e] {
				t.Errorf("%s: exception %q is not a line of the list", cat, e)
			}
		}
		var catTotal, catHit int
		var missed []string
		perPos := make([]string, 0, len(positions))
		for _, p := range positions {
			var n, h int
			for _, line := range lines {
				if _, ok := exc[line]; ok {
					continue
				}
				n++
				if _, ok := detectAny(sc, p.prepare(line), p.source, p.key); ok {
					h++
				} else if len(missed) < 8 && p.name == "query" {
					missed = append(missed, line)
				}
			}
			catTotal += n
			catHit += h
			perPos = append(perPos, p.name+" "+pct(h, n))
		}
		total += catTotal
		detected += catHit
		rate := float64(catHit) / float64(catTotal)
		t.Logf("%-15s %6d lines, %2d exceptions: detected %s (%s)", cat, len(lines), len(exc), pct(catHit, catTotal), strings.Join(perPos, ", "))
		for _, m := range missed {
			t.Logf("    missed: %.100q", m)
		}
		if rate < minPerCategory {
			t.Errorf("%s: detection %.2f%% < %.0f%%", cat, rate*100, minPerCategory*100)
		}
	}
	overall := float64(detected) / float64(total)
	t.Logf("overall detection %s", pct(detected, total))
	if overall < minOverall {
		t.Errorf("overall detection %.2f%% < %.0f%%", overall*100, minOverall*100)
	}

	benign := map[string][]string{
		"blns":        readLines(t, filepath.Join(dir, "benign", "blns.txt")),
		"httpparams":  readLines(t, filepath.Join(dir, "benign", "httpparams.txt")),
		"handwritten": readLines(t, filepath.Join("testdata", "benign", "handwritten.txt")),
	}
	if n := len(benign["handwritten"]); n < 150 {
		t.Errorf("handwritten benign set has %d strings, want at least 150", n)
	}
	names := make([]string, 0, len(benign))
	for n := range benign {
		names = append(names, n)
	}
	sort.Strings(names)
	var bTotal, bHit int
	for _, name := range names {
		var n, h int
		for _, p := range positions {
			for _, line := range benign[name] {
				n++
				if det, ok := detectAny(sc, p.prepare(line), p.source, p.key); ok {
					h++
					t.Logf("false positive (%s, %s, %s): %.80q", name, p.name, det, line)
				}
			}
		}
		bTotal += n
		bHit += h
		t.Logf("benign %-12s %6d values x %d positions: false positives %s", name, len(benign[name]), len(positions), pct(h, n))
	}
	fp := float64(bHit) / float64(bTotal)
	t.Logf("false-positive rate %s", pct(bHit, bTotal))
	if fp > maxFalsePos {
		t.Errorf("false-positive rate %.3f%% > %.1f%%", fp*100, maxFalsePos*100)
	}
}

// pct formats h/n as "h/n (x.xx%)".
func pct(h, n int) string {
	if n == 0 {
		return "0/0"
	}
	return fmt.Sprintf("%d/%d (%.2f%%)", h, n, float64(h)*100/float64(n))
}

// TestCorpusEventsAreClean runs every detector over every string value
// and object key of the shared corpus events, which are ordinary
// requests and messages: none may be flagged. They are run as body
// values: the certificate PEM and a JSON body hold line breaks that only
// header sources forbid.
func TestCorpusEventsAreClean(t *testing.T) {
	fields := corpusEventFields(t)
	if len(fields) == 0 {
		t.Fatal("no fields in the corpus events")
	}
	sc := NewScratch()
	for _, v := range fields {
		if det, ok := detectAny(sc, v, "body", false); ok {
			t.Errorf("%s flags event value %.80q", det, v)
		}
	}
	t.Logf("%d event fields clean", len(fields))
}
