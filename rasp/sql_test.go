package rasp

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	_ "modernc.org/sqlite"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// sinkRecorder captures the security events of a sink guard test.
type sinkRecorder struct {
	mu     sync.Mutex
	events []wire.Event
}

func (r *sinkRecorder) Emit(e *wire.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, *e)
}

func (r *sinkRecorder) all() []wire.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wire.Event(nil), r.events...)
}

// sinkPolicy is the sinks section of the sink guard tests.
const sinkPolicy = `sinks:
  sql: block
  exec: block
  files:
    mode: block
    deny: [/proc/self/environ, /proc/*/environ, /var/runtime/**]
`

// sinkTestGuard builds a guard on a policy in the given mode with the
// given sinks section, whose events go to the returned recorder.
func sinkTestGuard(t testing.TB, mode, sinks string) (*guard, *sinkRecorder) {
	t.Helper()
	p, err := policy.Parse("sinks.yaml", []byte("version: 1\nname: sinks\nmode: "+mode+"\non_error: allow\n"+sinks))
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	rec := &sinkRecorder{}
	return &guard{engine: e, out: rec, function: "orders"}, rec
}

// sinkTestCtx returns the context of an invocation of g with inputs.
func sinkTestCtx(g *guard, inputs ...rules.Field) context.Context {
	return newContext(context.Background(), &Invocation{RequestID: "req-1", EventSource: "apigw-v2", Inputs: inputs, g: g})
}

func searchInput(v string) rules.Field {
	return rules.Field{Source: rules.SourceQuery, Path: "query.search", Value: v}
}

// sinkBlocked returns the *BlockedError in err, failing the test when
// there is none.
func sinkBlocked(t testing.TB, err error) *BlockedError {
	t.Helper()
	var be *BlockedError
	if !errors.As(err, &be) {
		t.Fatalf("error = %v, want a *BlockedError", err)
	}
	return be
}

// testDB opens a fresh in-memory SQLite database through OpenDB, with a
// products table of three rows.
func testDB(t testing.TB) *sql.DB {
	t.Helper()
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	db, err := OpenDB("sqlite", "file:"+name+"?mode=memory&cache=shared")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, s := range []string{
		`CREATE TABLE products (name TEXT, price REAL, secret TEXT)`,
		`INSERT INTO products VALUES ('espresso cup', 9.5, 's1'), ('grinder', 89, 's2'), ('milk jug', 14, 's3')`,
		`CREATE TABLE orders (product TEXT, note TEXT)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func names(t testing.TB, rows *sql.Rows) []string {
	t.Helper()
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func count(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestSQLGuardSQLite(t *testing.T) {
	db := testDB(t)
	g, rec := sinkTestGuard(t, "block", sinkPolicy)

	// A tautology in a concatenated query is refused before it runs.
	attack := "x' OR '1'='1"
	ctx := sinkTestCtx(g, searchInput(attack))
	rows, err := db.QueryContext(ctx, "SELECT name FROM products WHERE name = '"+attack+"'")
	if err == nil {
		got := names(t, rows)
		t.Fatalf("injected query ran and returned %v", got)
	}
	be := sinkBlocked(t, err)
	if be.Sink != "sql" || be.RuleIDs[0] != rules.RuleSQLiSink || be.Paths[0] != "query.search" || be.RequestID != "req-1" {
		t.Errorf("BlockedError = %+v", be)
	}
	if strings.Contains(be.Error(), attack) {
		t.Errorf("error text leaks the payload: %v", be)
	}
	ev := rec.all()
	if len(ev) != 1 {
		t.Fatalf("events = %+v, want 1", ev)
	}
	e := ev[0]
	if e.Kind != wire.KindSink || e.Sink != "sql" || e.Action != "block" || e.RuleID != rules.RuleSQLiSink || e.Category != "sqli" ||
		e.Source != "query" || e.Path != "query.search" || e.Dest != "sqlite" || e.Excerpt == "" || e.RequestID != "req-1" || e.Function != "orders" {
		t.Errorf("event = %+v", e)
	}

	// Stacked queries in an INSERT: the table survives.
	note := "x'); DROP TABLE products; --"
	ctx = sinkTestCtx(g, rules.Field{Source: rules.SourceBody, Path: "body.note", Value: note})
	_, err = db.ExecContext(ctx, "INSERT INTO orders VALUES ('cup', '"+note+"')")
	sinkBlocked(t, err)
	if n := count(t, db, "products"); n != 3 {
		t.Errorf("products has %d rows after a blocked DROP, want 3", n)
	}
	if n := count(t, db, "orders"); n != 0 {
		t.Errorf("orders has %d rows, want 0", n)
	}

	// UNION to read another column: refused at prepare time too.
	union := "' UNION SELECT secret FROM products --"
	ctx = sinkTestCtx(g, searchInput(union))
	if _, err := db.PrepareContext(ctx, "SELECT name FROM products WHERE name = '"+union+"'"); err == nil {
		t.Error("PrepareContext of a UNION injection succeeded")
	} else {
		sinkBlocked(t, err)
	}

	// In a transaction.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.QueryContext(ctx, "SELECT name FROM products WHERE name = '"+union+"'"); err == nil {
		t.Error("injected query ran in a transaction")
	}
	_ = tx.Rollback()

	// The same inputs, parameterised, pass and match nothing.
	for _, in := range []string{attack, union} {
		ctx := sinkTestCtx(g, searchInput(in))
		rows, err := db.QueryContext(ctx, "SELECT name FROM products WHERE name = ?", in)
		if err != nil {
			t.Fatalf("parameterised query: %v", err)
		}
		if got := names(t, rows); len(got) != 0 {
			t.Errorf("parameterised query returned %v", got)
		}
		stmt, err := db.PrepareContext(ctx, "SELECT name FROM products WHERE name LIKE ?")
		if err != nil {
			t.Fatal(err)
		}
		rows, err = stmt.QueryContext(ctx, "%"+in+"%")
		if err != nil {
			t.Fatalf("prepared statement: %v", err)
		}
		names(t, rows)
		_ = stmt.Close()
	}

	// Benign concatenation passes.
	ctx = sinkTestCtx(g, searchInput("grinder"))
	rows, err = db.QueryContext(ctx, "SELECT name FROM products WHERE name LIKE '%grinder%' ORDER BY name")
	if err != nil {
		t.Fatalf("benign query: %v", err)
	}
	if got := names(t, rows); len(got) != 1 || got[0] != "grinder" {
		t.Errorf("benign query = %v", got)
	}
	if _, err := db.ExecContext(sinkTestCtx(g, rules.Field{Path: "body.note", Value: "O'Brien"}), "INSERT INTO orders VALUES ('cup', 'O''Brien')"); err != nil {
		t.Errorf("escaped insert: %v", err)
	}
	if n := len(rec.all()); n != 4 {
		t.Errorf("%d events, want 4 (one per refusal)", n)
	}
}

func TestSQLGuardMonitor(t *testing.T) {
	db := testDB(t)
	g, rec := sinkTestGuard(t, "block", strings.Replace(sinkPolicy, "sql: block", "sql: monitor", 1))
	attack := "x' OR '1'='1"
	rows, err := db.QueryContext(sinkTestCtx(g, searchInput(attack)), "SELECT name FROM products WHERE name = '"+attack+"'")
	if err != nil {
		t.Fatalf("monitor mode refused the query: %v", err)
	}
	if got := names(t, rows); len(got) != 3 {
		t.Errorf("monitored injection returned %v, want every row", got)
	}
	ev := rec.all()
	if len(ev) != 1 || ev[0].Action != "monitor" || ev[0].RuleID != rules.RuleSQLiSink {
		t.Errorf("events = %+v, want one monitor event", ev)
	}

	g, rec = sinkTestGuard(t, "block", strings.Replace(sinkPolicy, "sql: block", "sql: 'off'", 1))
	rows, err = db.QueryContext(sinkTestCtx(g, searchInput(attack)), "SELECT name FROM products WHERE name = '"+attack+"'")
	if err != nil {
		t.Fatal(err)
	}
	names(t, rows)
	if ev := rec.all(); len(ev) != 0 {
		t.Errorf("sql: off reported %+v", ev)
	}
}

func TestSQLGuardWithoutInvocation(t *testing.T) {
	db := testDB(t)
	// Outside a wrapped handler there are no inputs: nothing is checked.
	rows, err := db.QueryContext(context.Background(), "SELECT name FROM products WHERE name = '' OR '1'='1'")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(t, rows); len(got) != 3 {
		t.Errorf("rows = %v", got)
	}
}

// TestSQLGuardWrapped runs a real handler through Wrap: the SQL guard
// sees the API Gateway query parameter the adapter extracted.
func TestSQLGuardWrapped(t *testing.T) {
	db := testDB(t)
	fn := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		q := "SELECT name FROM products WHERE name LIKE '%" + req.QueryStringParameters["search"] + "%' ORDER BY name"
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			var be *BlockedError
			if errors.As(err, &be) {
				return events.APIGatewayV2HTTPResponse{StatusCode: 403}, nil
			}
			return events.APIGatewayV2HTTPResponse{StatusCode: 500, Body: err.Error()}, nil
		}
		got := names(t, rows)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: strings.Join(got, ",")}, nil
	}
	p := testProtector(t)
	rec := &sinkRecorder{}
	p.cur.Load().out = rec
	h := p.Wrap(lambda.NewHandler(fn))
	call := func(search string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		v, _ := json.Marshal(search)
		ev := inject(t, "apigw-v2-request-no-authorizer.json", `"rawQueryString": "",`, `"rawQueryString": "", "queryStringParameters": {"search": `+string(v)+`},`)
		out, err := h.Invoke(lambdaCtx("req-sql"), ev)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := call("cup"); r.StatusCode != 200 || r.Body != "espresso cup" {
		t.Errorf("benign search = %+v", r)
	}
	if r := call("%' UNION SELECT secret FROM products --"); r.StatusCode != 403 {
		t.Errorf("injected search = %+v, want 403", r)
	}
	var sinks []wire.Event
	for _, e := range rec.all() {
		if e.Kind == wire.KindSink {
			sinks = append(sinks, e)
		}
	}
	if len(sinks) != 1 || sinks[0].RequestID != "req-sql" || sinks[0].Path != "query.search" || sinks[0].EventSource != "apigw-v2" {
		t.Errorf("sink events = %+v", sinks)
	}
}

// TestSQLGuardConcurrent checks that concurrent invocations each see
// their own inputs (run with -race).
func TestSQLGuardConcurrent(t *testing.T) {
	db := testDB(t)
	g, rec := sinkTestGuard(t, "block", sinkPolicy)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				in := "grinder"
				if i%2 == 1 {
					in = "x' OR '1'='1"
				}
				ctx := sinkTestCtx(g, searchInput(in))
				rows, err := db.QueryContext(ctx, "SELECT name FROM products WHERE name = '"+in+"'")
				var be *BlockedError
				switch {
				case i%2 == 0 && err != nil:
					errs <- err
					return
				case i%2 == 1 && !errors.As(err, &be):
					errs <- errors.New("injection not blocked")
					return
				}
				if rows != nil {
					_ = rows.Close()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(rec.all()); n != 8*20 {
		t.Errorf("%d events, want %d", n, 8*20)
	}
}

// fakeDriver is a minimal driver without any optional interface, to
// check the wrapper's fallbacks.
type fakeDriver struct{ queries *[]string }

func (d fakeDriver) Open(string) (driver.Conn, error) { return fakeConn(d), nil }

type fakeConn fakeDriver

func (c fakeConn) Prepare(q string) (driver.Stmt, error) {
	*c.queries = append(*c.queries, q)
	return fakeStmt{}, nil
}
func (c fakeConn) Close() error              { return nil }
func (c fakeConn) Begin() (driver.Tx, error) { return fakeTx{}, nil }

type fakeStmt struct{}

func (fakeStmt) Close() error                               { return nil }
func (fakeStmt) NumInput() int                              { return -1 }
func (fakeStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(1), nil }
func (fakeStmt) Query([]driver.Value) (driver.Rows, error)  { return nil, errors.New("no rows") }

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

func TestWrapDriverFallbacks(t *testing.T) {
	var queries []string
	d := WrapDriver(fakeDriver{&queries}, "mysql")
	if WrapDriver(d, "mysql") != d {
		t.Error("WrapDriver wrapped twice")
	}
	db := sql.OpenDB(&dsnConnector{d: d})
	defer db.Close()
	g, rec := sinkTestGuard(t, "block", sinkPolicy)
	ctx := sinkTestCtx(g, searchInput("1 OR 1=1"))
	if _, err := db.ExecContext(ctx, "DELETE FROM t WHERE id = 1 OR 1=1"); err == nil {
		t.Error("injection through the prepare fallback ran")
	}
	if len(queries) != 0 {
		t.Errorf("driver saw %q", queries)
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM t WHERE id = ?", 1); err != nil {
		t.Errorf("parameterised exec: %v", err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if _, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
		t.Error("read-only transaction without BeginTx support succeeded")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = tx.Commit()
	if ev := rec.all(); len(ev) != 1 || ev[0].Dest != "mysql" {
		t.Errorf("events = %+v, want one (no double report through the fallback)", ev)
	}
}

func TestSinkCheckPanic(t *testing.T) {
	boom := func() rules.SinkResult { panic("bug") }
	g, _ := sinkTestGuard(t, "block", sinkPolicy)
	if r := runSinkCheck(g, boom); r.Matched() {
		t.Errorf("on_error allow: %+v", r)
	}
	p, err := policy.Parse("x.yaml", []byte("version: 1\nname: x\nmode: block\non_error: block\n"+sinkPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	rec := &sinkRecorder{}
	g = &guard{engine: e, out: rec}
	r := runSinkCheck(g, boom)
	if r.Action != rules.ActionBlock {
		t.Fatalf("on_error block: %+v", r)
	}
	err = decideSink(sinkTestCtx(g), g, sinkSQL, "sqlite", r)
	if be := sinkBlocked(t, err); be.Reason != "sink check failed" {
		t.Errorf("BlockedError = %+v", be)
	}
}

// TestSinkGuardsConcurrent runs every sink guard from many invocations
// at once (run with -race).
func TestSinkGuardsConcurrent(t *testing.T) {
	g, rec := sinkTestGuard(t, "block", sinkPolicy)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				attack := i%2 == 1
				in := "hello"
				if attack {
					in = "x; id"
				}
				ctx := sinkTestCtx(g, searchInput(in), searchInput("../../etc/passwd"[:len("../../etc/passwd")*(i%2)]))
				err := CheckCommand(ctx, "/bin/sh", "-c", "echo "+in)
				if (err != nil) != attack {
					t.Errorf("CheckCommand(%q) = %v", in, err)
					return
				}
				err = CheckPath(ctx, "/srv/assets/../../etc/passwd")
				if (err != nil) != attack {
					t.Errorf("CheckPath = %v (attack %v)", err, attack)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(rec.all()); n != 4*50*2 {
		t.Errorf("%d events, want %d", n, 4*50*2)
	}
}
