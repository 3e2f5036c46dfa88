package rules

import (
	"errors"
	"path"
	"strings"
)

// minPathInput is the shortest input the file guard correlates.
const minPathInput = 2

// CheckPath reports whether the program may open name.
//
// base is the directory name is confined to when the caller knows it
// (an fs.FS rooted there, name relative to it), or "" when name is a
// plain path that an input may have been concatenated into. resolved is
// the absolute path of the file with symlinks followed, or "" when
// unknown; the rasp package resolves it before calling.
//
// Paths are compared as opened: an input is also correlated in its
// cleaned form, since filepath.Join, path.Join and filepath.Clean remove
// the ".." elements that made it escape, and in its URL-decoded forms
// (an application may unescape it before use). In order, it finds:
//   - RuleTraversalSink: an input of at least 2 bytes that, cleaned,
//     climbs above the directory it is joined to ("../../etc/passwd",
//     "a/../../x", "..%2f..%2fetc%2fpasswd", "/../etc") and whose rest
//     ends the cleaned path or resolved — whatever directory it was
//     joined to; or, found verbatim in name, contains a ".." element and
//     the cleaned path leaves the directory the input was joined to
//     (base, or the directory part of name before the input:
//     "/srv/assets/" for "/srv/assets/"+input); or leads into /proc
//     ("proc/self/root/etc/passwd" joined to "/"); or, absolute, is the
//     whole path (give or take a file extension);
//   - RuleFileDeny: the cleaned path, or resolved, matches a
//     sinks.files.deny glob and no sinks.files.allow glob. Each form is
//     judged on its own, so an allow entry exempts a symlinked path only
//     if it matches the file actually opened (allow /proc/*/status, not
//     just /proc/self/status). The correlated input, if any input is
//     part of name, is reported with it.
//
// A path that stays inside its directory ("a/../b") is not a traversal.
// A path holding more than 64 occurrences of inputs with ".." (only a
// crafted request does that) is refused as a traversal rather than
// examined further.
func (s *Sinks) CheckPath(base, name, resolved string, inputs []Field) SinkResult {
	if s == nil || s.fileMode == ModeOff {
		return SinkResult{}
	}
	// joined is the cleaned path, computed once; budget bounds the
	// occurrences examined (each cleans a directory), past which the
	// path is refused.
	joined, budget := "", maxPathChecks
	var formsBuf [1 + maxPathDecodes]string
	for i := range inputs {
		if len(inputs[i].Value) < minPathInput {
			continue
		}
		for _, v := range pathForms(formsBuf[:0], inputs[i].Value) {
			abs := v[0] == '/'
			dots := hasDotDot(v)
			proc := strings.Contains(v, "proc/")
			if !abs && !dots && !proc {
				continue
			}
			if joined == "" {
				joined = joinClean(base, name)
			}
			// As opened: the input joined and cleaned by the
			// application no longer appears in the path.
			reason := cleanedEscape(v, joined, resolved)
			if reason == "" && proc && (intoProc(v, joined) || resolved != "" && intoProc(v, resolved)) {
				reason = "input leads into /proc"
			}
			if reason == "" && (abs || dots) && len(v) <= len(name) {
				seen := 0
				occurrences(name, v, func(at int) bool {
					if seen++; seen > maxPathOccurrences {
						return true // stop examining this input; the path budget bounds the rest
					}
					if budget == 0 {
						// Only a crafted request puts this many inputs with
						// ".." in one path: refuse rather than skip the rest.
						reason = "too many inputs in the path"
						return true
					}
					budget--
					reason = traversal(base, name, joined, at, at+len(v))
					return reason != ""
				})
			}
			if reason != "" {
				return found(s.fileMode, RuleTraversalSink, reason, &inputs[i], 0, len(inputs[i].Value))
			}
		}
	}
	if len(s.fileDeny) == 0 {
		return SinkResult{}
	}
	full := name
	if base != "" && !strings.HasPrefix(name, "/") {
		full = base + "/" + name
	}
	if strings.HasPrefix(full, "/") && s.denied(path.Clean(full)) || resolved != "" && s.denied(resolved) {
		in := s.pathInput(name, inputs)
		r := found(s.fileMode, RuleFileDeny, "path denied", in, 0, 0)
		if in != nil {
			r.Excerpt = excerpt(in.Value, 0, len(in.Value))
		}
		return r
	}
	return SinkResult{}
}

// denied reports whether the clean absolute path p is denied and not
// allowed.
func (s *Sinks) denied(p string) bool {
	for i := range s.fileDeny {
		if s.fileDeny[i].match(p) {
			for j := range s.fileAllow {
				if s.fileAllow[j].match(p) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// pathInput returns the longest input of at least minPathInput bytes
// contained in name, or nil.
func (s *Sinks) pathInput(name string, inputs []Field) *Field {
	var best *Field
	for i := range inputs {
		v := inputs[i].Value
		if len(v) >= minPathInput && (best == nil || len(v) > len(best.Value)) && strings.Contains(name, v) {
			best = &inputs[i]
		}
	}
	return best
}

// maxPathChecks bounds the input occurrences one CheckPath examines.
const maxPathChecks = 64

// maxPathOccurrences bounds the occurrences of one input examined in a
// path.
const maxPathOccurrences = 8

// joinClean returns name, joined to base when base is set and name is
// relative, cleaned.
func joinClean(base, name string) string {
	if base != "" && !strings.HasPrefix(name, "/") {
		return path.Clean(base + "/" + name)
	}
	return path.Clean(name)
}

// traversal examines the input at name[a:b] and returns why it escapes
// its directory, or "". joined is joinClean(base, name).
func traversal(base, name, joined string, a, b int) string {
	v := name[a:b]
	if v[0] == '/' && a == 0 && (base == "" || strings.HasPrefix(name, "/")) && !strings.Contains(name[b:], "/") {
		return "absolute path from input"
	}
	if !hasDotDot(v) {
		return ""
	}
	var dir string
	if base != "" && !strings.HasPrefix(name, "/") {
		dir = path.Clean(base)
	} else {
		dir = name[:strings.LastIndexByte(name[:a], '/')+1]
		if dir == "" {
			dir = "."
		}
		dir = path.Clean(dir)
	}
	if within(joined, dir) {
		return ""
	}
	return "input escapes the base directory"
}

// within reports whether the clean path p is dir or below it.
func within(p, dir string) bool {
	switch {
	case dir == "/":
		return strings.HasPrefix(p, "/")
	case dir == ".":
		return p != ".." && !strings.HasPrefix(p, "../") && !strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// hasDotDot reports whether v has a ".." path element.
func hasDotDot(v string) bool {
	for i := strings.Index(v, ".."); i >= 0 && i < len(v); {
		if (i == 0 || v[i-1] == '/') && (i+2 == len(v) || v[i+2] == '/') {
			return true
		}
		j := strings.Index(v[i+1:], "..")
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// fileGlob is a compiled sinks.files glob: "/"-separated elements, each
// a path.Match pattern or "**" (any number of elements, none included).
type fileGlob struct {
	elems []string
}

func compileFileGlobs(pats []string) ([]fileGlob, error) {
	var gs []fileGlob
	for _, p := range pats {
		if !strings.HasPrefix(p, "/") {
			return nil, errors.New("want an absolute path glob: " + p)
		}
		if strings.HasSuffix(p, "/") && p != "/" {
			p += "**" // a directory: everything below it
		}
		g := fileGlob{elems: strings.Split(strings.TrimPrefix(p, "/"), "/")}
		if p == "/" {
			g.elems = nil
		}
		for _, e := range g.elems {
			if _, err := path.Match(e, ""); err != nil {
				return nil, errors.New("bad pattern element in " + p)
			}
		}
		gs = append(gs, g)
	}
	return gs, nil
}

// match reports whether the clean absolute path p matches g. Matching
// is greedy with backtracking to the last "**": O(len(elems) * elements
// of p) at worst, without allocating.
func (g *fileGlob) match(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	rest := p[1:] // the elements not matched yet; "" when none is left
	gi := 0
	starG, starRest := -1, ""
	for {
		if rest == "" {
			for gi < len(g.elems) && g.elems[gi] == "**" {
				gi++
			}
			return gi == len(g.elems)
		}
		head, tail, _ := strings.Cut(rest, "/")
		if gi < len(g.elems) {
			if g.elems[gi] == "**" {
				starG, starRest = gi, rest
				gi++
				continue
			}
			if elemMatch(g.elems[gi], head) {
				gi++
				rest = tail
				continue
			}
		}
		if starG < 0 {
			return false
		}
		// Let the last "**" swallow one more element.
		_, starRest, _ = strings.Cut(starRest, "/")
		rest, gi = starRest, starG+1
	}
}

func elemMatch(pat, elem string) bool {
	if !strings.ContainsAny(pat, `*?[\`) {
		return pat == elem
	}
	ok, _ := path.Match(pat, elem)
	return ok
}

// HasFileDeny reports whether the file guard is on and has deny globs,
// so that a caller can skip resolving symlinks when no glob could match.
func (s *Sinks) HasFileDeny() bool {
	return s != nil && s.fileMode != ModeOff && len(s.fileDeny) > 0
}
