package rules

import (
	"sort"
	"strings"
	"sync"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/sqltok"
)

const (
	// minSQLTokens is how many tokens an input must span to be an
	// injection by itself (when one of them is not a literal).
	minSQLTokens = 4
	// minSQLExpression is the shortest input whose own two or three
	// tokens, an operator or keyword among them, make it code ("1|1");
	// shorter inputs are judged only by the literals and comments they
	// open or close.
	minSQLExpression = 3
)

// SQLDialect returns the SQL dialect name CheckSQL uses for a
// database/sql driver name: "mysql", "mysql-no-backslash-escapes",
// "postgres", "sqlite", "mssql" or "generic".
func SQLDialect(driverName string) string { return sqltok.ParseDialect(driverName).String() }

// CheckSQL reports whether the SQL statement query, about to run on a
// database of the given dialect ("mysql", "mysql-no-backslash-escapes",
// "postgres", "sqlite", "mssql", a driver name such as "pgx" or
// "sqlite3", anything else for generic SQL), holds one of inputs as code
// rather than as data.
//
// The statement is lexed as the database reads it (MySQL backslash
// escapes, PostgreSQL E'...' and dollar-quoted strings, SQL Server
// [brackets], nested comments, ...), parentheses dropped, and for every
// input found verbatim the tokens it overlaps are examined. It is an
// injection (RuleSQLiSink) when
//   - it spans 4 or more tokens, one of them neither a literal nor a
//     comma, unless they form a benign ORDER BY list ("name DESC, 2
//     LIMIT 10");
//   - it spans 3 tokens after a WHERE or HAVING forming a tautology:
//     "x OR y", or a comparison of two literals or two names ("'1'='1",
//     "1 = 1");
//   - it opens a comment that swallows the rest of the statement ("1 --",
//     "admin'#", "'#");
//   - it closes or opens a string, quoted name or comment and carries
//     something beyond it ("'#", "x' OR", "*/ OR"), or changes where the
//     literal it sits in ends (a lone "\" before the closing quote in
//     MySQL);
//   - of 3 bytes or more, it is two or three whole tokens with an
//     operator or keyword among them ("1|1", "1 OR 2"), a signed number
//     ("-1") and an ORDER BY list excepted.
//
// Inputs of any length are examined; a 1-byte input can only change
// where a literal ends (a backslash). On MySQL, whose
// NO_BACKSLASH_ESCAPES mode may be set on the server where no client
// sees it, an input holding a backslash is examined under both readings.
// An input that stays inside one literal, a number, or a parameterised
// query (where inputs never appear in the text) never trips. When no
// input is contained in query, CheckSQL costs one strings.Contains per
// input and does not allocate.
func (s *Sinks) CheckSQL(dialect, query string, inputs []Field) SinkResult {
	if s == nil || s.sqlMode == ModeOff {
		return SinkResult{}
	}
	d := sqltok.ParseDialect(dialect)
	var st, alt sqlStatement
	defer st.release()
	defer alt.release()
	var seen dedupe
	for i := range inputs {
		v := inputs[i].Value
		if !sqlCandidate(v, d) || len(v) > len(query) || !strings.Contains(query, v) {
			continue
		}
		if seen.skip(v) {
			continue
		}
		if st.buf == nil {
			// Lex once, on the first input found, for every occurrence
			// of every input.
			st.lex(query, d)
		}
		reason := st.examine(v)
		if ad, ok := d.Alternate(); ok && reason == "" && strings.IndexByte(v, '\\') >= 0 {
			if alt.buf == nil {
				alt.lex(query, ad)
			}
			reason = alt.examine(v)
		}
		if reason != "" {
			return found(s.sqlMode, RuleSQLiSink, reason, &inputs[i], 0, len(v))
		}
	}
	return SinkResult{}
}

// sqlCandidate reports whether v could change a statement's structure
// in dialect d: any input of 3 bytes or more; a 2-byte input only with a
// byte that opens or closes a literal or comment; a 1-byte input only
// when it is a backslash that escapes a closing quote.
func sqlCandidate(v string, d sqltok.Dialect) bool {
	switch len(v) {
	case 0:
		return false
	case 1:
		return v[0] == '\\' && d.Backslash()
	case 2:
		return strings.ContainsAny(v, sqlDelimiters)
	}
	return true
}

// sqlDelimiters are the bytes that open, close or escape a literal or a
// comment in some dialect.
const sqlDelimiters = "'\"`[]$\\-#/*\n\r;"

// examine returns why one of v's occurrences in the statement is an
// injection, or "".
func (st *sqlStatement) examine(v string) string {
	var reason string
	if _, capped := occurrences(st.q, v, func(at int) bool {
		reason = st.injection(at, at+len(v))
		return reason != ""
	}); capped {
		reason = reasonTooMany
	}
	return reason
}

// sqlStatement is a statement lexed for analysis: its tokens without
// parentheses, which carry no meaning for the heuristics and would let
// "((((" pad an injection.
type sqlStatement struct {
	q    string
	d    sqltok.Dialect
	toks []sqltok.Token
	// where is the index of the first WHERE or HAVING, or len(toks).
	where int
	buf   *[]sqltok.Token
}

// maxPooledTokens bounds the token slices kept for reuse.
const maxPooledTokens = 1 << 14

var sqlTokens = sync.Pool{New: func() any { s := make([]sqltok.Token, 0, 128); return &s }}

// lex fills st with the tokens of q.
func (st *sqlStatement) lex(q string, d sqltok.Dialect) {
	st.buf = sqlTokens.Get().(*[]sqltok.Token)
	st.q, st.d, st.toks = q, d, (*st.buf)[:0]
	lx := sqltok.NewLexer(q, d)
	st.where = -1
	for {
		t, ok := lx.Next()
		if !ok {
			break
		}
		switch t.Kind {
		case sqltok.ParenOpen, sqltok.ParenClose:
			continue
		case sqltok.Keyword:
			if st.where < 0 && (strings.EqualFold(t.Text(q), "WHERE") || strings.EqualFold(t.Text(q), "HAVING")) {
				st.where = len(st.toks)
			}
		}
		st.toks = append(st.toks, t)
	}
	if st.where < 0 {
		st.where = len(st.toks)
	}
}

// release returns st's token slice to the pool.
func (st *sqlStatement) release() {
	if st.buf != nil && cap(st.toks) <= maxPooledTokens {
		*st.buf = st.toks[:0]
		sqlTokens.Put(st.buf)
	}
}

// injection examines the input at q[a:b] and returns why it is an
// injection, or "".
func (st *sqlStatement) injection(a, b int) string {
	q, all := st.q, st.toks
	// The tokens overlapping [a, b): from the first that ends after a to
	// the last that starts before b.
	first := sort.Search(len(all), func(i int) bool { return all[i].End > a })
	last := first + sort.Search(len(all)-first, func(i int) bool { return all[first+i].Start >= b })
	toks := all[first:last]
	if len(toks) == 0 {
		return ""
	}
	if len(toks) >= minSQLTokens {
		if !harmful(toks) || st.benignOrderBy(first, toks) {
			return ""
		}
		for _, t := range toks {
			switch {
			case t.Kind == sqltok.Semicolon:
				return "input adds a statement"
			case t.Kind == sqltok.Keyword && strings.EqualFold(t.Text(q), "UNION"):
				return "input adds a UNION"
			}
		}
		return "input spans SQL tokens"
	}
	if st.tautology(first, toks) {
		return "tautology"
	}
	for _, t := range toks {
		// A short input must carry something before the comment it
		// opens: "--" or "#" alone equal too many constant comments.
		if isComment(t.Kind) && t.Start >= a && t.End > b && (b-a >= minSQLExpression || t.Start > a) {
			return "comment truncates the query"
		}
	}
	if (breaksOut(q, toks, a, b) || st.endsComment(first, a, b)) && !st.escapedAt(a, b) {
		return "input breaks out of a literal"
	}
	if len(toks) == 1 && st.movesLiteralEnd(toks[0], a, b) && !st.escapedAt(a, b) {
		return "input moves the end of a literal"
	}
	if b-a >= minSQLExpression && toks[0].Start >= a && toks[len(toks)-1].End <= b &&
		expression(q, toks) && !st.benignOrderBy(first, toks) {
		return "input spans SQL tokens"
	}
	return ""
}

// quoted reports whether k is delimited by bytes that an input can
// remove or add: a quoted literal or name, or a comment.
func quoted(k sqltok.Kind) bool {
	switch k {
	case sqltok.String, sqltok.DoubleQuoted, sqltok.QuotedIdentifier, sqltok.DollarString:
		return true
	}
	return isComment(k)
}

func isComment(k sqltok.Kind) bool { return k == sqltok.LineComment || k == sqltok.BlockComment }

// breaksOut reports whether the input at q[a:b] holds one end of a
// quoted token but not the other (it opens or closes a string, a quoted
// name or a comment) and carries something besides blanks outside that
// token: "x' OR", "'#", "*/ OR 1".
func breaksOut(q string, toks []sqltok.Token, a, b int) bool {
	for _, t := range toks {
		if !quoted(t.Kind) {
			continue
		}
		inside := t.Start >= a && t.End <= b
		around := t.Start <= a && t.End >= b
		if inside || around {
			continue
		}
		// The part of the input outside t.
		var out string
		if t.Start < a {
			out = q[t.End:b]
		} else {
			out = q[a:t.Start]
		}
		if strings.TrimLeft(out, " \t\n\r\f\v") != "" {
			return true
		}
	}
	return false
}

// endsComment reports whether the input at q[a:b] starts with the line
// break that ends the line comment before it, and carries code after it.
// The comment's token stops before the break, so it does not overlap
// the input.
func (st *sqlStatement) endsComment(first, a, b int) bool {
	if first == 0 || st.toks[first-1].Kind != sqltok.LineComment || st.toks[first-1].End != a {
		return false
	}
	return strings.TrimLeft(st.q[a:b], " \t\n\r\f\v") != ""
}

// literalBytes are the bytes that can move the end of a quoted token.
const literalBytes = "'\"`]$*/\\\n\r"

// movesLiteralEnd reports whether the input at q[a:b], inside the quoted
// token t (after its opening delimiter), decides where t ends: read with
// the input replaced by neutral bytes, t would end elsewhere. A lone
// backslash before the closing quote in MySQL does that, and so does
// an unbalanced "$tag$".
func (st *sqlStatement) movesLiteralEnd(t sqltok.Token, a, b int) bool {
	if !quoted(t.Kind) || t.Start >= a || t.End < b || !strings.ContainsAny(st.q[a:b], literalBytes) {
		return false
	}
	masked := []byte(st.q[t.Start:])
	for i := a - t.Start; i < b-t.Start; i++ {
		masked[i] = 'a'
	}
	lx := sqltok.NewLexer(string(masked), st.d)
	nt, ok := lx.Next()
	return !ok || nt.Start != 0 || t.Start+nt.End != t.End
}

// escapedAt reports whether the input at q[a:b] is part of its own
// escaped form: "'s" is found inside the literal for "it's" when the application
// escaped the input "'s" properly, one byte after where the escaped form
// starts. Quotes doubled and, where the dialect has them, backslash
// escapes are tried.
func (st *sqlStatement) escapedAt(a, b int) bool {
	v := st.q[a:b]
	if !strings.ContainsAny(v, "'\"`]\\") {
		return false
	}
	forms := [...]string{
		strings.ReplaceAll(v, "'", "''"),
		strings.ReplaceAll(v, `"`, `""`),
		strings.ReplaceAll(v, "`", "``"),
		strings.ReplaceAll(v, "]", "]]"),
		"",
	}
	if st.d.Backslash() {
		forms[4] = strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`).Replace(v)
	}
	for _, f := range forms {
		if f == "" || f == v {
			continue
		}
		// An occurrence of f that starts at most len(f)-len(v) bytes
		// before a and covers [a, b).
		from := a - (len(f) - len(v))
		if from < 0 {
			from = 0
		}
		to := b + (len(f) - len(v))
		if to > len(st.q) {
			to = len(st.q)
		}
		w := st.q[from:to]
		for off := 0; ; {
			j := strings.Index(w[off:], f)
			if j < 0 {
				break
			}
			if p := from + off + j; p <= a && p+len(f) >= b && st.inLiteral(p, p+len(f)) {
				return true
			}
			off += j + 1
		}
	}
	return false
}

// inLiteral reports whether q[a:b] lies strictly inside one quoted
// token, between its delimiters.
func (st *sqlStatement) inLiteral(a, b int) bool {
	i := sort.Search(len(st.toks), func(i int) bool { return st.toks[i].End > a })
	if i == len(st.toks) {
		return false
	}
	t := st.toks[i]
	return quoted(t.Kind) && t.Start < a && t.End > b
}

// expression reports whether toks (all of one input) hold an operator,
// a keyword, a statement separator or a byte no rule knows: the input is
// code. A signed number ("-1", "+2") is data.
func expression(q string, toks []sqltok.Token) bool {
	if len(toks) == 2 && toks[0].Kind == sqltok.Operator && toks[1].Kind == sqltok.Number && toks[0].End == toks[1].Start {
		if op := toks[0].Text(q); op == "-" || op == "+" {
			return false
		}
	}
	for _, t := range toks {
		switch t.Kind {
		case sqltok.Operator, sqltok.Keyword, sqltok.Semicolon, sqltok.Unknown, sqltok.Variable:
			return true
		}
	}
	return false
}

// harmful reports whether toks holds a token other than a literal or a
// comma.
func harmful(toks []sqltok.Token) bool {
	for _, t := range toks {
		if t.Kind != sqltok.Comma && !t.Kind.IsLiteral() {
			return true
		}
	}
	return false
}

// tautology reports whether three tokens after a WHERE form "x OR y" or
// a comparison of like with like ("'1'='1", "1=1", "a=a").
func (st *sqlStatement) tautology(first int, toks []sqltok.Token) bool {
	if len(toks) != 3 || first == 0 || st.where >= first || toks[1].Kind != sqltok.Operator {
		return false
	}
	op := toks[1].Text(st.q)
	switch {
	case strings.EqualFold(op, "OR"), strings.EqualFold(op, "XOR"), op == "||":
		return true
	case !isComparison(op):
		return false
	}
	k0, k2 := toks[0].Kind, toks[2].Kind
	if k0 == k2 {
		return true
	}
	// '1' = 1: literals of different kinds still compare.
	return k0.IsLiteral() && k2.IsLiteral()
}

func isComparison(op string) bool {
	switch op {
	case "=", "==", "!=", "<>", "<=>", "<", ">", "<=", ">=":
		return true
	}
	for _, w := range [...]string{"LIKE", "ILIKE", "IS", "GLOB", "REGEXP", "RLIKE"} {
		if strings.EqualFold(op, w) {
			return true
		}
	}
	return false
}

// benignOrderBy reports whether toks directly follow ORDER BY and form
// an ordering list: names or column numbers, optionally qualified
// (t.name), each optionally ASC or DESC, separated by commas, optionally
// followed by LIMIT n and OFFSET n.
func (st *sqlStatement) benignOrderBy(first int, toks []sqltok.Token) bool {
	if first < 2 || !strings.EqualFold(st.toks[first-2].Text(st.q), "ORDER") || !strings.EqualFold(st.toks[first-1].Text(st.q), "BY") {
		return false
	}
	const (
		item    = iota // expecting a name or a column number
		named          // after a name: . , ASC DESC LIMIT OFFSET or end
		dotted         // after a dot: a name
		ordered        // after a number, a qualified name or ASC/DESC: , LIMIT OFFSET or end
		limit          // after LIMIT/OFFSET: a number
		limited        // after its number: LIMIT OFFSET or end
	)
	state := item
	word := func(t sqltok.Token, w ...string) bool {
		for _, x := range w {
			if strings.EqualFold(t.Text(st.q), x) {
				return true
			}
		}
		return false
	}
	for _, t := range toks {
		name := t.Kind == sqltok.Identifier || t.Kind == sqltok.QuotedIdentifier || t.Kind == sqltok.DoubleQuoted
		switch state {
		case item:
			switch {
			case t.Kind == sqltok.Number:
				state = ordered
			case name:
				state = named
			default:
				return false
			}
		case dotted:
			if !name {
				return false
			}
			state = ordered
		case named, ordered:
			switch {
			case t.Kind == sqltok.Dot && state == named:
				state = dotted
			case t.Kind == sqltok.Comma:
				state = item
			case word(t, "ASC", "DESC"):
				state = ordered
			case word(t, "LIMIT", "OFFSET"):
				state = limit
			default:
				return false
			}
		case limit:
			if t.Kind != sqltok.Number {
				return false
			}
			state = limited
		case limited:
			if !word(t, "LIMIT", "OFFSET") {
				return false
			}
			state = limit
		}
	}
	return state == named || state == ordered || state == limited
}
