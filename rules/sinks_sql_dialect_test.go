package rules

import "testing"

// TestCheckSQLAsRead covers statements whose structure depends on how
// the database lexes them, and inputs shorter than the multi-token
// heuristics need.
func TestCheckSQLAsRead(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct {
		name, dialect, query string
		give                 []string // the request's inputs
		want                 string   // reason, "" for allow
	}{
		// MySQL: a lone backslash escapes the closing quote, so the next
		// field's quote opens code.
		{"mysql backslash then code", "mysql", `SELECT * FROM u WHERE name='\' AND pass=' OR 1=1-- '`,
			[]string{`\`, `' OR 1=1-- `}, "input moves the end of a literal"},
		{"mysql backslash alone, next field benign", "mysql", `SELECT * FROM u WHERE name='\' AND pass='hunter2'`,
			[]string{`\`, `hunter2`}, "input moves the end of a literal"},
		{"mysql escaped backslash", "mysql", `SELECT * FROM u WHERE name='\\' AND pass='x'`,
			[]string{`\\`, `x`}, ""},
		{"no_backslash_escapes: backslash is data", "mysql-no-backslash-escapes", `SELECT * FROM u WHERE name='\' AND pass='x'`,
			[]string{`\`, `x`}, ""},
		{"mysql path with backslashes", "mysql", `SELECT * FROM f WHERE p = 'C:\dir\file'`,
			[]string{`C:\dir\file`}, ""},
		// Two-byte inputs that break out.
		{"quote hash", "mysql", "SELECT * FROM u WHERE name = ''#' AND pass = 'x'", []string{"'#"}, "comment truncates the query"},
		{"quote dashes", "sqlite", "SELECT * FROM u WHERE name = ''--' AND pass = 'x'", []string{"'-"}, "comment truncates the query"},
		{"quote semicolon", "postgres", "SELECT * FROM u WHERE name = '';' AND pass = 'x'", []string{"';"}, "input breaks out of a literal"},
		{"number hash", "mysql", "SELECT * FROM u WHERE id = 1# AND owner = 2", []string{"1#"}, "comment truncates the query"},
		{"bitwise tautology", "mysql", "SELECT * FROM u WHERE id = 1|1", []string{"1|1"}, "input spans SQL tokens"},
		{"boolean blind", "postgres", "SELECT * FROM u WHERE id = 2-1", []string{"2-1"}, "input spans SQL tokens"},
		{"ends a line comment", "sqlite", "SELECT 1 -- \n, 3 --\n, 2", []string{"\n, 3 --"}, "input breaks out of a literal"},
		{"closes a block comment", "sqlite", "SELECT a /* c */ OR 1=1 /* */ FROM t", []string{"*/ OR"}, "input breaks out of a literal"},
		// PostgreSQL: E strings escape with backslashes, plain strings do not.
		{"postgres E string escape", "postgres", `SELECT * FROM t WHERE a = E'x\' OR 1=1 --'`, []string{`x\' OR 1=1 --`}, ""},
		{"postgres plain string backslash", "postgres", `SELECT * FROM t WHERE a = 'x\' OR 1=1 --'`, []string{`x\' OR 1=1 --`}, "input spans SQL tokens"},
		{"postgres dollar tag closed by input", "postgres", "SELECT * FROM t WHERE a = $q$x$q$ OR 1=1 --$q$", []string{"x$q$ OR 1=1 --"}, "input spans SQL tokens"},
		{"postgres dollar text", "postgres", "SELECT * FROM t WHERE a = $q$it's $5$q$", []string{"it's $5"}, ""},
		// SQL Server brackets.
		{"mssql bracket break-out", "sqlserver", "SELECT [x] OR 1=1 --] FROM t", []string{"x] OR 1=1 --"}, "input spans SQL tokens"},
		{"mssql bracket escaped", "sqlserver", "SELECT [x]] OR 1=1 --] FROM t", []string{"x]] OR 1=1 --"}, ""},
		{"mssql N string", "sqlserver", "SELECT * FROM t WHERE a = N'x'' OR 1=1 --'", []string{"x'' OR 1=1 --"}, ""},
		// Benign shapes of the same kind.
		{"negative number", "postgres", "SELECT * FROM t WHERE balance > -5", []string{"-5"}, ""},
		{"number list", "mysql", "SELECT * FROM t WHERE id IN (1,2)", []string{"1,2"}, ""},
		{"qualified name", "sqlite", "SELECT t.name FROM t", []string{"t.name"}, ""},
		{"two-byte word", "sqlite", "SELECT id FROM t WHERE lang = 'en'", []string{"id", "en"}, ""},
		{"quote inside a literal", "sqlite", "SELECT * FROM t WHERE a = 'it''s' AND b = '#1'", []string{"#1", "'s"}, ""},
		{"blank after a quote", "sqlite", "SELECT * FROM t WHERE a = 'x' AND b = 'y'", []string{"' "}, ""},
		{"parameterised", "mysql", "SELECT * FROM t WHERE a = ? AND b = ?", []string{`\`, "'#", "1|1"}, ""},
		{"whole literal", "postgres", "SELECT * FROM t WHERE a = 'abc'", []string{"'abc'"}, ""},
		{"sort direction", "mysql", "SELECT * FROM t ORDER BY name DESC", []string{"name DESC"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []Field
			for _, v := range tt.give {
				in = append(in, Field{Source: SourceBody, Path: "body.f", Value: v})
			}
			r := s.CheckSQL(tt.dialect, tt.query, in)
			if r.Reason != tt.want {
				t.Fatalf("CheckSQL(%s, %q) reason = %q, want %q", tt.dialect, tt.query, r.Reason, tt.want)
			}
		})
	}
}

// TestCheckSQLEscapedInputs: inputs with quotes and backslashes that the
// application escaped properly are data, even where the raw input is
// also found inside its escaped form.
func TestCheckSQLEscapedInputs(t *testing.T) {
	s := sinksFor(t, "block", allSinksBlock)
	tests := []struct{ dialect, give, query string }{
		{"sqlite", "'s", "SELECT * FROM t WHERE a = 'it''s'"},
		{"sqlite", "x'", "SELECT * FROM t WHERE a = 'x'''"},
		{"postgres", "'abc", "SELECT * FROM t WHERE a = '''abc'"},
		{"mysql", `x\`, `SELECT * FROM t WHERE a = 'x\\'`},
		{"mysql", `'s`, `SELECT * FROM t WHERE a = 'it\'s'`},
		{"sqlserver", "a]", "SELECT [a]]] FROM t"},
		{"mysql", "`x", "SELECT ```x` FROM t"},
	}
	for _, tt := range tests {
		if r := s.CheckSQL(tt.dialect, tt.query, query(tt.give)); r.Matched() {
			t.Errorf("%s: CheckSQL(%q) with input %q = %+v, want allow", tt.dialect, tt.query, tt.give, r)
		}
	}
}
