package rules

import (
	"net/url"
	"path"
	"strings"
)

// maxPathDecodes bounds the URL-decoding rounds applied to an input the
// application may have decoded itself before using it as a path.
const maxPathDecodes = 2

// pathForms returns v and its URL-decoded forms (at most
// maxPathDecodes rounds, each only while it changes something), in dst:
// an application that unescapes "..%2f..%2fetc" itself opens a path in
// which only the decoded form is found.
func pathForms(dst []string, v string) []string {
	dst = append(dst, v)
	for i := 0; i < maxPathDecodes && strings.IndexByte(v, '%') >= 0; i++ {
		d, err := url.PathUnescape(v)
		if err != nil || d == v {
			break
		}
		dst = append(dst, d)
		v = d
	}
	return dst
}

// cleanedEscape returns why the input form f, joined to some directory
// and cleaned (filepath.Join, path.Join, filepath.Clean), leaves that
// directory in the path opened — whatever the directory, since a
// cleaned relative path that starts with ".." climbs above its start —
// or "". joined is the cleaned path and resolved, when known, the file
// actually opened. The part of f below its climb ("etc/passwd" of
// "../../../etc/passwd") must end the path, so that a request that only
// mentions ".." somewhere does not count.
func cleanedEscape(f, joined, resolved string) string {
	if !hasDotDot(f) {
		return ""
	}
	// Join treats an absolute second element as relative: "/../etc".
	c := path.Clean(strings.TrimLeft(f, "/"))
	if c != ".." && !strings.HasPrefix(c, "../") {
		return ""
	}
	rest := c
	for strings.HasPrefix(rest, "../") {
		rest = rest[3:]
	}
	if rest == "" || rest == ".." {
		return ""
	}
	if strings.HasSuffix(joined, "/"+rest) || joined == rest || resolved != "" && strings.HasSuffix(resolved, "/"+rest) {
		return "input escapes the base directory"
	}
	return ""
}

// intoProc reports whether the cleaned path p is in /proc and the input
// form f names part of it below /proc ("proc/self/root/..."): an input
// that leads into another view of the file system or the process.
func intoProc(f, p string) bool {
	if !strings.HasPrefix(p, "/proc/") {
		return false
	}
	c := strings.TrimLeft(path.Clean("/"+f), "/")
	return len(c) > len("proc/") && strings.HasPrefix(c, "proc/") && strings.HasSuffix(p, c)
}
