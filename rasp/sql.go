package rasp

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// checkSQL runs the SQL guard on query for the invocation ctx belongs to.
// Outside a wrapped handler there are no inputs to correlate, so nothing
// is checked.
func checkSQL(ctx context.Context, dialect, query string) error {
	g, inputs := sinkInputs(ctx)
	if len(inputs) == 0 {
		return nil
	}
	r := runSinkCheck(g, func() rules.SinkResult { return g.engine.Sinks().CheckSQL(dialect, query, inputs) })
	return decideSink(ctx, g, sinkSQL, dialect, r)
}

// OpenDB opens a database like [sql.Open] does, with the SQL guard on
// every statement: a query in which a request input spans SQL tokens is
// refused with a *BlockedError before it reaches the database (or only
// reported, in monitor mode). driverName is the name the driver
// registered ("sqlite" for modernc.org/sqlite, "mysql", "pgx",
// "sqlserver", ...); it also selects the SQL dialect the statements are
// lexed in (see [rules.SQLDialect]). A MySQL DSN that sets the
// NO_BACKSLASH_ESCAPES SQL mode selects that reading of strings; without
// it, MySQL inputs holding a backslash are judged under both readings,
// since the mode may be set on the server.
//
// Queries are checked against the inputs of the invocation their context
// comes from: use the Context variants (QueryContext, ExecContext,
// PrepareContext, BeginTx) with the handler's ctx. Calls without a
// request context (db.Exec at init) are not checked. Parameterised
// queries (placeholders plus arguments) never trip the guard. The
// connections are the guard's wrappers: sql.Conn.Raw sees them, not the
// driver's own connection type.
func OpenDB(driverName, dsn string) (*sql.DB, error) {
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, err
	}
	d := db.Driver()
	_ = db.Close() // sql.Open does not connect
	if dc, ok := d.(driver.DriverContext); ok {
		c, err := dc.OpenConnector(dsn)
		if err != nil {
			return nil, err
		}
		return sql.OpenDB(WrapConnector(c, dsnDialect(driverName, dsn))), nil
	}
	return sql.OpenDB(&dsnConnector{d: WrapDriver(d, dsnDialect(driverName, dsn)), dsn: dsn}), nil
}

// dsnDialect is driverName, marked for MySQL's NO_BACKSLASH_ESCAPES mode
// when the DSN sets it (go-sql-driver/mysql: sql_mode=...).
func dsnDialect(driverName, dsn string) string {
	if rules.SQLDialect(driverName) == "mysql" && strings.Contains(strings.ToUpper(dsn), "NO_BACKSLASH_ESCAPES") {
		return "mysql-no-backslash-escapes"
	}
	return driverName
}

// WrapDriver returns d with the SQL guard on its connections, for
// [sql.Register] under a name of your own. driverName selects the SQL
// dialect (see [rules.SQLDialect]): a driver name, or a dialect name such
// as "mysql-no-backslash-escapes" (a MySQL server whose sql_mode has
// NO_BACKSLASH_ESCAPES) or "mssql". Wrapping a wrapped driver returns it
// unchanged.
func WrapDriver(d driver.Driver, driverName string) driver.Driver {
	switch d.(type) {
	case *sqlDriver, *sqlDriverContext:
		return d
	}
	w := &sqlDriver{d: d, dialect: rules.SQLDialect(driverName)}
	if _, ok := d.(driver.DriverContext); ok {
		return &sqlDriverContext{w}
	}
	return w
}

// WrapConnector returns c with the SQL guard on its connections, for
// [sql.OpenDB]. driverName selects the SQL dialect (see
// [rules.SQLDialect]).
func WrapConnector(c driver.Connector, driverName string) driver.Connector {
	if w, ok := c.(*sqlConnector); ok {
		return w
	}
	dialect := rules.SQLDialect(driverName)
	return &sqlConnector{c: c, dialect: dialect, d: WrapDriver(c.Driver(), driverName)}
}

// sqlDriver is a guarded driver.Driver.
type sqlDriver struct {
	d       driver.Driver
	dialect string
}

func (d *sqlDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return wrapConn(c, d.dialect), nil
}

// sqlDriverContext is a guarded driver.DriverContext.
type sqlDriverContext struct{ *sqlDriver }

func (d *sqlDriverContext) OpenConnector(name string) (driver.Connector, error) {
	c, err := d.d.(driver.DriverContext).OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return &sqlConnector{c: c, dialect: d.dialect, d: d}, nil
}

// sqlConnector is a guarded driver.Connector.
type sqlConnector struct {
	c       driver.Connector
	dialect string
	d       driver.Driver
}

func (c *sqlConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.c.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return wrapConn(conn, c.dialect), nil
}

func (c *sqlConnector) Driver() driver.Driver { return c.d }

// Close closes the underlying connector when it has a Close method
// (sql.DB.Close calls it).
func (c *sqlConnector) Close() error {
	if cl, ok := c.c.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// dsnConnector opens connections of a driver without DriverContext.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c *dsnConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.d.Open(c.dsn)
}

func (c *dsnConnector) Driver() driver.Driver { return c.d }

// sqlConn is a guarded driver.Conn. It implements every optional
// connection interface and passes each call through when the underlying
// connection supports it, returning driver.ErrSkip (or the neutral
// answer) when it does not, which makes database/sql behave as with the
// bare connection.
type sqlConn struct {
	c       driver.Conn
	dialect string
}

func wrapConn(c driver.Conn, dialect string) driver.Conn {
	return &sqlConn{c: c, dialect: dialect}
}

var (
	_ driver.Conn               = (*sqlConn)(nil)
	_ driver.ConnPrepareContext = (*sqlConn)(nil)
	_ driver.ConnBeginTx        = (*sqlConn)(nil)
	_ driver.ExecerContext      = (*sqlConn)(nil)
	_ driver.QueryerContext     = (*sqlConn)(nil)
	_ driver.Pinger             = (*sqlConn)(nil)
	_ driver.SessionResetter    = (*sqlConn)(nil)
	_ driver.Validator          = (*sqlConn)(nil)
	_ driver.NamedValueChecker  = (*sqlConn)(nil)
)

func (c *sqlConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *sqlConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := checkSQL(ctx, c.dialect, query); err != nil {
		return nil, err
	}
	var (
		s   driver.Stmt
		err error
	)
	if pc, ok := c.c.(driver.ConnPrepareContext); ok {
		s, err = pc.PrepareContext(ctx, query)
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, err = c.c.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	ws := &sqlStmt{s: s, conn: c}
	if _, ok := s.(driver.ColumnConverter); ok { //nolint:staticcheck // passed through for drivers that still use it
		return &sqlStmtCC{ws}, nil
	}
	return ws, nil
}

func (c *sqlConn) Close() error { return c.c.Close() }

// Begin is the deprecated driver.Conn method; database/sql calls BeginTx.
func (c *sqlConn) Begin() (driver.Tx, error) { return c.c.Begin() } //nolint:staticcheck // required by driver.Conn

func (c *sqlConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if bt, ok := c.c.(driver.ConnBeginTx); ok {
		return bt.BeginTx(ctx, opts)
	}
	// What database/sql does for a connection without BeginTx.
	if opts.Isolation != driver.IsolationLevel(sql.LevelDefault) {
		return nil, errors.New("sql: driver does not support non-default isolation level")
	}
	if opts.ReadOnly {
		return nil, errors.New("sql: driver does not support read-only transactions")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.c.Begin() //nolint:staticcheck // the fallback database/sql uses
}

func (c *sqlConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	switch e := c.c.(type) {
	case driver.ExecerContext:
		if err := checkSQL(ctx, c.dialect, query); err != nil {
			return nil, err
		}
		return e.ExecContext(ctx, query, args)
	case driver.Execer: //nolint:staticcheck // the fallback database/sql uses
		if err := checkSQL(ctx, c.dialect, query); err != nil {
			return nil, err
		}
		vals, err := namedValues(args)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return e.Exec(query, vals)
	}
	// database/sql prepares the statement instead; PrepareContext checks.
	return nil, driver.ErrSkip
}

func (c *sqlConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	switch q := c.c.(type) {
	case driver.QueryerContext:
		if err := checkSQL(ctx, c.dialect, query); err != nil {
			return nil, err
		}
		return q.QueryContext(ctx, query, args)
	case driver.Queryer: //nolint:staticcheck // the fallback database/sql uses
		if err := checkSQL(ctx, c.dialect, query); err != nil {
			return nil, err
		}
		vals, err := namedValues(args)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return q.Query(query, vals)
	}
	return nil, driver.ErrSkip
}

func (c *sqlConn) Ping(ctx context.Context) error {
	if p, ok := c.c.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *sqlConn) ResetSession(ctx context.Context) error {
	if r, ok := c.c.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *sqlConn) IsValid() bool {
	if v, ok := c.c.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *sqlConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.c.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// sqlStmt is a prepared statement of a guarded connection. Its SQL was
// checked when it was prepared; executions only bind arguments.
type sqlStmt struct {
	s    driver.Stmt
	conn *sqlConn
}

var (
	_ driver.StmtExecContext   = (*sqlStmt)(nil)
	_ driver.StmtQueryContext  = (*sqlStmt)(nil)
	_ driver.NamedValueChecker = (*sqlStmt)(nil)
)

func (s *sqlStmt) Close() error  { return s.s.Close() }
func (s *sqlStmt) NumInput() int { return s.s.NumInput() }

// Exec is the deprecated driver.Stmt method; database/sql calls
// ExecContext.
func (s *sqlStmt) Exec(args []driver.Value) (driver.Result, error) { return s.s.Exec(args) } //nolint:staticcheck // required by driver.Stmt

// Query is the deprecated driver.Stmt method; database/sql calls
// QueryContext.
func (s *sqlStmt) Query(args []driver.Value) (driver.Rows, error) { return s.s.Query(args) } //nolint:staticcheck // required by driver.Stmt

func (s *sqlStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := s.s.(driver.StmtExecContext); ok {
		return e.ExecContext(ctx, args)
	}
	vals, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.s.Exec(vals) //nolint:staticcheck // the fallback database/sql uses
}

func (s *sqlStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if q, ok := s.s.(driver.StmtQueryContext); ok {
		return q.QueryContext(ctx, args)
	}
	vals, err := namedValues(args)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.s.Query(vals) //nolint:staticcheck // the fallback database/sql uses
}

// CheckNamedValue checks with the statement's checker, else the
// connection's, as database/sql does for unwrapped drivers.
func (s *sqlStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.s.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}

// sqlStmtCC is a sqlStmt whose underlying statement is a
// driver.ColumnConverter.
type sqlStmtCC struct{ *sqlStmt }

func (s *sqlStmtCC) ColumnConverter(idx int) driver.ValueConverter {
	return s.s.(driver.ColumnConverter).ColumnConverter(idx) //nolint:staticcheck // passed through
}

// namedValues converts arguments for the pre-context driver methods,
// refusing named ones as database/sql does.
func namedValues(named []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(named))
	for i, nv := range named {
		if nv.Name != "" {
			return nil, errors.New("sql: driver does not support the use of Named Parameters")
		}
		vals[i] = nv.Value
	}
	return vals, nil
}
