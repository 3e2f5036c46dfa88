package rasp_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rasp"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// The adversarial suite: fresh bypass attempts for every sink class,
// black-box through a wrapped handler written the way application code
// is, each next to a benign request of the same shape. Under a policy
// with the sink guards alone, each attack must be stopped at its sink;
// under the default policy, it must be stopped somewhere (at the input
// or at the sink), and the benign request must pass both.

// recordingDriver is a database/sql driver that records statements and
// runs nothing: the guard's dialect is what is under test.
type recordingDriver struct{ ran atomic.Int64 }

func (d *recordingDriver) Open(string) (driver.Conn, error) { return recordingConn{d}, nil }

type recordingConn struct{ d *recordingDriver }

func (c recordingConn) Prepare(q string) (driver.Stmt, error) { return recordingStmt(c), nil }
func (recordingConn) Close() error                            { return nil }
func (recordingConn) Begin() (driver.Tx, error)               { return nil, errors.New("no transactions") }

type recordingStmt struct{ d *recordingDriver }

func (recordingStmt) Close() error  { return nil }
func (recordingStmt) NumInput() int { return -1 }
func (s recordingStmt) Exec([]driver.Value) (driver.Result, error) {
	s.d.ran.Add(1)
	return driver.RowsAffected(0), nil
}
func (s recordingStmt) Query([]driver.Value) (driver.Rows, error) {
	s.d.ran.Add(1)
	return emptyRows{}, nil
}

type emptyRows struct{}

func (emptyRows) Columns() []string         { return []string{"x"} }
func (emptyRows) Close() error              { return nil }
func (emptyRows) Next([]driver.Value) error { return io.EOF }

// adversarialApp is the application under attack.
type adversarialApp struct {
	dbs  map[string]*sql.DB
	docs string
}

func newAdversarialApp(t *testing.T) *adversarialApp {
	t.Helper()
	app := &adversarialApp{dbs: map[string]*sql.DB{}}
	for _, dialect := range []string{"mysql", "postgres", "sqlserver", "sqlite"} {
		name := "adversarial-" + dialect
		func() {
			defer func() { _ = recover() }() // registered by an earlier run of the test
			sql.Register(name, rasp.WrapDriver(&recordingDriver{}, dialect))
		}()
		db, err := sql.Open(name, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		app.dbs[dialect] = db
	}
	root := t.TempDir()
	app.docs = filepath.Join(root, "docs")
	outside := filepath.Join(root, "private")
	for _, d := range []string{app.docs, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(app.docs, "guide.md"), []byte("guide"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "key.pem"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(app.docs, "shared")); err != nil {
		t.Skip("no symlinks:", err)
	}
	return app
}

// handle serves /sql/<dialect>, /exec/<form> and /file/<form>.
func (app *adversarialApp) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	q := req.QueryStringParameters
	parts := strings.SplitN(strings.TrimPrefix(req.RawPath, "/"), "/", 2)
	var err error
	switch parts[0] {
	case "sql":
		var rows *sql.Rows
		rows, err = app.dbs[parts[1]].QueryContext(ctx, "SELECT id FROM users WHERE name = '"+q["a"]+"' AND team = '"+q["b"]+"'")
		if err == nil {
			err = rows.Close()
		}
	case "sqlnum":
		var rows *sql.Rows
		rows, err = app.dbs[parts[1]].QueryContext(ctx, "SELECT id FROM users WHERE id = "+q["a"])
		if err == nil {
			err = rows.Close()
		}
	case "exec":
		err = app.exec(ctx, parts[1], q["a"])
	case "file":
		_, err = app.file(ctx, parts[1], q["a"])
	}
	var be *rasp.BlockedError
	switch {
	case errors.As(err, &be):
		return events.APIGatewayV2HTTPResponse{StatusCode: 403, Body: be.Reason}, nil
	case err != nil:
		return events.APIGatewayV2HTTPResponse{StatusCode: 500, Body: err.Error()}, nil
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
}

func (app *adversarialApp) exec(ctx context.Context, form, in string) error {
	var cmd *rasp.Cmd
	var err error
	switch form {
	case "argv0":
		cmd, err = rasp.Command(ctx, in, "--version")
	case "awk":
		cmd, err = rasp.Command(ctx, "awk", `BEGIN { print "`+in+`" }`)
	case "sed":
		cmd, err = rasp.Command(ctx, "sed", "-n", "s/x/"+in+"/p")
	case "python":
		cmd, err = rasp.Command(ctx, "python3", "-c", "print('"+in+"')")
	case "preload":
		cmd, err = rasp.Command(ctx, "true")
		if err == nil {
			cmd.Env = append(os.Environ(), "LD_PRELOAD="+in)
		}
	case "rewrite":
		cmd, err = rasp.Command(ctx, "echo", "ok")
		if err == nil {
			cmd.Args = append(cmd.Args, in)
			cmd.Path, cmd.Args = "/bin/sh", []string{"sh", "-c", "echo " + in}
		}
	}
	if err != nil {
		return err
	}
	if _, err := exec.LookPath(cmd.Path); err != nil {
		return nil // the program is not installed here: the guard already let it through
	}
	return cmd.Run()
}

func (app *adversarialApp) file(ctx context.Context, form, in string) ([]byte, error) {
	switch form {
	case "join":
		return rasp.ReadFile(ctx, filepath.Join(app.docs, in))
	case "decoded":
		name, err := url.PathUnescape(in)
		if err != nil {
			return nil, err
		}
		return rasp.ReadFile(ctx, filepath.Join(app.docs, name))
	case "concat":
		return rasp.ReadFile(ctx, app.docs+"/"+in)
	case "helper":
		p, err := rasp.Join(ctx, app.docs, in)
		if err != nil {
			return nil, err
		}
		return rasp.ReadFile(ctx, p)
	}
	return nil, fmt.Errorf("unknown form %q", form)
}

func adversarialEvent(path string, params map[string]string) []byte {
	v := url.Values{}
	for k, x := range params {
		v.Set(k, x)
	}
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET " + path, RawPath: path, RawQueryString: v.Encode(), QueryStringParameters: params}
	req.RequestContext.HTTP.Method = "GET"
	b, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	return b
}

func TestAdversarialSinks(t *testing.T) {
	app := newAdversarialApp(t)
	type call struct {
		path   string
		params map[string]string
	}
	a := func(path string, kv ...string) call {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return call{path, m}
	}
	tests := []struct {
		name           string
		attack, benign call
	}{
		{"mysql backslash then quote", a("/sql/mysql", "a", `\`, "b", ` OR 1=1-- `), a("/sql/mysql", "a", "alice", "b", "blue")},
		{"mysql quote hash", a("/sql/mysql", "a", "'#", "b", "x"), a("/sql/mysql", "a", "bob", "b", "x")},
		{"postgres two-byte break-out", a("/sql/postgres", "a", "';", "b", "x"), a("/sql/postgres", "a", "carol", "b", "x")},
		{"sqlserver bracket-free tautology", a("/sql/sqlserver", "a", "x' OR 'a'='a", "b", "y"), a("/sql/sqlserver", "a", "dave", "b", "y")},
		{"numeric bitwise", a("/sqlnum/sqlite", "a", "1|1"), a("/sqlnum/sqlite", "a", "42")},
		{"argv0 from input", a("/exec/argv0", "a", "sh"), a("/exec/argv0", "a", "date")},
		{"awk system", a("/exec/awk", "a", `"; system("id"); print "`), a("/exec/awk", "a", "hello world")},
		{"sed e", a("/exec/sed", "a", "y/e"), a("/exec/sed", "a", "yes")},
		{"python -c", a("/exec/python", "a", "');import os;os.system('id');print('"), a("/exec/python", "a", "hello")},
		{"LD_PRELOAD after Command", a("/exec/preload", "a", "/tmp/evil.so"), call{}},
		{"Args rewritten after Command", a("/exec/rewrite", "a", "x; id"), call{}},
		{"Join hides the climb", a("/file/join", "a", "../../../../../../etc/passwd"), a("/file/join", "a", "guide.md")},
		{"decoded by the app", a("/file/decoded", "a", "..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd"), a("/file/decoded", "a", "guide.md")},
		{"symlinked directory", a("/file/concat", "a", "shared/key.pem"), a("/file/concat", "a", "guide.md")},
		{"helper refuses", a("/file/helper", "a", "../private/key.pem"), a("/file/helper", "a", "guide.md")},
	}
	policies := []struct {
		name     string
		engine   func(t *testing.T) *rules.Engine
		sinkOnly bool
	}{
		{"sink guards alone", func(t *testing.T) *rules.Engine { return compilePolicy(t, sinkOnlyPolicy) }, true},
		{"default policy", func(t *testing.T) *rules.Engine {
			e, err := rules.DefaultEngine()
			if err != nil {
				t.Fatal(err)
			}
			return e
		}, false},
	}
	for _, p := range policies {
		t.Run(p.name, func(t *testing.T) {
			h := rasp.Wrap(lambda.NewHandler(app.handle), rasp.WithEngine(p.engine(t)), rasp.WithSocket("/nonexistent/events.sock"), rasp.WithSecurityLog(zap.NewNop()))
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					status, body := invokeAdversarial(t, h, tt.attack)
					if status != 403 {
						t.Errorf("attack %v: status %d %q, want 403", tt.attack.params, status, body)
					}
					if p.sinkOnly && body == "" {
						t.Errorf("attack %v: refused without a sink reason", tt.attack.params)
					}
					if tt.benign.path == "" {
						return
					}
					if status, body := invokeAdversarial(t, h, tt.benign); status != 200 {
						t.Errorf("benign %v: status %d %q, want 200", tt.benign.params, status, body)
					}
				})
			}
		})
	}
}

const sinkOnlyPolicy = `
version: 1
mode: block
sinks:
  sql: block
  exec: block
  files: {mode: block, deny: [/proc/self/environ, /proc/*/environ]}
`

func compilePolicy(t *testing.T, src string) *rules.Engine {
	t.Helper()
	p, err := policy.Parse("adversarial.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e, err := rules.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func invokeAdversarial(t *testing.T, h lambda.Handler, c struct {
	path   string
	params map[string]string
}) (int, string) {
	t.Helper()
	out, err := h.Invoke(invokeCtx("req-adv"), adversarialEvent(c.path, c.params))
	if err != nil {
		t.Fatalf("Invoke(%s): %v", c.path, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp.StatusCode, resp.Body
}
