package sqltok

import (
	"strings"
	"testing"
)

// render formats tokens as "kind:text" joined by spaces.
func render(s string, toks []Token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Kind.String() + ":" + t.Text(s))
	}
	return b.String()
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		d    Dialect
		in   string
		want string
	}{
		{Generic, "SELECT a FROM t WHERE b = 'x''y'", "keyword:SELECT identifier:a keyword:FROM identifier:t keyword:WHERE identifier:b operator:= string:'x''y'"},
		{Generic, `a = "q" -- c`, `identifier:a operator:= double-quoted:"q" line-comment:-- c`},
		{Generic, "x IN (?, :name, [col])", "identifier:x operator:IN (:( placeholder:? comma:, placeholder::name comma:, quoted-identifier:[col] ):)"},
		{MySQL, `'a\'b' "c\"d" # x`, `string:'a\'b' double-quoted:"c\"d" line-comment:# x`},
		{MySQL, "1--1", "number:1 operator:- operator:- number:1"},
		{MySQL, "1-- x", "number:1 line-comment:-- x"},
		{MySQL, "@a := @@version", "variable:@a operator::= variable:@@version"},
		{MySQL, "/*!50000 UNION*/", "unknown:/*!50000 keyword:UNION unknown:*/"},
		{MySQL, "1abc `t``x`", "identifier:1abc quoted-identifier:`t``x`"},
		{Postgres, "$$a'b$$ $t$x$$y$t$ $1::int", "dollar-string:$$a'b$$ dollar-string:$t$x$$y$t$ placeholder:$1 operator::: identifier:int"},
		{Postgres, `E'\'' U&'x' a->>'k' ?| #>>`, `string:E'\'' string:U&'x' identifier:a operator:->> string:'k' operator:?| operator:#>>`},
		{Postgres, "/* a /* b */ c */ x", "block-comment:/* a /* b */ c */ identifier:x"},
		{Postgres, "#", "operator:#"},
		{SQLite, "$v ?12 @p x'00' 0x1F 1.5e-3 .5", "placeholder:$v placeholder:?12 placeholder:@p string:x'00' number:0x1F number:1.5e-3 number:.5"},
		{SQLite, "'unterminated", "string:'unterminated"},
		{SQLite, "/* open", "block-comment:/* open"},
		{Generic, "a;b", "identifier:a ;:; identifier:b"},
		{MySQLNoBackslash, `'a\' OR 1 # x'`, `string:'a\' operator:OR number:1 line-comment:# x'`},
		{MySQLNoBackslash, `"c\"d"`, `double-quoted:"c\" identifier:d double-quoted:"`},
		{MSSQL, `[a]]b] N'x\' #t ##g @p @@rowcount`, `quoted-identifier:[a]]b] string:N'x\' identifier:#t identifier:##g variable:@p variable:@@rowcount`},
		{MSSQL, "/* a /* b */ c */ x `y", "block-comment:/* a /* b */ c */ identifier:x unknown:` identifier:y"},
		{MSSQL, "a -- c\nb", "identifier:a line-comment:-- c identifier:b"},
		{Generic, "\x00\xff", "unknown:\x00 identifier:\xff"},
	}
	for _, tt := range tests {
		if got := render(tt.in, Tokenize(nil, tt.in, tt.d)); got != tt.want {
			t.Errorf("Tokenize(%s, %q)\n got %s\nwant %s", tt.d, tt.in, got, tt.want)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for name, want := range map[string]Dialect{
		"mysql": MySQL, "nrmysql": MySQL, "postgres": Postgres, "pgx": Postgres, "pgx/v5": Postgres, "pq": Postgres,
		"sqlite": SQLite, "sqlite3": SQLite, "SQLite3": SQLite, "sqlserver": MSSQL, "mssql": MSSQL, "azuresql": MSSQL,
		"mysql-no-backslash-escapes": MySQLNoBackslash, "MySQL+NO_BACKSLASH_ESCAPES": MySQLNoBackslash, "oracle": Generic, "": Generic,
	} {
		if got := ParseDialect(name); got != want {
			t.Errorf("ParseDialect(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLexerAllocs(t *testing.T) {
	q := "SELECT name, price FROM products WHERE name LIKE '%cup%' AND id > 10 ORDER BY name"
	n := testing.AllocsPerRun(100, func() {
		l := NewLexer(q, Postgres)
		for {
			if _, ok := l.Next(); !ok {
				break
			}
		}
	})
	if n != 0 {
		t.Errorf("Lexer allocs = %v", n)
	}
}

// FuzzTokenize checks that any input tokenizes without panicking, into
// ordered, non-empty, non-overlapping tokens within the input, whatever
// the dialect.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM t WHERE a = 'x' OR '1'='1' -- c", `'a\'b' "c" # x`, "$$a$$ $t$ $1::int E'\\''",
		"/*!50000 UNION*/", "/* /* */", "[x] `y` @@v :n ?3", "0x 0b 1e 1.e5 ..", "-", "$", "@", "'", "\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for d := Generic; d <= MSSQL; d++ {
			toks := Tokenize(nil, s, d)
			if len(toks) > len(s) {
				t.Fatalf("%d tokens for %d bytes", len(toks), len(s))
			}
			end := 0
			for _, tok := range toks {
				if tok.Start < end || tok.End <= tok.Start || tok.End > len(s) {
					t.Fatalf("%s: bad token %+v after %d in %q", d, tok, end, s)
				}
				end = tok.End
			}
		}
	})
}
