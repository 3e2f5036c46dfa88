package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/layer/internal/pack"
)

var version = "dev"

// defaultPolicy is the embedded default policy's path in the module.
const defaultPolicy = "rules/policy/default.yaml"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mklayer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ver := fs.String("version", version, "version stamped into the binary and the zip names")
	out := fs.String("out", "dist", "output directory")
	archs := fs.String("arch", "x86_64,arm64", "comma-separated Lambda architectures")
	policy := fs.String("policy", "", "policy file to ship as /opt/lambda-rasp/policy.yaml (default: the embedded default policy)")
	release := fs.Bool("release", false, "also write a CycloneDX SBOM per zip and SHA256SUMS")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(stderr, "mklayer:", err)
		return 1
	}
	root, err := pack.FindRoot(wd)
	if err != nil {
		fmt.Fprintln(stderr, "mklayer:", err)
		return 1
	}
	if *policy == "" {
		*policy = filepath.Join(root, defaultPolicy)
	}
	data, err := os.ReadFile(*policy)
	if err != nil {
		fmt.Fprintln(stderr, "mklayer: read policy:", err)
		return 1
	}
	var archList []string
	for _, arch := range strings.Split(*archs, ",") {
		archList = append(archList, strings.TrimSpace(arch))
	}
	if *release {
		files, err := pack.Release(ctx, pack.Options{Root: root, Version: *ver, OutDir: *out, Policy: data}, archList)
		if err != nil {
			fmt.Fprintln(stderr, "mklayer:", err)
			return 1
		}
		for _, f := range files {
			fmt.Fprintln(stdout, f)
		}
		return 0
	}
	for _, arch := range archList {
		path, err := pack.Build(ctx, pack.Options{
			Root:    root,
			Arch:    arch,
			Version: *ver,
			OutDir:  *out,
			Policy:  data,
		})
		if err != nil {
			fmt.Fprintln(stderr, "mklayer:", err)
			return 1
		}
		st, err := os.Stat(path)
		if err != nil {
			fmt.Fprintln(stderr, "mklayer:", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\t%d bytes\n", path, st.Size())
	}
	return 0
}
