package rasp

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// symlinkTree makes base/docs/readme.txt, outside/secret.txt and
// base/docs/link -> outside, and returns base/docs and outside.
func symlinkTree(t *testing.T) (docs, outside string) {
	t.Helper()
	root := t.TempDir()
	docs = filepath.Join(root, "base", "docs")
	outside = filepath.Join(root, "outside")
	for _, d := range []string{docs, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, body := range map[string]string{filepath.Join(docs, "readme.txt"): "hello", filepath.Join(outside, "secret.txt"): "s3cr3t"} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(docs, "link")); err != nil {
		t.Skip("no symlinks:", err)
	}
	return docs, outside
}

func TestJoin(t *testing.T) {
	docs, _ := symlinkTree(t)
	g, rec := sinkTestGuard(t, "block", sinkPolicy)
	tests := []struct {
		give    string
		blocked bool
	}{
		{"readme.txt", false},
		{"sub/../readme.txt", false},
		{"../../outside/secret.txt", true},
		{"/../../outside/secret.txt", true},
		{"link/secret.txt", true},
		{"new/file.txt", false}, // not there yet: cannot lead anywhere
	}
	for _, tt := range tests {
		ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.doc", Value: tt.give})
		p, err := Join(ctx, docs, tt.give)
		if got := err != nil; got != tt.blocked {
			t.Errorf("Join(%q) = %q, %v; want blocked %v", tt.give, p, err, tt.blocked)
			continue
		}
		if tt.blocked {
			if be := sinkBlocked(t, err); be.RuleIDs[0] != rules.RuleTraversalSink || be.Paths[0] != "query.doc" {
				t.Errorf("Join(%q): BlockedError = %+v", tt.give, be)
			}
		} else if p != filepath.Join(docs, tt.give) {
			t.Errorf("Join(%q) = %q", tt.give, p)
		}
	}
	if n := len(rec.all()); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
	// Outside a wrapped handler, Join still confines.
	if _, err := Join(context.Background(), docs, "../../outside/secret.txt"); err == nil {
		t.Error("Join without an invocation let an escape through")
	}
}

// TestFileSymlinkEscape: a request input that walks through a symlinked
// directory out of the directory it was appended to is refused by the
// file guard, however the path was built.
func TestFileSymlinkEscape(t *testing.T) {
	docs, _ := symlinkTree(t)
	g, _ := sinkTestGuard(t, "block", sinkPolicy)
	ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.doc", Value: "link/secret.txt"})
	for name, open := range map[string]func(string) error{
		"ReadFile":  func(p string) error { _, err := ReadFile(ctx, p); return err },
		"CheckPath": func(p string) error { return CheckPath(ctx, p) },
		"FS": func(p string) error {
			_, err := fs.ReadFile(FS(ctx, docs), "link/secret.txt")
			return err
		},
	} {
		err := open(filepath.Join(docs, "link/secret.txt"))
		var be *BlockedError
		if !errors.As(err, &be) || be.Reason != "input escapes the base directory through a symlink" {
			t.Errorf("%s: err = %v, want a symlink refusal", name, err)
		}
	}
	ctx = sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.doc", Value: "readme.txt"})
	if b, err := ReadFile(ctx, filepath.Join(docs, "readme.txt")); err != nil || string(b) != "hello" {
		t.Errorf("benign ReadFile = %q, %v", b, err)
	}
}

// TestReadFileJoinTraversal is the call form of the field: Join cleans
// the path, so the input is no longer in it.
func TestReadFileJoinTraversal(t *testing.T) {
	docs, _ := symlinkTree(t)
	g, _ := sinkTestGuard(t, "block", sinkPolicy)
	in := "../../outside/secret.txt"
	ctx := sinkTestCtx(g, rules.Field{Source: rules.SourceQuery, Path: "query.doc", Value: in})
	if b, err := ReadFile(ctx, filepath.Join(docs, in)); err == nil {
		t.Fatalf("ReadFile(Join(base, %q)) read %q", in, b)
	} else {
		sinkBlocked(t, err)
	}
}
