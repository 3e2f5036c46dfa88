package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// maxSuggestInput bounds what "raspctl egress suggest" reads per input.
const maxSuggestInput = 256 << 20

// maxSuggestHosts bounds the distinct destinations aggregated.
const maxSuggestHosts = 100_000

// runEgress dispatches "raspctl egress SUBCOMMAND".
func runEgress(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "suggest" {
		fmt.Fprintln(stderr, "usage: raspctl egress suggest [--format text|json] [--min-count N] [FILE...]")
		return exitError
	}
	return egressSuggest(args[1:], os.Stdin, stdout, stderr)
}

// suggestion is the result of "raspctl egress suggest".
type suggestion struct {
	Allow        []suggestRule `json:"allow"`
	Skipped      []skippedDest `json:"skipped"`
	Summaries    int           `json:"summaries"`
	Environments int           `json:"environments"`
	Functions    []string      `json:"functions"`
	Since        *time.Time    `json:"since,omitempty"`
	Until        *time.Time    `json:"until,omitempty"`
	// Dropped adds up the summaries' dropped connections: when it is not
	// zero the table was full somewhere and the list may be incomplete.
	Dropped uint64 `json:"dropped"`
	// InvalidLines counts summary lines that could not be decoded.
	InvalidLines int `json:"invalid_lines"`
}

// suggestRule is one egress.allow entry: exactly one of Host and CIDR.
type suggestRule struct {
	Host  string    `json:"host,omitempty"`
	CIDR  string    `json:"cidr,omitempty"`
	Ports []uint16  `json:"ports"`
	Count uint64    `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// skippedDest is a destination left out of the list, with the reason.
type skippedDest struct {
	Host   string `json:"host"`
	Port   uint16 `json:"port"`
	Count  uint64 `json:"count"`
	Reason string `json:"reason"`
}

// egressSuggest implements "raspctl egress suggest": it reads egress
// discovery summaries (see wire.EgressSummary) from the files given, or
// stdin, as raw log lines or a CloudWatch Logs Insights export, and
// prints the smallest egress.allow list that allows every destination
// seen: one entry per host (or IP address, as a /32 or /128 cidr) with
// exactly the ports used. Destinations the egress policy denies whatever
// it says (loopback, link-local, metadata, the Lambda APIs) are left out
// and listed as skipped. Exit 1 when the list may be incomplete (no
// summary found, a summary dropped destinations, or a summary line could
// not be read); 2 on a usage error or an unreadable input.
func egressSuggest(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := newCLI("egress suggest", "egress suggest [--format text|json] [--min-count N] [FILE...]", formatText, stderr)
	minCount := c.fs.Uint64("min-count", 1, "leave out destinations seen fewer than `N` times")
	if !c.parse(args, 0, -1) {
		return exitError
	}
	agg := newAggregate()
	inputs := c.fs.Args()
	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	for _, name := range inputs {
		data, err := readInput(name, stdin)
		if err != nil {
			fmt.Fprintf(stderr, "raspctl egress suggest: %v\n", err)
			return exitError
		}
		if err := agg.addInput(data); err != nil {
			fmt.Fprintf(stderr, "raspctl egress suggest: %s: %v\n", name, err)
			return exitError
		}
	}
	s := agg.suggest(*minCount)
	var err error
	if c.json() {
		err = writeJSON(stdout, s)
	} else {
		err = s.writeYAML(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "raspctl egress suggest: %v\n", err)
		return exitError
	}
	switch {
	case s.Summaries == 0:
		fmt.Fprintln(stderr, "raspctl egress suggest: no egress summary found (is discovery on: monitor mode or egress.learn: true?)")
	case s.Dropped > 0:
		fmt.Fprintf(stderr, "raspctl egress suggest: %d connections were not recorded (the destination table was full); the list may be incomplete\n", s.Dropped)
	case s.InvalidLines > 0:
		fmt.Fprintf(stderr, "raspctl egress suggest: %d summary lines could not be read; the list may be incomplete\n", s.InvalidLines)
	default:
		return exitOK
	}
	return exitFindings
}

// readInput reads a named file, or stdin for "-", up to maxSuggestInput.
func readInput(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSuggestInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxSuggestInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxSuggestInput)
	}
	return data, nil
}

// destKey identifies an aggregated destination.
type destKey struct {
	host string
	port uint16
}

type destStat struct {
	count       uint64
	first, last time.Time
}

// aggregate merges summaries.
type aggregate struct {
	dests     map[destKey]*destStat
	envs      map[string]bool
	functions map[string]bool
	since     time.Time
	until     time.Time
	summaries int
	dropped   uint64
	invalid   int
	overflow  uint64
}

func newAggregate() *aggregate {
	return &aggregate{dests: map[destKey]*destStat{}, envs: map[string]bool{}, functions: map[string]bool{}}
}

// addInput finds the summary messages in one input and adds them. It
// recognises, by the input's shape: a JSON array of log records with an
// "@message" member (the Logs Insights console's JSON export); an object
// with "results" (aws logs get-query-results); CSV with an "@message"
// column (the console's CSV export); otherwise log lines, each holding a
// summary object after any prefix.
func (a *aggregate) addInput(data []byte) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(trimmed) == 0:
		return nil
	case trimmed[0] == '[':
		var records []map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &records); err != nil {
			return fmt.Errorf("JSON array: %s", jsonErrorText(err))
		}
		for _, rec := range records {
			if msg, ok := rec["@message"]; ok {
				var s string
				if json.Unmarshal(msg, &s) == nil {
					a.addMessage([]byte(s))
				}
				continue
			}
			raw, err := json.Marshal(rec)
			if err == nil {
				a.addMessage(raw)
			}
		}
		return nil
	case trimmed[0] == '{':
		var api struct {
			Results [][]struct {
				Field string `json:"field"`
				Value string `json:"value"`
			} `json:"results"`
		}
		if json.Unmarshal(trimmed, &api) == nil && api.Results != nil {
			for _, row := range api.Results {
				for _, f := range row {
					if f.Field == "@message" {
						a.addMessage([]byte(f.Value))
					}
				}
			}
			return nil
		}
	default:
		first, _, _ := bytes.Cut(trimmed, []byte("\n"))
		if bytes.Contains(first, []byte("@message")) && !bytes.Contains(first, []byte("{")) {
			return a.addCSV(trimmed)
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), wire.MaxEgressSummaryLine+1)
	for sc.Scan() {
		a.addMessage(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read lines: %w", err)
	}
	return nil
}

// addCSV reads a CSV export and adds its "@message" column.
func (a *aggregate) addCSV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("CSV: %w", err)
	}
	col := slices.Index(header, "@message")
	if col < 0 {
		return errors.New(`CSV: no "@message" column`)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("CSV: %w", err)
		}
		if col < len(rec) {
			a.addMessage([]byte(rec[col]))
		}
	}
}

// addMessage adds one log message if it holds a summary. Messages
// without the summary type are other log lines and are ignored; a message
// with the type that does not decode is counted as invalid.
func (a *aggregate) addMessage(msg []byte) {
	if !bytes.Contains(msg, []byte(wire.EgressSummaryType)) {
		return
	}
	i := bytes.IndexByte(msg, '{')
	if i < 0 {
		a.invalid++
		return
	}
	s, err := wire.DecodeEgressSummary(bytes.TrimSpace(msg[i:]))
	if err != nil {
		a.invalid++
		return
	}
	a.summaries++
	a.dropped += s.Dropped
	if s.Environment != "" {
		a.envs[s.Function+"\x00"+s.Environment] = true
	}
	if s.Function != "" {
		a.functions[s.Function] = true
	}
	if !s.Since.IsZero() && (a.since.IsZero() || s.Since.Before(a.since)) {
		a.since = s.Since
	}
	if s.Until.After(a.until) {
		a.until = s.Until
	}
	for _, d := range s.Destinations {
		k := destKey{host: normalizeHost(d.Host), port: d.Port}
		st := a.dests[k]
		if st == nil {
			if len(a.dests) >= maxSuggestHosts {
				a.overflow += d.Count
				continue
			}
			st = &destStat{first: d.First, last: d.Last}
			a.dests[k] = st
		}
		st.count += d.Count
		if !d.First.IsZero() && (st.first.IsZero() || d.First.Before(st.first)) {
			st.first = d.First
		}
		if d.Last.After(st.last) {
			st.last = d.Last
		}
	}
}

// normalizeHost lower-cases a host, drops a trailing dot and IPv6
// brackets.
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// suggest builds the allow list.
func (a *aggregate) suggest(minCount uint64) suggestion {
	s := suggestion{Allow: []suggestRule{}, Skipped: []skippedDest{}, Functions: []string{},
		Summaries: a.summaries, Environments: len(a.envs), Dropped: a.dropped + a.overflow, InvalidLines: a.invalid}
	if !a.since.IsZero() {
		s.Since = &a.since
	}
	if !a.until.IsZero() {
		s.Until = &a.until
	}
	for f := range a.functions {
		s.Functions = append(s.Functions, f)
	}
	slices.Sort(s.Functions)
	byHost := map[string]*suggestRule{}
	for k, st := range a.dests {
		if reason := skipReason(k.host, k.port); reason != "" || st.count < minCount {
			if reason == "" {
				reason = fmt.Sprintf("seen %d times, fewer than --min-count %d", st.count, minCount)
			}
			s.Skipped = append(s.Skipped, skippedDest{Host: k.host, Port: k.port, Count: st.count, Reason: reason})
			continue
		}
		r := byHost[k.host]
		if r == nil {
			r = &suggestRule{First: st.first, Last: st.last}
			if ip, err := netip.ParseAddr(k.host); err == nil {
				r.CIDR = netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()).String()
			} else {
				r.Host = k.host
			}
			byHost[k.host] = r
		}
		r.Ports = append(r.Ports, k.port)
		r.Count += st.count
		if !st.first.IsZero() && (r.First.IsZero() || st.first.Before(r.First)) {
			r.First = st.first
		}
		if st.last.After(r.Last) {
			r.Last = st.last
		}
	}
	for _, r := range byHost {
		slices.Sort(r.Ports)
		s.Allow = append(s.Allow, *r)
	}
	// Host names first, then addresses, each sorted.
	slices.SortFunc(s.Allow, func(x, y suggestRule) int {
		if (x.CIDR == "") != (y.CIDR == "") {
			return strings.Compare(x.CIDR, y.CIDR) // "" first
		}
		return strings.Compare(x.Host+x.CIDR, y.Host+y.CIDR)
	})
	slices.SortFunc(s.Skipped, func(x, y skippedDest) int {
		if c := strings.Compare(x.Host, y.Host); c != 0 {
			return c
		}
		return int(x.Port) - int(y.Port)
	})
	return s
}

// skipReason says why a destination must not be suggested, or "" when it
// may be: the addresses the egress policy denies whatever it says (an
// allow entry for them would be refused or, as a cidr, reopen them), and
// names that are not valid host patterns.
func skipReason(host string, port uint16) string {
	if ip, err := netip.ParseAddr(host); err == nil {
		switch c := rules.ClassifyAddr(ip, port, netip.AddrPort{}); c {
		case rules.ClassPublic, rules.ClassPrivate:
			return ""
		default:
			return "always denied (" + c.String() + ")"
		}
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "always denied (loopback)"
	}
	probe := "version: 1\negress: {allow: [{host: " + strconv.Quote(host) + "}]}\n"
	if _, err := policy.Parse("probe", []byte(probe)); err != nil {
		return "not a valid host name"
	}
	return ""
}

// writeYAML writes the suggestion as a policy fragment, with counts and
// skipped destinations as comments.
func (s *suggestion) writeYAML(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# raspctl egress suggest: %d destinations from %d summaries", len(s.Allow), s.Summaries)
	if s.Environments > 0 {
		fmt.Fprintf(&b, " (%d execution environments)", s.Environments)
	}
	if s.Since != nil && s.Until != nil {
		fmt.Fprintf(&b, ", %s to %s", s.Since.UTC().Format(time.RFC3339), s.Until.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	if len(s.Functions) > 0 {
		fmt.Fprintf(&b, "# functions: %s\n", strings.Join(s.Functions, ", "))
	}
	b.WriteString("egress:\n  default: deny\n")
	if len(s.Allow) == 0 {
		b.WriteString("  allow: []\n")
	} else {
		b.WriteString("  allow:\n")
	}
	for _, r := range s.Allow {
		if r.Host != "" {
			fmt.Fprintf(&b, "    - host: %s", yamlScalar(r.Host))
		} else {
			fmt.Fprintf(&b, "    - cidr: %s", r.CIDR)
		}
		fmt.Fprintf(&b, "    # %s\n", connections(r.Count))
		ports := make([]string, len(r.Ports))
		for i, p := range r.Ports {
			ports[i] = strconv.Itoa(int(p))
		}
		fmt.Fprintf(&b, "      ports: [%s]\n", strings.Join(ports, ", "))
	}
	for _, sk := range s.Skipped {
		fmt.Fprintf(&b, "# skipped %s (%s): %s\n", hostPort(sk.Host, sk.Port), connections(sk.Count), sk.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// yamlScalar quotes a host that YAML would not read back as the same
// plain string (a number, a boolean, a leading indicator).
func yamlScalar(s string) string {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err == nil && v == s {
		return s
	}
	return "'" + s + "'" // host names have no quote characters
}

func connections(n uint64) string {
	if n == 1 {
		return "1 connection"
	}
	return strconv.FormatUint(n, 10) + " connections"
}

// hostPort renders a destination for a comment line; a host with
// characters no host name has is quoted, so it cannot end the comment.
func hostPort(host string, port uint16) string {
	if strings.IndexFunc(host, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_:", r))
	}) >= 0 {
		host = strconv.QuoteToASCII(host)
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(int(port))
	}
	return host + ":" + strconv.Itoa(int(port))
}
