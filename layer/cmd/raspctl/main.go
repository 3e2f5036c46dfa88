package main

import (
	"fmt"
	"io"
	"os"
)

// command is one raspctl subcommand.
type command struct {
	name    string
	args    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands is the dispatch table, in the order usage lists them.
func commands() []command {
	return []command{
		{"lint", "FILE...", "validate policy files", runLint},
		{"test", "FILE...", "run the tests embedded in policy files", runTest},
		{"scan", "< JSONL", "decide on events read as JSON lines (--policy FILE)", runScan},
		{"explain", "EVENT", "show how one event is inspected (--policy FILE)", runExplain},
		{"egress", "suggest [FILE...]", "an egress.allow list from egress discovery summaries", runEgress},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches args to a subcommand and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "raspctl: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: raspctl COMMAND [--format text|json] [FLAGS] [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %-18s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit status: 0 ok, 1 findings (see each command), 2 usage or I/O error")
}
