package rules

import (
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckPathAsOpened: the application joins and cleans the input (or
// decodes it first) before opening; the guard judges the path opened.
func TestCheckPathAsOpened(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	const base = "/var/task/assets"
	tests := []struct {
		name, path, resolved, give, want string
	}{
		{"filepath.Join", filepath.Join(base, "../../../etc/passwd"), "", "../../../etc/passwd", "input escapes the base directory"},
		{"path.Join", path.Join(base, "x/../../../../etc/passwd"), "", "x/../../../../etc/passwd", "input escapes the base directory"},
		{"Clean of a concatenation", filepath.Clean(base + "/" + "../secret.txt"), "", "../secret.txt", "input escapes the base directory"},
		{"absolute second element", filepath.Join(base, "/../../etc/passwd"), "", "/../../etc/passwd", "input escapes the base directory"},
		{"decoded by the application", filepath.Join(base, "../../../etc/passwd"), "", "..%2f..%2f..%2fetc%2fpasswd", "input escapes the base directory"},
		{"decoded twice", filepath.Join(base, "../../../etc/passwd"), "", "..%252f..%252f..%252fetc%252fpasswd", "input escapes the base directory"},
		{"resolved only", "/tmp/link", "/etc/passwd", "../../etc/passwd", "input escapes the base directory"},
		{"proc root through Join", filepath.Join("/", "proc/self/root/etc/passwd"), "", "proc/self/root/etc/passwd", "input leads into /proc"},
		{"proc via traversal", filepath.Join(base, "../../../proc/self/root/etc/shadow"), "", "../../../proc/self/root/etc/shadow", "input escapes the base directory"},
		{"stays inside after cleaning", filepath.Join(base, "img/../logo.png"), "", "img/../logo.png", ""},
		{"plain name joined", filepath.Join(base, "logo.png"), "", "logo.png", ""},
		{"absolute input joined stays inside", filepath.Join(base, "/etc/passwd"), "", "/etc/passwd", ""},
		{"dots mentioned elsewhere", filepath.Join(base, "report.txt"), "", "../../etc/passwd", ""},
		{"encoded but harmless", filepath.Join(base, "a b.txt"), "", "a%20b.txt", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.CheckPath("", tt.path, tt.resolved, query(tt.give))
			if r.Reason != tt.want {
				t.Fatalf("CheckPath(%q, %q) with input %q = %+v, want %q", tt.path, tt.resolved, tt.give, r, tt.want)
			}
		})
	}
}

// FuzzCheckPathJoin is a differential test against filepath.Join and
// filepath.Clean: whenever joining an input to a base directory leaves
// that directory for a file below some ancestor, the guard refuses the
// path opened, and an input whose cleaned form stays below its start is
// never a traversal.
func FuzzCheckPathJoin(f *testing.F) {
	for _, s := range [][2]string{
		{"srv/data", "../../../etc/passwd"}, {"a/b/c", "x/../../y"}, {"srv", "/../etc"}, {"srv", "..%2fetc"},
		{"srv/data", "a/../b"}, {"x", ".."}, {"a/b", "./../b/c"}, {"a", "../a/b"},
	} {
		f.Add(s[0], s[1])
	}
	s := sinksFor(f, "block", "sinks:\n  files: {mode: block}\n")
	f.Fuzz(func(t *testing.T, dir, v string) {
		if strings.ContainsAny(dir, "\x00%") || strings.Contains(dir, "..") || strings.ContainsRune(v, 0) || len(v) < minPathInput || len(v) > 512 || len(dir) > 128 {
			t.Skip()
		}
		base := filepath.Clean("/srv/" + dir)
		for _, form := range []string{v, unescaped(v)} {
			p := filepath.Join(base, form)
			r := s.CheckPath("", p, "", query(v))
			rel := filepath.Clean(strings.TrimLeft(form, "/"))
			climbs := rel == ".." || strings.HasPrefix(rel, "../")
			if climbs && strings.Trim(rel, "./") != "" && !within(p, base) && !r.Matched() {
				t.Errorf("Join(%q, %q) = %q leaves the base; CheckPath allowed it", base, form, p)
			}
			if form == v && !climbs && !strings.Contains(v, "proc/") && r.Matched() && r.Reason != "absolute path from input" {
				t.Errorf("Join(%q, %q) = %q stays below its start; CheckPath = %+v", base, v, p, r)
			}
		}
	})
}

func unescaped(v string) string {
	d, err := url.PathUnescape(v)
	if err != nil {
		return v
	}
	return d
}
