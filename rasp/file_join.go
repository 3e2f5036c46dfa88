package rasp

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Join returns filepath.Join(base, name) when the path stays inside
// base as it would be opened: cleaned (so "../" in name cannot climb
// out) and, where the directories exist, with symlinks followed (so a
// symlinked directory under base that points elsewhere cannot lead out
// either). Otherwise it returns "" and a *BlockedError, reported as a
// traversal and correlated with the request input in name when there is
// one; in monitor mode it reports and returns the path. Confinement is
// Join's contract, so it refuses an escape even outside a wrapped
// handler; only "files: off" turns it off.
//
// It is the easy safe form of filepath.Join(base, input):
//
//	p, err := rasp.Join(ctx, "/var/task/docs", name)
//	if err != nil { ... }
//	b, err := rasp.ReadFile(ctx, p)
func Join(ctx context.Context, base, name string) (string, error) {
	p := filepath.Join(base, name)
	g, inputs := sinkInputs(ctx)
	if g != nil && g.engine.Sinks().FileMode() == rules.ModeOff {
		return p, nil
	}
	cb := filepath.Clean(base)
	reason := ""
	switch {
	case !withinPath(p, cb):
		reason = "path leaves its base directory"
	case throughSymlink(cb, filepath.Dir(p)):
		reason = "path leaves its base directory through a symlink"
	}
	if reason == "" {
		return p, nil
	}
	r := rules.SinkResult{Action: rules.ActionBlock, RuleID: rules.RuleTraversalSink, Reason: reason}
	if g == nil {
		return "", (&sinkCheck{Sink: sinkFile, Action: r.Action, RuleID: r.RuleID, Category: sinkCategory(r.RuleID), Dest: p, Reason: reason}).blocked(nil)
	}
	if g.engine.Sinks().FileMode() == rules.ModeMonitor {
		r.Action = rules.ActionMonitor
	}
	if in := inputIn(name, inputs); in != nil {
		r.Input, r.Excerpt = in, rules.EgressExcerpt(in.Value, 0, len(in.Value))
	}
	if err := decideSink(ctx, g, sinkFile, p, r); err != nil {
		return "", err
	}
	return p, nil
}

// withinPath reports whether the clean path p is dir (clean) or below
// it.
func withinPath(p, dir string) bool {
	switch dir {
	case "/":
		return strings.HasPrefix(p, "/")
	case ".":
		return p != ".." && !strings.HasPrefix(p, "../") && !filepath.IsAbs(p)
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// throughSymlink reports whether dir, a directory at or below base,
// resolves to somewhere outside what base resolves to. Directories that
// do not exist (yet) cannot lead anywhere and count as inside.
func throughSymlink(base, dir string) bool {
	if dir == base {
		return false
	}
	ab, err := filepath.Abs(base)
	if err != nil {
		return false
	}
	ad, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	rb, err := realPath(ab)
	if err != nil {
		return false
	}
	rd, err := realPath(ad)
	if err != nil {
		return false
	}
	return !withinPath(rd, rb)
}

// inputIn returns the longest request input of at least 2 bytes that is
// name or is contained in it, or nil.
func inputIn(name string, inputs []rules.Field) *rules.Field {
	var best *rules.Field
	for i := range inputs {
		v := inputs[i].Value
		if len(v) >= 2 && (best == nil || len(v) > len(best.Value)) && strings.Contains(name, v) {
			best = &inputs[i]
		}
	}
	return best
}

// symlinkDecision refuses name (relative to base when set) when a
// request input with directory components ("link/secret") is the end of
// the path and the directory it leads to resolves outside the directory
// the input was appended to: a symlinked directory cannot hide an
// escape. It costs two path resolutions, and only for such inputs.
func symlinkDecision(ctx context.Context, g *guard, inputs []rules.Field, base, name string) error {
	full := joinBase(base, name)
	for i := range inputs {
		v := inputs[i].Value
		if len(v) < 2 || !strings.Contains(v, "/") || strings.Contains(v, "..") || !strings.HasSuffix(full, v) {
			continue
		}
		a := len(full) - len(v)
		var dir string
		switch {
		case v[0] == '/' && a > 0:
			dir = full[:a] // "/srv/data" + "/link/secret"
		case a > 0 && full[a-1] == '/':
			dir = full[:a-1] // "/srv/data/" + "link/secret"
		default:
			continue
		}
		if dir == "" {
			dir = "/"
		}
		dir = filepath.Clean(dir)
		if !throughSymlink(dir, filepath.Dir(filepath.Clean(full))) {
			continue
		}
		r := rules.SinkResult{Action: rules.ActionBlock, RuleID: rules.RuleTraversalSink, Reason: "input escapes the base directory through a symlink",
			Input: &inputs[i], Excerpt: rules.EgressExcerpt(v, 0, len(v))}
		if g.engine.Sinks().FileMode() == rules.ModeMonitor {
			r.Action = rules.ActionMonitor
		}
		return decideSink(ctx, g, sinkFile, filepath.Clean(full), r)
	}
	return nil
}
