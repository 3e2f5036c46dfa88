package rasp

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Open opens name for reading like [os.Open], once the file guard has
// checked it against the sinks.files policy and the inputs of the
// invocation ctx belongs to. A refused path is not opened: the error is
// an *fs.PathError whose Err is a *BlockedError (match it with
// errors.As). Other errors, fs.ErrNotExist included, are os.Open's.
//
// The guard refuses a path in which a request input escapes the
// directory it was joined to ("/var/task/assets/" + "../../proc/self/
// environ"), an absolute path that is a request input, and paths that
// sinks.files denies, /proc/self/environ (the function's AWS
// credentials) among them by default, after following symlinks.
func Open(ctx context.Context, name string) (*os.File, error) {
	return openVerified(ctx, name)
}

// openVerified opens name read-only and decides on the file actually
// opened: the checks that need no file system (traversal, denied paths
// as written) run first; then, where the platform can name an open
// descriptor's file (Linux /proc/self/fd), the file is opened and its
// real path checked before anything is read — one readlink instead of
// resolving symlinks beforehand, and no window between check and open.
// A refused file is closed unread.
func openVerified(ctx context.Context, name string) (*os.File, error) {
	g, inputs := sinkInputs(ctx)
	if g == nil || g.engine.Sinks().FileMode() == rules.ModeOff {
		return os.Open(name)
	}
	if !g.engine.Sinks().HasFileDeny() || !fdPaths {
		if err := checkFile(ctx, "open", "", name); err != nil {
			return nil, err
		}
		return os.Open(name)
	}

	// As written: traversal and denied paths, no file system access.
	reported, err := pathDecision(ctx, g, inputs, "", name, "", "")
	if err == nil {
		err = symlinkDecision(ctx, g, inputs, "", name)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	real, err := fdPath(f)
	if err != nil {
		// Cannot name the file: fall back to resolving the path.
		real = resolvePath(name)
	}
	// A monitored finding of the first pass is not reported twice.
	if _, err := pathDecision(ctx, g, inputs, "", name, real, reported); err != nil {
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f, nil
}

// OpenFile is [os.OpenFile] with the checks of [Open]. For a file that
// does not exist yet, symlinks are resolved on its directory.
func OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (*os.File, error) {
	if err := checkFile(ctx, "open", "", name); err != nil {
		return nil, err
	}
	return os.OpenFile(name, flag, perm)
}

// ReadFile is [os.ReadFile] with the checks of [Open].
func ReadFile(ctx context.Context, name string) ([]byte, error) {
	f, err := openVerified(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// CheckPath runs the file guard's checks of [Open] on a path about to be
// used some other way (os.Remove, a library that takes a file name). It
// returns a *BlockedError when the path must not be used, nil otherwise.
func CheckPath(ctx context.Context, name string) error {
	return fileDecision(ctx, "", name)
}

// FS returns the file system rooted at dir, like [os.DirFS], with the
// checks of [Open] on every file it opens, correlated with the inputs of
// the invocation ctx belongs to: build it per request (it is cheap). A
// name that is not a valid fs.FS path ("../x") is refused by os.DirFS
// anyway; when a request input made it so, the guard also reports it and
// the error wraps a *BlockedError. Refusals are *fs.PathError values
// whose Err is the *BlockedError.
func FS(ctx context.Context, dir string) fs.FS {
	return &guardedFS{ctx: ctx, dir: dir, fsys: os.DirFS(dir)}
}

// guardedFS is what FS returns.
type guardedFS struct {
	ctx  context.Context
	dir  string
	fsys fs.FS
}

var (
	_ fs.FS         = (*guardedFS)(nil)
	_ fs.ReadFileFS = (*guardedFS)(nil)
)

// Open opens name after the file guard's checks.
func (f *guardedFS) Open(name string) (fs.File, error) {
	if err := checkFile(f.ctx, "open", f.dir, name); err != nil {
		return nil, err
	}
	return f.fsys.Open(name)
}

// ReadFile reads name after the file guard's checks.
func (f *guardedFS) ReadFile(name string) ([]byte, error) {
	if err := checkFile(f.ctx, "open", f.dir, name); err != nil {
		return nil, err
	}
	return fs.ReadFile(f.fsys, name)
}

// checkFile runs the file guard on name (relative to base when base is
// set) and wraps a refusal in an *fs.PathError for op.
func checkFile(ctx context.Context, op, base, name string) error {
	if err := fileDecision(ctx, base, name); err != nil {
		return &fs.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

// fileDecision runs the file guard on name (relative to base when base
// is set), symlinks resolved beforehand.
func fileDecision(ctx context.Context, base, name string) error {
	g, inputs := sinkInputs(ctx)
	if g == nil || g.engine.Sinks().FileMode() == rules.ModeOff {
		return nil
	}
	resolved := ""
	if g.engine.Sinks().HasFileDeny() {
		resolved = resolvePath(joinBase(base, name))
	}
	if _, err := pathDecision(ctx, g, inputs, base, name, resolved, ""); err != nil {
		return err
	}
	return symlinkDecision(ctx, g, inputs, base, name)
}

// pathDecision checks name (joined to base, with resolved as its real
// path when known), reports a finding unless its rule is skip, and
// returns the finding's rule id and the error the call must fail with.
func pathDecision(ctx context.Context, g *guard, inputs []rules.Field, base, name, resolved, skip string) (string, error) {
	s := g.engine.Sinks()
	r := runSinkCheck(g, func() rules.SinkResult { return s.CheckPath(base, name, resolved, inputs) })
	if !r.Matched() || (skip != "" && r.RuleID == skip) {
		return r.RuleID, nil
	}
	dest := resolved
	if dest == "" {
		dest = filepath.Clean(joinBase(base, name))
	}
	return r.RuleID, decideSink(ctx, g, sinkFile, dest, r)
}

// joinBase is name relative to base, when base is set and name relative.
func joinBase(base, name string) string {
	if base != "" && !filepath.IsAbs(name) {
		return filepath.Join(base, name)
	}
	return name
}

// resolvePath returns the absolute form of name with symlinks followed,
// as far as they exist: the whole path when it exists, else its
// directory (the file may be about to be created), else the absolute
// path as is.
func resolvePath(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return ""
	}
	if real, err := realPath(abs); err == nil {
		return real
	}
	// A missing file (maybe about to be created): resolve its directory.
	if real, err := realPath(filepath.Dir(abs)); err == nil {
		return filepath.Join(real, filepath.Base(abs))
	}
	return abs
}
