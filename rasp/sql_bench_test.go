package rasp

import (
	"database/sql"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// sinkBenchInputs is a typical API Gateway request's inputs.
func sinkBenchInputs(search string) []rules.Field {
	return []rules.Field{
		{Source: rules.SourcePath, Path: "path", Value: "/products"},
		{Source: rules.SourceQuery, Path: "query.search", Value: search},
		{Source: rules.SourceHeaders, Path: "headers.user-agent", Value: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
		{Source: rules.SourceHeaders, Path: "headers.accept", Value: "application/json"},
		{Source: rules.SourceHeaders, Path: "headers.host", Value: "api.example.com"},
		{Source: rules.SourceCookies, Path: "cookies.session", Value: "c2Vzc2lvbi10b2tlbi0xMjM0NTY3ODkw"},
	}
}

// BenchmarkSQLGuard measures a query through the guarded driver against
// the same query on the bare driver (in-memory SQLite, one row).
func BenchmarkSQLGuard(b *testing.B) {
	const q = "SELECT name FROM products WHERE name LIKE '%grinder%'"
	g, _ := sinkTestGuard(b, "block", sinkPolicy)
	ctx := sinkTestCtx(g, sinkBenchInputs("grinder")...)
	run := func(b *testing.B, db *sql.DB) {
		b.ReportAllocs()
		for b.Loop() {
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			for rows.Next() {
			}
			_ = rows.Close()
		}
	}
	b.Run("bare", func(b *testing.B) {
		db, err := sql.Open("sqlite", "file:bench-bare?mode=memory&cache=shared")
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		seedBench(b, db)
		run(b, db)
	})
	b.Run("guarded", func(b *testing.B) {
		db := testDB(b)
		run(b, db)
	})
	b.Run("check-only", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkSQL(ctx, "sqlite", q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func seedBench(b *testing.B, db *sql.DB) {
	b.Helper()
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS products (name TEXT, price REAL, secret TEXT);
		INSERT INTO products VALUES ('grinder', 89, 's2')`); err != nil {
		b.Fatal(err)
	}
}
