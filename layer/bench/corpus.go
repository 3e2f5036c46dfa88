// Package bench compares lambda-rasp's default engine with OWASP Coraza v3
// running the Core Rule Set at paranoia level 1, and with bare
// libinjection, on the same events built from the shared test corpus.
//
// It is a separate module so that Coraza and the CRS never become
// dependencies of the layer.
package bench

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Categories are the attack lists of the corpus, in report order.
var Categories = []string{"sqli", "xss", "cmdi", "path_traversal", "ssrf", "nosqli", "log4shell", "ssti"}

// BenignLists are the benign lists of the corpus, in report order.
var BenignLists = []string{"httpparams", "blns"}

// Corpus holds the payload lists: Attacks and Benign are keyed by
// category and list name.
type Corpus struct {
	Dir     string
	Attacks map[string][]string
	Benign  map[string][]string
	// Sampled reports, per list, the size of the full list when Sample
	// cut it.
	Sampled map[string]int
}

// ErrNoCorpus is returned by FindCorpus when no corpus is found.
var ErrNoCorpus = errors.New("corpus not found")

// FindCorpus returns dir if it holds a corpus. With dir empty it looks
// for a "shared/corpus" directory next to each ancestor of the working
// directory (the corpus sits beside the repository, not inside it).
func FindCorpus(dir string) (string, error) {
	if dir != "" {
		if isCorpus(dir) {
			return dir, nil
		}
		return "", fmt.Errorf("%w at %s", ErrNoCorpus, dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if c := filepath.Join(d, "shared", "corpus"); isCorpus(c) {
			return c, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w above %s", ErrNoCorpus, wd)
		}
		d = parent
	}
}

func isCorpus(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "attacks"))
	return err == nil && st.IsDir()
}

// LoadCorpus reads every attack and benign list of dir. A missing list is
// an error: the report's rows would silently change otherwise.
func LoadCorpus(dir string) (*Corpus, error) {
	c := &Corpus{Dir: dir, Attacks: map[string][]string{}, Benign: map[string][]string{}, Sampled: map[string]int{}}
	for _, cat := range Categories {
		lines, err := readLines(filepath.Join(dir, "attacks", cat+".txt"))
		if err != nil {
			return nil, err
		}
		c.Attacks[cat] = lines
	}
	for _, name := range BenignLists {
		lines, err := readLines(filepath.Join(dir, "benign", name+".txt"))
		if err != nil {
			return nil, err
		}
		c.Benign[name] = lines
	}
	return c, nil
}

func readLines(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return out, nil
}

// Sample keeps at most n strings of each list, chosen with a fixed seed so
// that runs are repeatable; n <= 0 keeps everything. Lists keep their
// file order.
func (c *Corpus) Sample(n int, seed uint64) {
	if n <= 0 {
		return
	}
	cut := func(name string, lines []string) []string {
		if len(lines) <= n {
			return lines
		}
		c.Sampled[name] = len(lines)
		r := rand.New(rand.NewPCG(seed, uint64(len(name))))
		idx := r.Perm(len(lines))[:n]
		slices.Sort(idx)
		out := make([]string, n)
		for i, j := range idx {
			out[i] = lines[j]
		}
		return out
	}
	for _, cat := range Categories {
		c.Attacks[cat] = cut(cat, c.Attacks[cat])
	}
	for _, name := range BenignLists {
		c.Benign[name] = cut(name, c.Benign[name])
	}
}
