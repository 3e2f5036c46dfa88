package rasp

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// sharedCorpus finds ../shared/corpus next to the repository root.
func sharedCorpus(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		t.Skipf("corpus not found: %v", err)
	}
	return c
}

func corpusLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); len(l) >= 3 {
			out = append(out, l)
		}
	}
	return out
}

// TestSQLGuardCorpus judges the SQL guard against SQLite itself. Every
// corpus value (the SQL injection list and the benign lists) is
// concatenated into a string literal of a query, as vulnerable code does,
// and run by a real SQLite, unguarded, next to the parameterised form of
// the same query:
//
//   - the concatenated query runs but returns other rows than the
//     parameterised one: the input changed the statement's meaning — an
//     injection reached the sink, and the guard must flag it;
//   - both return the same rows: for the benign lists, the input stayed
//     data and the guard must not flag it (attack payloads can alter the
//     statement without changing these rows, so for them it is reported);
//   - the concatenated query fails: the input broke the statement (an
//     error-based probe, or a benign apostrophe in vulnerable code); the
//     guard's verdict is reported, not asserted.
func TestSQLGuardCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the corpus through SQLite")
	}
	if raceEnabled {
		t.Skip("the pure-Go SQLite is too slow under -race; make test runs this test without it")
	}
	corpus := sharedCorpus(t)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "truth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range []string{
		`CREATE TABLE products (name TEXT, price REAL, secret TEXT)`,
		`INSERT INTO products VALUES ('espresso cup', 9.5, 's1'), ('grinder', 89, 's2'), ('milk jug', 14, 's3')`,
		`PRAGMA query_only = ON`, // stacked statements cannot change the ground truth
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := rules.DefaultEngine()
	if err != nil {
		t.Fatal(err)
	}
	sinks := eng.Sinks()
	query := func(limit time.Duration, q string, args ...any) ([]string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		defer cancel()
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var v sql.NullString
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			out = append(out, v.String)
		}
		return out, rows.Err()
	}
	// run gives the parameterised truth 10 s. An injected statement is cut
	// at 100 ms and, when cut, run once more with 1 s: only a statement
	// that runs away twice counts as too slow to judge, so a loaded
	// machine does not turn a benign value into an "injection".
	run := func(q string, args ...any) ([]string, error) {
		if len(args) > 0 {
			return query(10*time.Second, q, args...)
		}
		out, err := query(100*time.Millisecond, q)
		if errors.Is(err, context.DeadlineExceeded) {
			out, err = query(time.Second, q)
		}
		return out, err
	}
	const prefix = "SELECT name FROM products WHERE name = '"
	truth, err := run(prefix[:len(prefix)-1]+"?", "x")
	if err != nil || len(truth) != 0 {
		t.Fatalf("parameterised baseline = %v, %v", truth, err)
	}
	type tally struct{ changed, caught, same, falsePos, broken, brokenFlagged int }
	// Every third attack line keeps make test fast (SQLite runs each
	// twice); LAMBDA_RASP_FULL_CORPUS=1 runs them all.
	stride := 3
	if os.Getenv("LAMBDA_RASP_FULL_CORPUS") == "1" {
		stride = 1
	}
	lists := []struct {
		file   string
		attack bool
	}{
		{"attacks/sqli.txt", true},
		{"benign/httpparams.txt", false},
		{"benign/blns.txt", false},
	}
	for _, l := range lists {
		var tl tally
		var missed, fps []string
		for i, p := range corpusLines(t, filepath.Join(corpus, l.file)) {
			if l.attack && i%stride != 0 {
				continue
			}
			q := prefix + p + "'"
			want, err := run(prefix[:len(prefix)-1]+"?", p)
			if err != nil {
				t.Fatalf("parameterised query with %q: %v", p, err)
			}
			got, err := run(q)
			flagged := sinks.CheckSQL("sqlite", q, []rules.Field{{Source: rules.SourceQuery, Path: "query.q", Value: p}}).Matched()
			switch {
			case err != nil && !errors.Is(err, context.DeadlineExceeded):
				tl.broken++
				if flagged {
					tl.brokenFlagged++
				}
			case err != nil:
				// Too slow to judge (a heavy expression): the input was
				// executed as code, so it must be flagged.
				fallthrough
			case !slices.Equal(got, want):
				tl.changed++
				if flagged {
					tl.caught++
				} else {
					missed = append(missed, p)
				}
			default:
				tl.same++
				if flagged {
					tl.falsePos++
					if !l.attack {
						fps = append(fps, p)
					}
				}
			}
		}
		t.Logf("%-22s changed the rows: %d, caught %d; same rows: %d, flagged %d; broke the statement: %d, flagged %d",
			l.file, tl.changed, tl.caught, tl.same, tl.falsePos, tl.broken, tl.brokenFlagged)
		for i, p := range missed {
			if i == 10 {
				break
			}
			t.Errorf("injection reached SQLite unflagged: %q", p)
		}
		for i, p := range fps {
			if i == 10 {
				break
			}
			t.Errorf("input that stayed data was flagged: %q", p)
		}
	}
}
