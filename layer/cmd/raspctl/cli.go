package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
)

// Exit statuses, the same for every subcommand.
const (
	exitOK       = 0 // done, nothing found
	exitFindings = 1 // done, and something needs attention (see each command)
	exitError    = 2 // usage error, or an input or output that could not be read or written
)

// Output formats, chosen with --format.
const (
	formatText = "text"
	formatJSON = "json"
)

// cli is the shared shape of a subcommand: a flag set that reports to
// stderr, a --format flag, and a usage line.
type cli struct {
	fs     *flag.FlagSet
	format *string
	usage  string
	stderr io.Writer
}

// newCLI returns a subcommand's flag set with --format (default def).
func newCLI(name, usage, def string, stderr io.Writer) *cli {
	c := &cli{fs: flag.NewFlagSet(name, flag.ContinueOnError), usage: usage, stderr: stderr}
	c.fs.SetOutput(stderr)
	c.format = c.fs.String("format", def, "output `FORMAT`: text or json")
	c.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: raspctl %s\n", usage)
		c.fs.PrintDefaults()
	}
	return c
}

// parse parses args and checks --format and the operand count
// (min..max; max < 0 means any). It reports usage errors itself.
func (c *cli) parse(args []string, minArgs, maxArgs int) bool {
	if err := c.fs.Parse(args); err != nil {
		return false
	}
	if *c.format != formatText && *c.format != formatJSON {
		fmt.Fprintf(c.stderr, "raspctl %s: unknown format %q (want text or json)\n", c.fs.Name(), *c.format)
		c.fs.Usage()
		return false
	}
	if n := c.fs.NArg(); n < minArgs || (maxArgs >= 0 && n > maxArgs) {
		c.fs.Usage()
		return false
	}
	return true
}

// json reports whether --format json was asked for.
func (c *cli) json() bool { return *c.format == formatJSON }

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// worst returns the more severe of two exit statuses.
func worst(a, b int) int { return max(a, b) }
