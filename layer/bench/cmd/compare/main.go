// Command compare runs lambda-rasp, Coraza v3 with the OWASP CRS at
// paranoia level 1, and bare libinjection on the same events built from the
// shared corpus, and prints markdown tables.
//
//	go run ./cmd/compare [-corpus DIR] [-sample N] [-seed S] [-examples N]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/lambda-rasp/lambda-rasp/layer/bench"
)

func main() {
	corpus := flag.String("corpus", "", "corpus directory (default: shared/corpus next to an ancestor of the working directory, i.e. ../../../shared/corpus from layer/bench)")
	sample := flag.Int("sample", 5000, "at most this many payloads per list, chosen with -seed; 0 runs the whole corpus")
	seed := flag.Uint64("seed", 1, "sampling seed")
	examples := flag.Int("examples", 0, "list this many disagreements per category")
	binary := flag.Int("binary", 700, "send this many binary and compressed bodies (images, archives, gzip, octet streams)")
	quiet := flag.Bool("q", false, "no progress on stderr")
	flag.Parse()

	dir, err := bench.FindCorpus(*corpus)
	if errors.Is(err, bench.ErrNoCorpus) {
		fmt.Fprintf(os.Stderr, "compare: skipped: %v\n", err)
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	c, err := bench.LoadCorpus(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	c.Sample(*sample, *seed)
	cfg := bench.Config{Corpus: c, Examples: *examples, BinaryBodies: *binary}
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	rep, err := bench.Run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
	cmd := "go run ./cmd/compare"
	flag.Visit(func(f *flag.Flag) {
		if f.Name != "q" {
			cmd += " -" + f.Name + " " + f.Value.String()
		}
	})
	fmt.Printf("Command (in layer/bench): `%s` (sample %d per list, seed %d)\n\n", cmd, *sample, *seed)
	rep.Markdown(os.Stdout)
}
