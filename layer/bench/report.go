package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the run happened.
func Machine() string {
	cpu := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return fmt.Sprintf("%s %s/%s, %s, %d CPUs, GOMAXPROCS=%d", runtime.Version(), runtime.GOOS, runtime.GOARCH, cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0))
}

func pct(c Counter) string {
	if c.Total == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", c.Pct())
}

func pctN(c Counter) string {
	if c.Total == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%% (%d/%d)", c.Pct(), c.Hit, c.Total)
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
}

func perCall(n, calls uint64) string {
	if calls == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", float64(n)/float64(calls))
}

// Markdown writes the report as markdown tables.
func (r *Report) Markdown(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	c := r.Corpus
	p("Machine: %s\n\n", Machine())
	p("Corpus: `%s`: %d payloads, %d events (each payload in %d positions).", c.Dir, r.Payloads, r.Events, NumPositions)
	if len(c.Sampled) > 0 {
		p(" **Sampled** with a fixed seed:")
		for _, name := range append(append([]string{}, Categories...), BenignLists...) {
			if full, ok := c.Sampled[name]; ok {
				n := len(c.Attacks[name]) + len(c.Benign[name])
				p(" %s %d of %d;", name, n, full)
			}
		}
	}
	p(" Run took %s.\n\n", r.Elapsed.Round(time.Second))

	a, b, l := r.Ours, r.Coraza, r.Lib
	p("### Summary\n\n")
	p("| engine | detection | false positives | p50 | p99 | allocs/event | bytes/event | init |\n")
	p("|---|---|---|---|---|---|---|---|\n")
	for _, x := range []*Result{a, b} {
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", x.Name, pctN(x.Detection()), pctN(x.FalsePositives()),
			dur(Quantile(x.Lat, .5)), dur(Quantile(x.Lat, .99)), perCall(x.Mallocs, x.Calls), perCall(x.Bytes, x.Calls), dur(x.Init))
	}
	p("| %s, per payload | %s | %s | %s | %s | %s | %s | – |\n", l.Name, pctN(l.Detection()), pctN(l.FalsePositives()),
		dur(Quantile(l.Lat, .5)), dur(Quantile(l.Lat, .99)), perCall(l.Mallocs, l.Calls), perCall(l.Bytes, l.Calls))
	p("\nDetection counts an attack event as detected when the engine blocks it, whatever rule fired. ")
	p("lambda-rasp latency is `adapter.Parse` of the raw event plus `Engine.Inspect`; Coraza latency is one transaction ")
	p("(NewTransaction, ProcessConnection, ProcessURI, headers, ProcessRequestHeaders, body, ProcessRequestBody, Close). ")
	if ra, rb := Quantile(a.Lat, .5), Quantile(b.Lat, .5); ra > 0 {
		p("Coraza/lambda-rasp latency ratio: p50 %.0f×, p99 %.0f×.", float64(rb)/float64(ra), float64(Quantile(b.Lat, .99))/float64(Quantile(a.Lat, .99)))
	}
	p("\n\n")

	p("### Detection per category (all positions)\n\n")
	p("| category | payloads | %s | %s | only %s | only %s | %s (per payload) |\n", a.Name, b.Name, a.Name, b.Name, l.Name)
	p("|---|---|---|---|---|---|---|\n")
	for _, cat := range Categories {
		p("| %s | %d | %s | %s | %d | %d | %s |\n", cat, len(c.Attacks[cat]), pct(a.Category(cat)), pct(b.Category(cat)),
			r.Diff.OnlyA[cat], r.Diff.OnlyB[cat], pct(l.Category(cat)))
	}
	p("| **all** | %d | **%s** | **%s** | %d | %d | %s |\n\n", r.attackPayloads(), pct(a.Detection()), pct(b.Detection()),
		total(r.Diff.OnlyA), total(r.Diff.OnlyB), pct(l.Detection()))
	p("\"only X\" counts attack events (payload × position) that one engine blocks and the other does not.\n\n")

	p("### Detection per position (all categories)\n\n")
	p("| position | %s | %s |\n|---|---|---|\n", a.Name, b.Name)
	for pos := range NumPositions {
		p("| %s | %s | %s |\n", pos, pct(a.Position(pos)), pct(b.Position(pos)))
	}
	p("\n")

	p("### Detection per category × position (%s / %s)\n\n", a.Name, b.Name)
	p("| category |")
	for pos := range NumPositions {
		p(" %s |", pos)
	}
	p("\n|---|")
	for range NumPositions {
		p("---|")
	}
	p("\n")
	for _, cat := range Categories {
		p("| %s |", cat)
		for pos := range NumPositions {
			p(" %s / %s |", pct(a.Detect[cat][pos]), pct(b.Detect[cat][pos]))
		}
		p("\n")
	}
	p("\n")

	p("### False positives (benign values)\n\n")
	p("| list | values | position | %s | %s | %s (per value) |\n|---|---|---|---|---|---|\n", a.Name, b.Name, l.Name)
	for _, name := range BenignLists {
		for pos := range NumPositions {
			lib := "″"
			if pos == 0 {
				lib = pctN(sum(l.FP[name]))
			}
			p("| %s | %d | %s | %s | %s | %s |\n", name, len(c.Benign[name]), pos, pctN(a.FP[name][pos]), pctN(b.FP[name][pos]), lib)
		}
	}
	p("| **all** | | | **%s** | **%s** | %s |\n\n", pctN(a.FalsePositives()), pctN(b.FalsePositives()), pctN(l.FalsePositives()))
	if len(r.BinKinds) > 0 {
		p("### Binary and compressed bodies (blocked)\n\n")
		p("One POST per body, base64 with isBase64Encoded for lambda-rasp, raw bytes for Coraza.\n\n")
		p("| body | %s | %s |\n|---|---|---|\n", a.Name, b.Name)
		var ta, tb Counter
		for _, k := range r.BinKinds {
			c := r.Binary[k]
			ta.Hit, ta.Total = ta.Hit+c[0].Hit, ta.Total+c[0].Total
			tb.Hit, tb.Total = tb.Hit+c[1].Hit, tb.Total+c[1].Total
			p("| %s | %s | %s |\n", k, pctN(c[0]), pctN(c[1]))
		}
		p("| **all** | **%s** | **%s** |\n\n", pctN(ta), pctN(tb))
	}
	p("Most frequent causes of false positives (rule@source for lambda-rasp, CRS rule id for Coraza; one event can have several):\n\n")
	for _, x := range []*Result{a, b, l} {
		causes := topCauses(x.FPCauses, 12)
		if len(causes) == 0 {
			causes = []string{"none"}
		}
		p("- %s: %s\n", x.Name, strings.Join(causes, ", "))
	}
	p("\n")
	for _, x := range []*Result{a, b, l} {
		for _, e := range x.FPExamples {
			p("- false positive of %s: %s\n", x.Name, e)
		}
	}
	if len(a.FPExamples)+len(b.FPExamples)+len(l.FPExamples) > 0 {
		p("\n")
	}

	p("### Latency per event\n\n")
	p("| engine | p50 | p90 | p99 | p99.9 | max | mean | allocs/event | bytes/event |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range []*Result{a, r.Parse, b, l} {
		name := x.Name
		if x == l {
			name += ", per payload"
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name, dur(Quantile(x.Lat, .5)), dur(Quantile(x.Lat, .9)), dur(Quantile(x.Lat, .99)),
			dur(Quantile(x.Lat, .999)), dur(x.Lat[len(x.Lat)-1]), dur(mean(x.Lat)), perCall(x.Mallocs, x.Calls), perCall(x.Bytes, x.Calls))
	}
	p("\n| position | %s p50 | %s p99 | %s p50 | %s p99 |\n|---|---|---|---|---|\n", a.Name, a.Name, b.Name, b.Name)
	for pos := range NumPositions {
		p("| %s | %s | %s | %s | %s |\n", pos, dur(Quantile(a.LatByPos[pos], .5)), dur(Quantile(a.LatByPos[pos], .99)),
			dur(Quantile(b.LatByPos[pos], .5)), dur(Quantile(b.LatByPos[pos], .99)))
	}
	p("\nSlowest single call:\n\n")
	for _, x := range []*Result{a, r.Parse, b, l} {
		p("- %s: %s, %s\n", x.Name, dur(x.Slowest), x.SlowestEvent)
	}
	p("\nlambda-rasp inspections that ended with an error or truncation (the policy's on_error: allow then decided): %s. ", errs(a.Errors))
	p("Coraza transactions with an error: %s.\n", errs(b.Errors))

	if len(r.Diff.ExamplesA)+len(r.Diff.ExamplesB) > 0 {
		p("\n### Examples of disagreement\n\n")
		for _, cat := range Categories {
			for _, e := range r.Diff.ExamplesB[cat] {
				p("- %s, only %s: %s\n", cat, b.Name, e)
			}
			for _, e := range r.Diff.ExamplesA[cat] {
				p("- %s, only %s: %s\n", cat, a.Name, e)
			}
		}
	}
}

func (r *Report) attackPayloads() int {
	n := 0
	for _, cat := range Categories {
		n += len(r.Corpus.Attacks[cat])
	}
	return n
}

func errs(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(topCauses(m, 10), ", ")
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
