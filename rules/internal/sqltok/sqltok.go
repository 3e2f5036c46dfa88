package sqltok

import "strings"

// Dialect selects the lexical rules of one SQL flavour.
type Dialect uint8

// The dialects.
const (
	// Generic is standard SQL: '' strings, "" identifiers, -- and /* */
	// comments, ? and :name placeholders, backtick and [bracket] names.
	Generic Dialect = iota
	// MySQL adds backslash escapes in strings, "" strings, # comments,
	// "-- " comments that need a blank after the dashes, /*! */
	// executable comments and @variables.
	MySQL
	// Postgres adds $$ dollar quoting, E'' escape strings, nested block
	// comments, $1 placeholders and operators such as :: and ->>.
	Postgres
	// SQLite adds $name and ?NNN placeholders and [bracket] names.
	SQLite
	// MySQLNoBackslash is MySQL with the NO_BACKSLASH_ESCAPES SQL mode:
	// a backslash in a string is an ordinary byte.
	MySQLNoBackslash
	// MSSQL is SQL Server's Transact-SQL: [bracket] names in which "]]"
	// stands for "]", N'' strings without backslash escapes, nested
	// block comments, @variables and #temporary table names.
	MSSQL
)

// String returns "generic", "mysql", "mysql-no-backslash-escapes",
// "postgres", "sqlite" or "mssql": names [ParseDialect] maps back to d.
func (d Dialect) String() string {
	switch d {
	case MySQL:
		return "mysql"
	case MySQLNoBackslash:
		return "mysql-no-backslash-escapes"
	case MSSQL:
		return "mssql"
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	default:
		return "generic"
	}
}

// ParseDialect maps a database/sql driver or dialect name to a Dialect:
// names containing "mysql" or "maria" are MySQL (MySQLNoBackslash when
// they also contain "no-backslash-escapes" or "no_backslash_escapes");
// "postgres", "pgx", "pq" and "pgsql" are Postgres; names containing
// "sqlite" are SQLite; "sqlserver", "mssql", "azuresql" and "tds" are
// MSSQL; everything else is Generic. The match is case-insensitive.
func ParseDialect(name string) Dialect {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "mysql"), strings.Contains(n, "maria"):
		if strings.Contains(n, "no-backslash-escapes") || strings.Contains(n, "no_backslash_escapes") {
			return MySQLNoBackslash
		}
		return MySQL
	case strings.Contains(n, "sqlserver"), strings.Contains(n, "mssql"), strings.Contains(n, "azuresql"), n == "tds":
		return MSSQL
	case strings.Contains(n, "postgres"), strings.Contains(n, "pgx"), strings.Contains(n, "pgsql"), n == "pq":
		return Postgres
	case strings.Contains(n, "sqlite"):
		return SQLite
	}
	return Generic
}

// Kind is the lexical class of a token.
type Kind uint8

// The token kinds.
const (
	Unknown          Kind = iota // a byte no rule recognises
	Keyword                      // a reserved word: SELECT, WHERE, ORDER, BY, ASC, LIMIT, ...
	Identifier                   // a name: table, column or function, or any other word
	QuotedIdentifier             // `name` or [name]
	Number                       // 42, 4.2e1, 0x2a, .5
	String                       // 'text', E'text', X'2a', N'text'
	DoubleQuoted                 // "text": a string in MySQL, an identifier elsewhere
	DollarString                 // $tag$text$tag$ (PostgreSQL)
	Operator                     // = <> || :: and the word operators AND, OR, NOT, LIKE, IN, IS, ...
	Comma                        // ,
	Dot                          // .
	ParenOpen                    // (
	ParenClose                   // )
	Semicolon                    // ;
	LineComment                  // -- text, or # text in MySQL, up to the end of the line
	BlockComment                 // /* text */ (unterminated: up to the end)
	Placeholder                  // ?, ?3, $1, :name, @name, $name
	Variable                     // @var and @@var (MySQL)
)

var kindNames = [...]string{
	Unknown: "unknown", Keyword: "keyword", Identifier: "identifier", QuotedIdentifier: "quoted-identifier",
	Number: "number", String: "string", DoubleQuoted: "double-quoted", DollarString: "dollar-string",
	Operator: "operator", Comma: "comma", Dot: "dot", ParenOpen: "(", ParenClose: ")", Semicolon: ";",
	LineComment: "line-comment", BlockComment: "block-comment", Placeholder: "placeholder", Variable: "variable",
}

// String returns a short name for k.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// IsLiteral reports whether k is a number or a string literal of any
// quoting (double-quoted included).
func (k Kind) IsLiteral() bool {
	switch k {
	case Number, String, DoubleQuoted, DollarString:
		return true
	}
	return false
}

// Token is one token of a statement: its kind and its byte range
// [Start, End) in the statement.
type Token struct {
	Kind       Kind
	Start, End int
}

// Text returns the token's text in the statement s it came from.
func (t Token) Text(s string) string { return s[t.Start:t.End] }

// Lexer produces the tokens of one statement, one at a time, without
// allocating. The zero value is not usable; use [NewLexer].
type Lexer struct {
	s string
	d Dialect
	i int
	// inExec is set inside a MySQL /*! executable comment */, whose
	// content is code and whose closing */ is a token of its own.
	inExec bool
}

// NewLexer returns a lexer over s in dialect d.
func NewLexer(s string, d Dialect) Lexer { return Lexer{s: s, d: d} }

// isMySQL reports whether d is MySQL in either SQL mode.
func (d Dialect) isMySQL() bool { return d == MySQL || d == MySQLNoBackslash }

// Backslash reports whether a backslash escapes the next byte in d's
// ordinary quoted strings (MySQL in its default SQL mode).
func (d Dialect) Backslash() bool { return d == MySQL }

// Alternate returns the other reading of d's strings and true when the
// server's settings decide how the same text lexes and a client cannot
// know them: MySQL's NO_BACKSLASH_ESCAPES mode may be set server-wide.
// For MySQL it returns MySQLNoBackslash; for every other dialect (an
// explicit MySQLNoBackslash included) it returns d and false.
func (d Dialect) Alternate() (Dialect, bool) {
	if d == MySQL {
		return MySQLNoBackslash, true
	}
	return d, false
}

// Tokenize appends the tokens of s to dst and returns it.
func Tokenize(dst []Token, s string, d Dialect) []Token {
	l := NewLexer(s, d)
	for {
		t, ok := l.Next()
		if !ok {
			return dst
		}
		dst = append(dst, t)
	}
}

// Next returns the next token, or false at the end of the statement.
// Every call that returns a token advances by at least one byte.
func (l *Lexer) Next() (Token, bool) {
	s := l.s
	for l.i < len(s) && isSpace(s[l.i]) {
		l.i++
	}
	if l.i >= len(s) {
		return Token{}, false
	}
	start := l.i
	kind := l.scan()
	if l.i <= start { // defensive: always make progress
		l.i = start + 1
		kind = Unknown
	}
	return Token{Kind: kind, Start: start, End: l.i}, true
}

// scan consumes one token at l.i and returns its kind.
func (l *Lexer) scan() Kind {
	s, i, d := l.s, l.i, l.d
	c := s[i]
	next := byte(0)
	if i+1 < len(s) {
		next = s[i+1]
	}
	switch {
	case c == '-' && next == '-':
		if d.isMySQL() && i+2 < len(s) && !isSpace(s[i+2]) && s[i+2] >= 0x20 {
			// "--1" is minus minus one in MySQL.
			break
		}
		l.i = lineEnd(s, i)
		return LineComment
	case c == '#' && d.isMySQL():
		l.i = lineEnd(s, i)
		return LineComment
	case c == '#' && d == MSSQL && isIdentChar(next, d):
		// #temp and ##global temporary tables.
		l.i = identEnd(s, i+1, d)
		return Identifier
	case c == '/' && next == '*':
		if d.isMySQL() && i+2 < len(s) && s[i+2] == '!' {
			// An executable comment: its content is code.
			j := i + 3
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			l.i, l.inExec = j, true
			return Unknown
		}
		l.i = blockCommentEnd(s, i, d == Postgres || d == MSSQL)
		return BlockComment
	case c == '*' && next == '/' && l.inExec:
		l.i, l.inExec = i+2, false
		return Unknown
	case c == '\'':
		l.i = quotedEnd(s, i, '\'', d.Backslash())
		return String
	case c == '"':
		l.i = quotedEnd(s, i, '"', d.Backslash())
		return DoubleQuoted
	case c == '`':
		if d == Postgres || d == MSSQL {
			break
		}
		l.i = quotedEnd(s, i, '`', false)
		return QuotedIdentifier
	case c == '[' && d == MSSQL:
		// "]]" inside brackets stands for one "]".
		l.i = quotedEnd(s, i, ']', false)
		return QuotedIdentifier
	case c == '[' && (d == SQLite || d == Generic):
		if j := strings.IndexByte(s[i+1:], ']'); j >= 0 {
			l.i = i + 1 + j + 1
		} else {
			l.i = len(s)
		}
		return QuotedIdentifier
	case isDigit(c) || (c == '.' && isDigit(next)):
		l.i = numberEnd(s, i)
		if d.isMySQL() && l.i < len(s) && isIdentChar(s[l.i], d) {
			// MySQL names may start with digits: 1abc.
			l.i = identEnd(s, l.i, d)
			return Identifier
		}
		return Number
	case isIdentStart(c):
		return l.word()
	case c == '$':
		return l.dollar()
	case c == '?':
		if d == Postgres {
			break // a jsonb operator
		}
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		l.i = j
		return Placeholder
	case c == ':' && isIdentStart(next) && !d.isMySQL():
		l.i = identEnd(s, i+1, d)
		return Placeholder
	case c == '@' && d != Postgres:
		j := i + 1
		if (d.isMySQL() || d == MSSQL) && next == '@' {
			j++
		}
		switch {
		case j < len(s) && d.isMySQL() && (s[j] == '\'' || s[j] == '"' || s[j] == '`'):
			l.i = quotedEnd(s, j, s[j], d.Backslash())
		case j < len(s) && isIdentChar(s[j], d):
			l.i = identEnd(s, j, d)
		}
		if l.i > i {
			if d.isMySQL() || d == MSSQL {
				return Variable
			}
			return Placeholder
		}
	case c == ',':
		l.i = i + 1
		return Comma
	case c == '.':
		l.i = i + 1
		return Dot
	case c == ';':
		l.i = i + 1
		return Semicolon
	case c == '(':
		l.i = i + 1
		return ParenOpen
	case c == ')':
		l.i = i + 1
		return ParenClose
	}
	if n := operatorLen(s[i:]); n > 0 {
		l.i = i + n
		return Operator
	}
	l.i = i + 1
	return Unknown
}

// word scans an identifier, a keyword, a word operator or a prefixed
// string such as E'...' or X'...'.
func (l *Lexer) word() Kind {
	s, i, d := l.s, l.i, l.d
	if i+1 < len(s) && s[i+1] == '\'' {
		switch s[i] | 0x20 {
		case 'e':
			if d == Postgres {
				l.i = quotedEnd(s, i+1, '\'', true)
				return String
			}
		case 'x', 'b', 'n':
			l.i = quotedEnd(s, i+1, '\'', d.Backslash())
			return String
		}
	}
	if d == Postgres && i+2 < len(s) && (s[i]|0x20) == 'u' && s[i+1] == '&' && s[i+2] == '\'' {
		l.i = quotedEnd(s, i+2, '\'', false)
		return String
	}
	end := identEnd(s, i, d)
	l.i = end
	return classify(s[i:end])
}

// dollar scans what starts with '$': a PostgreSQL positional parameter
// or dollar-quoted string, an SQLite $name placeholder.
func (l *Lexer) dollar() Kind {
	s, i, d := l.s, l.i, l.d
	switch d {
	case Postgres:
		j := i + 1
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			l.i = j
			return Placeholder
		}
		// $tag$ ... $tag$, tag empty or an identifier without '$'.
		for j < len(s) && s[j] != '$' && (isIdentStart(s[j]) || (j > i+1 && isDigit(s[j]))) {
			j++
		}
		if j < len(s) && s[j] == '$' {
			tag := s[i : j+1]
			if k := strings.Index(s[j+1:], tag); k >= 0 {
				l.i = j + 1 + k + len(tag)
			} else {
				l.i = len(s)
			}
			return DollarString
		}
	case SQLite, Generic:
		if i+1 < len(s) && isIdentChar(s[i+1], d) {
			l.i = identEnd(s, i+1, d)
			return Placeholder
		}
	}
	l.i = i + 1
	return Unknown
}

// quotedEnd returns the end of the quoted token that starts at s[i]
// (== q): a doubled quote stands for itself, a backslash escapes the next
// byte when backslash is set, and an unterminated token runs to the end.
func quotedEnd(s string, i int, q byte, backslash bool) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslash {
				j++
			}
		case q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(s)
}

// lineEnd returns the index of the newline ending the line comment at i,
// or len(s).
func lineEnd(s string, i int) int {
	for j := i; j < len(s); j++ {
		if s[j] == '\n' || s[j] == '\r' {
			return j
		}
	}
	return len(s)
}

// blockCommentEnd returns the end of the /* comment */ at i; PostgreSQL
// comments nest.
func blockCommentEnd(s string, i int, nest bool) int {
	depth := 1
	for j := i + 2; j+1 < len(s); j++ {
		switch {
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j++
			if depth == 0 || !nest {
				return j + 1
			}
		case nest && s[j] == '/' && s[j+1] == '*':
			depth++
			j++
		}
	}
	return len(s)
}

// numberEnd returns the end of the number at i: decimal with optional
// fraction, exponent and '_' separators, or 0x/0b.
func numberEnd(s string, i int) int {
	j := i
	if s[j] == '0' && j+1 < len(s) && (s[j+1]|0x20 == 'x' || s[j+1]|0x20 == 'b') {
		k := j + 2
		for k < len(s) && (isHex(s[k]) || s[k] == '_') {
			k++
		}
		if k > j+2 {
			return k
		}
	}
	for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && (isDigit(s[j]) || s[j] == '_') {
			j++
		}
	}
	if j < len(s) && s[j]|0x20 == 'e' {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	return j
}

// operators lists the multi-byte operators, longest first.
var operators = [...]string{
	"<=>", "->>", "#>>", "!~*", "!~~",
	"<>", "!=", "<=", ">=", "==", "||", "&&", "<<", ">>", "->", "#>", "::", ":=",
	"~*", "!~", "~~", "@>", "<@", "?|", "?&", "@@", "&<", "&>", "-|-",
}

// operatorLen returns the length of the operator at the start of s, or 0.
func operatorLen(s string) int {
	for _, op := range operators {
		if strings.HasPrefix(s, op) {
			return len(op)
		}
	}
	switch s[0] {
	case '=', '<', '>', '!', '+', '-', '*', '/', '%', '&', '|', '^', '~', '@', '#', '?', ':':
		return 1
	}
	return 0
}

func identEnd(s string, i int, d Dialect) int {
	j := i
	for j < len(s) && isIdentChar(s[j], d) {
		j++
	}
	return j
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }

func isIdentStart(c byte) bool {
	return ('a' <= c|0x20 && c|0x20 <= 'z') || c == '_' || c >= 0x80
}

func isIdentChar(c byte, d Dialect) bool {
	return isIdentStart(c) || isDigit(c) || (c == '$' && d != SQLite && d != Generic) || (c == '@' && d == MSSQL) || (c == '#' && d == MSSQL)
}
