package rasp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// fileTree makes dir/assets/guide.md and dir/secret.txt and returns dir.
func fileTree(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"assets/guide.md": "# guide", "secret.txt": "s3cr3t"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func nameInput(v string) rules.Field {
	return rules.Field{Source: rules.SourceQuery, Path: "query.name", Value: v}
}

func TestFileGuardTraversal(t *testing.T) {
	dir := fileTree(t)
	assets := filepath.Join(dir, "assets")
	g, rec := sinkTestGuard(t, "block", sinkPolicy)

	ctx := sinkTestCtx(g, nameInput("guide.md"))
	if b, err := ReadFile(ctx, assets+"/guide.md"); err != nil || string(b) != "# guide" {
		t.Fatalf("ReadFile(benign) = %q, %v", b, err)
	}

	ctx = sinkTestCtx(g, nameInput("../secret.txt"))
	b, err := ReadFile(ctx, assets+"/../secret.txt")
	if err == nil {
		t.Fatalf("traversal read %q", b)
	}
	be := sinkBlocked(t, err)
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != assets+"/../secret.txt" {
		t.Errorf("error = %#v, want an *fs.PathError", err)
	}
	if be.Sink != "file" || be.RuleIDs[0] != rules.RuleTraversalSink || be.Dest != filepath.Join(dir, "secret.txt") {
		t.Errorf("BlockedError = %+v", be)
	}
	if _, err := Open(ctx, assets+"/../secret.txt"); err == nil {
		t.Error("Open allowed the traversal")
	}
	if _, err := OpenFile(ctx, assets+"/../secret.txt", os.O_RDONLY, 0); err == nil {
		t.Error("OpenFile allowed the traversal")
	}
	if err := CheckPath(ctx, assets+"/../secret.txt"); err == nil {
		t.Error("CheckPath allowed the traversal")
	} else {
		sinkBlocked(t, err)
	}
	ev := rec.all()
	if len(ev) != 4 || ev[0].Kind != wire.KindSink || ev[0].Sink != "file" || ev[0].Category != "traversal" || ev[0].Path != "query.name" {
		t.Errorf("events = %+v", ev)
	}

	// Missing files pass through with os's error.
	ctx = sinkTestCtx(g, nameInput("nope.md"))
	if _, err := ReadFile(ctx, assets+"/nope.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile(missing) error = %v, want fs.ErrNotExist", err)
	} else {
		var be *BlockedError
		if errors.As(err, &be) {
			t.Errorf("missing file reported as blocked")
		}
	}
}

func TestFileGuardDeny(t *testing.T) {
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc")
	}
	g, rec := sinkTestGuard(t, "block", sinkPolicy)
	ctx := sinkTestCtx(g)
	for _, p := range []string{"/proc/self/environ", "/proc/self/../self/environ", "/proc/thread-self/environ"} {
		_, err := ReadFile(ctx, p)
		be := sinkBlocked(t, err)
		if be.RuleIDs[0] != rules.RuleFileDeny || !strings.HasPrefix(be.Dest, "/proc/") || !strings.HasSuffix(be.Dest, "/environ") {
			t.Errorf("ReadFile(%s): %+v", p, be)
		}
	}

	// A symlink to a denied file.
	link := filepath.Join(t.TempDir(), "innocent.txt")
	if err := os.Symlink("/proc/self/environ", link); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, link); err == nil {
		t.Error("symlink to /proc/self/environ opened")
	} else if be := sinkBlocked(t, err); be.RuleIDs[0] != rules.RuleFileDeny {
		t.Errorf("symlink: %+v", be)
	}
	// A symlinked directory, and a file to be created under it.
	dirLink := filepath.Join(t.TempDir(), "rt")
	if err := os.Symlink("/proc/self", dirLink); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(ctx, dirLink+"/environ"); err == nil {
		t.Error("environ through a symlinked directory read")
	}
	ev := rec.all()
	if len(ev) != 5 || ev[0].RuleID != rules.RuleFileDeny || ev[0].Category != "file" || ev[0].Source != "" {
		t.Errorf("events = %+v", ev)
	}

	// Allow exempts, when it matches the path actually opened (after
	// symlinks): /proc/self is a symlink to /proc/<pid>.
	g, _ = sinkTestGuard(t, "block", "sinks:\n  files: {mode: block, deny: [/proc/**], allow: [/proc/self/status, /proc/*/status]}\n")
	if _, err := ReadFile(sinkTestCtx(g), "/proc/self/status"); err != nil {
		t.Errorf("allowed path refused: %v", err)
	}
	g, _ = sinkTestGuard(t, "block", "sinks:\n  files: {mode: block, deny: [/proc/**], allow: [/proc/self/status]}\n")
	if _, err := ReadFile(sinkTestCtx(g), "/proc/self/status"); err == nil {
		t.Errorf("an allow entry that does not match the resolved path exempted it")
	}
	g, rec = sinkTestGuard(t, "block", "sinks:\n  files: {mode: monitor, deny: [/proc/**]}\n")
	if _, err := ReadFile(sinkTestCtx(g), "/proc/self/status"); err != nil {
		t.Errorf("monitor refused: %v", err)
	}
	if ev := rec.all(); len(ev) != 1 || ev[0].Action != "monitor" {
		t.Errorf("monitor events = %+v", ev)
	}
	g, rec = sinkTestGuard(t, "block", "sinks:\n  files: 'off'\n")
	if _, err := ReadFile(sinkTestCtx(g, nameInput("/proc/self/environ")), "/proc/self/environ"); err != nil {
		t.Errorf("off refused: %v", err)
	}
	if ev := rec.all(); len(ev) != 0 {
		t.Errorf("off reported %+v", ev)
	}
}

func TestGuardedFS(t *testing.T) {
	dir := fileTree(t)
	assets := filepath.Join(dir, "assets")
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(assets, "s.txt")); err != nil {
		t.Fatal(err)
	}
	g, rec := sinkTestGuard(t, "block", "sinks:\n  files: {mode: block, deny: ['"+filepath.Join(dir, "secret.txt")+"']}\n")
	ctx := sinkTestCtx(g, nameInput("../secret.txt"))
	fsys := FS(ctx, assets)
	if err := fstest.TestFS(fsys, "guide.md"); err != nil && !strings.Contains(err.Error(), "s.txt") {
		t.Errorf("TestFS: %v", err)
	}
	if b, err := fs.ReadFile(fsys, "guide.md"); err != nil || string(b) != "# guide" {
		t.Errorf("ReadFile(guide.md) = %q, %v", b, err)
	}
	// An invalid fs.FS name from an input: refused and reported.
	_, err := fsys.Open("../secret.txt")
	if be := sinkBlocked(t, err); be.RuleIDs[0] != rules.RuleTraversalSink {
		t.Errorf("Open(../secret.txt) = %+v", be)
	}
	// A symlink inside the directory to a denied file.
	if _, err := fs.ReadFile(fsys, "s.txt"); err == nil {
		t.Error("symlink to a denied file read through FS")
	} else {
		sinkBlocked(t, err)
	}
	if _, err := fsys.Open("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(nope) = %v, want fs.ErrNotExist", err)
	}
	n := 0
	for _, e := range rec.all() {
		if e.Sink == "file" {
			n++
		}
	}
	if n < 2 {
		t.Errorf("%d file events, want at least 2", n)
	}
}
