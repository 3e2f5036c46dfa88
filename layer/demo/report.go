package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// summary prints the tables of the final step.
func (d *demo) summary(off []time.Duration, p1, p2 *phaseResult) {
	d.progress("summary")
	for _, pr := range []*phaseResult{p1, p2} {
		fmt.Fprintf(d.out, "\n  %s\n", pr.title)
		d.sourceTable(pr)
	}

	fmt.Fprintln(d.out, "\n  What the callers saw when a request was refused (no payload is ever echoed):")
	seen := map[string]bool{}
	for _, pr := range []*phaseResult{p1, p2} {
		for i, s := range pr.shots {
			o := pr.results[i]
			key := s.Source + "/" + o.kind
			if seen[key] || (o.kind != outcomeBlocked && o.kind != outcomeSinkBlocked && o.kind != outcomePartial) {
				continue
			}
			seen[key] = true
			switch o.kind {
			case outcomePartial:
				fmt.Fprintf(d.out, "    %-13s batchItemFailures %v (the record is retried, then dead-lettered; the rest of the batch was processed)\n", s.Source, o.withheld)
			case outcomeSinkBlocked:
				fmt.Fprintf(d.out, "    %-13s %s %s (the handler got a *rasp.BlockedError from the guarded call)\n", s.Source, o.status, clip(o.body, 60))
			default:
				fmt.Fprintf(d.out, "    %-13s %s %s\n", s.Source, o.status, clip(o.body, 90))
			}
		}
	}

	fmt.Fprintln(d.out, "\n  Rules that fired (lambda_rasp_detections_total, both phases):")
	rules := map[string]float64{}
	for _, pr := range []*phaseResult{p1, p2} {
		for k, v := range group(pr.metrics, "lambda_rasp_detections_total", "rule", "category", "action") {
			rules[k] += v
		}
	}
	printGroups(d, rules, "rule|category|action")

	fmt.Fprintln(d.out, "\n  Sink guards (lambda_rasp_sink_checks_total and lambda_rasp_egress_total, phase 2):")
	sinks := group(p2.metrics, "lambda_rasp_sink_checks_total", "sink", "decision")
	for k, v := range group(p2.metrics, "lambda_rasp_egress_total", "decision", "destination") {
		sinks["egress|"+k] += v
	}
	printGroups(d, sinks, "sink|decision[|destination]")

	fmt.Fprintln(d.out, "\n  Latency:")
	on := p1.durs
	fmt.Fprintf(d.out, "    invoke round trip through the simulator, median of %d benign requests: off %s, protected %s (difference %s)\n",
		len(on), median(off), median(on), (median(on) - median(off)).Round(time.Microsecond))
	fmt.Fprintln(d.out, "    (the round trip is the simulator's HTTP hops plus the handler's SQL query and partner call; the")
	fmt.Fprintln(d.out, "    difference is the input guard, the sink guards and the reporter, on a machine shared with the")
	fmt.Fprintln(d.out, "    simulator and the extension — `make bench` measures each part in isolation)")
	p50 := quantile(p1.metrics, "lambda_rasp_inspection_duration_seconds", 0.5)
	p99 := quantile(p1.metrics, "lambda_rasp_inspection_duration_seconds", 0.99)
	if !math.IsNaN(p50) {
		fmt.Fprintf(d.out, "    in-process inspection (lambda_rasp_inspection_duration_seconds): p50 ≈ %s, p99 ≈ %s\n", seconds(p50), seconds(p99))
	}

	fmt.Fprintln(d.out, "\n  Metrics the extension exported (its loopback /metrics at the end of phase 2, non-zero series):")
	n := 0
	for _, s := range p2.metrics {
		if !strings.HasPrefix(s.Name, "lambda_rasp_") || s.Value == 0 || strings.HasSuffix(s.Name, "_bucket") {
			continue
		}
		if n++; n > 40 {
			fmt.Fprintln(d.out, "    …")
			break
		}
		fmt.Fprintf(d.out, "    %s %g\n", formatSample(s), s.Value)
	}
	if d.promURL != "" {
		fmt.Fprintf(d.out, "\n  Also pushed with remote write to %s: try lambda_rasp_detections_total in its UI.\n", d.promURL)
	} else {
		fmt.Fprintln(d.out, "\n  No local Prometheus on 127.0.0.1:9090; start one with --web.enable-remote-write-receiver and the demo pushes to it too.")
	}

	fmt.Fprintln(d.out, "\nWhere to look next:")
	fmt.Fprintln(d.out, "  - README.md: quickstart (publish the layer, wrap your handler), configuration, metrics and log schema")
	fmt.Fprintln(d.out, "  - layer/demo/fn/main.go: the example function and how it uses the sink guards")
	fmt.Fprintln(d.out, "  - rules/policy/default.yaml: the default policy; check yours with raspctl lint and raspctl test")
	fmt.Fprintln(d.out, "  - layer/observability: the Grafana dashboard, Prometheus alerts and CloudWatch Logs Insights queries")
	fmt.Fprintln(d.out, "  - layer/deploy: SAM, CloudFormation and Terraform templates")
	if len(d.problems) == 0 {
		fmt.Fprintln(d.out, "\nDemo finished: every benign request was served and every attack was stopped.")
	}
}

func (d *demo) sourceTable(pr *phaseResult) {
	type row struct{ events, allowed, monitored, blocked, sink, partial int }
	rows := map[string]*row{}
	for i, s := range pr.shots {
		r := rows[s.Source]
		if r == nil {
			r = &row{}
			rows[s.Source] = r
		}
		r.events++
		switch pr.results[i].kind {
		case outcomeAllowed:
			r.allowed++
		case outcomeMonitored:
			r.monitored++
		case outcomeBlocked:
			r.blocked++
		case outcomeSinkBlocked:
			r.sink++
		case outcomePartial:
			r.partial++
		}
	}
	fmt.Fprintf(d.out, "    %-13s %6s %8s %10s %17s %15s %15s\n", "SOURCE", "EVENTS", "ALLOWED", "MONITORED", "BLOCKED AT INPUT", "STOPPED AT SINK", "RECORDS HELD")
	for _, src := range sources {
		r := rows[src]
		if r == nil {
			continue
		}
		fmt.Fprintf(d.out, "    %-13s %6d %8d %10d %17d %15d %15d\n", src, r.events, r.allowed, r.monitored, r.blocked, r.sink, r.partial)
	}
}

func printGroups(d *demo, m map[string]float64, header string) {
	if len(m) == 0 {
		fmt.Fprintln(d.out, "    (none)")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(d.out, "    %-48s %s\n", strings.ToUpper(header), "COUNT")
	for _, k := range keys {
		if m[k] == 0 {
			continue
		}
		fmt.Fprintf(d.out, "    %-48s %g\n", strings.ReplaceAll(k, "|", "  "), m[k])
	}
}

func formatSample(s sample) string {
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, s.Labels[k])
	}
	if len(parts) == 0 {
		return s.Name
	}
	return s.Name + "{" + strings.Join(parts, ",") + "}"
}

func seconds(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(100 * time.Nanosecond).String()
}
