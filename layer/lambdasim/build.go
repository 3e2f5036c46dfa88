package lambdasim

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildGo compiles the main package pkg (a directory such as
// "./testdata/fn" or an import path) into out the way a provided.al2023
// function or a layer extension is built: for the host platform, static
// (CGO_ENABLED=0), -trimpath, with the lambda.norpc build tag plus tags. It
// runs the go command found on PATH in dir (empty: the current directory),
// so tests can build a bootstrap and extensions once in TestMain.
func BuildGo(ctx context.Context, dir, pkg, out string, tags ...string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build %s: %w", pkg, err)
	}
	args := []string{"build", "-trimpath", "-tags", strings.Join(append([]string{"lambda.norpc"}, tags...), ","), "-o", out, pkg}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if output, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w: %s", pkg, err, strings.TrimSpace(string(output)))
	}
	return nil
}
