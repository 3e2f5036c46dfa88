package rasp

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// FuzzSQLGuardSQLite is a differential test of the SQL guard against
// SQLite itself: an input the guard lets through in a statement must be
// read by SQLite as data. Each template places the input inside a
// literal or a comment; when the guard allows the statement and SQLite
// runs it, the result must be the one the input as data gives: the
// literal's value, or the columns around the comment.
func FuzzSQLGuardSQLite(f *testing.F) {
	for _, s := range []string{
		"abc", "O'Brien", "x' OR '1'='1", "'#", "*/ , 3 /*", "\n, 3 --", `\`, "it''s", "'||'", "x\" || \"",
		"*/", "/*", "' ", "'", "$$", "]", "x'; SELECT 'y",
	} {
		f.Add(s)
	}
	eng, err := rules.Compile(mustParse(f, "version: 1\nname: fuzz\nmode: block\non_error: allow\nsinks: {sql: block}\n"))
	if err != nil {
		f.Fatal(err)
	}
	sinks := eng.Sinks()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(f.TempDir(), "fuzz.db")+"?_pragma=query_only(1)")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = db.Close() })
	run := func(q string) ([]string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		var out []string
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return nil, err
			}
			for _, v := range vals {
				out = append(out, v.String)
			}
		}
		return out, rows.Err()
	}
	templates := []struct {
		prefix, suffix string
		// want is the result SQLite must give when v is data.
		want func(v string) []string
	}{
		{"SELECT 'x", "y'", func(v string) []string { return []string{"x" + strings.ReplaceAll(v, "''", "'") + "y"} }},
		{`SELECT "x`, `y"`, func(v string) []string { return []string{"x" + strings.ReplaceAll(v, `""`, `"`) + "y"} }},
		{"SELECT 1 /* ", " */, 2", func(string) []string { return []string{"1", "2"} }},
		{"SELECT 1 -- ", "\n, 2", func(string) []string { return []string{"1", "2"} }},
	}
	f.Fuzz(func(t *testing.T, v string) {
		lower := strings.ToLower(v)
		if v == "" || strings.Contains(lower, "attach") || strings.Contains(lower, "vacuum") || strings.ContainsRune(v, 0) {
			t.Skip("statements that write files or that database/sql cuts short")
		}
		in := []rules.Field{{Source: rules.SourceQuery, Path: "query.q", Value: v}}
		for _, tpl := range templates {
			q := tpl.prefix + v + tpl.suffix
			if sinks.CheckSQL("sqlite", q, in).Matched() {
				continue
			}
			got, err := run(q)
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) {
					t.Skip("statement too slow")
				}
				continue // not a statement: nothing ran
			}
			if want := tpl.want(v); !equalStrings(got, want) {
				t.Errorf("guard allowed %q in %q: SQLite returned %q, want %q", v, q, got, want)
			}
		}
	})
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustParse(tb testing.TB, src string) *policy.Policy {
	tb.Helper()
	p, err := policy.Parse("fuzz.yaml", []byte(src))
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
