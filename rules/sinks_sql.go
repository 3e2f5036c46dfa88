package rules

import (
	"sort"
	"strings"
	"sync"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/sqltok"
)

const (
	// minSQLInput is the shortest input the SQL guard correlates.
	minSQLInput = 3
	// minSQLTokens is how many tokens an input must span to be an
	// injection by itself (when one of them is not a literal).
	minSQLTokens = 4
)

// SQLDialect returns the SQL dialect name CheckSQL uses for a
// database/sql driver name: "mysql", "postgres", "sqlite" or "generic".
func SQLDialect(driverName string) string { return sqltok.ParseDialect(driverName).String() }

// CheckSQL reports whether the SQL statement query, about to run on a
// database of the given dialect ("mysql", "postgres", "sqlite", a driver
// name such as "pgx" or "sqlite3", anything else for generic SQL), holds
// one of inputs as code rather than as data.
//
// For every input of at least 3 bytes found verbatim in query, the
// statement is tokenized (parentheses dropped) and the tokens the input
// overlaps are examined. It is an injection (RuleSQLiSink) when they are
//   - 4 or more, one of them neither a literal nor a comma, unless they
//     form a benign ORDER BY list ("name DESC, 2 LIMIT 10");
//   - 3 after a WHERE or HAVING, forming a tautology: "x OR y", or a
//     comparison of two literals or two names ("'1'='1", "1 = 1");
//   - fewer than 4 with a comment the input opens that swallows the rest
//     of the statement ("1 --", "admin'#", "1 /*").
//
// An input that stays inside one string literal, a number, or a
// parameterised query (where inputs never appear in the text) never
// trips. When no input is contained in query, CheckSQL costs one
// strings.Contains per input and does not allocate.
func (s *Sinks) CheckSQL(dialect, query string, inputs []Field) SinkResult {
	if s == nil || s.sqlMode == ModeOff {
		return SinkResult{}
	}
	var st sqlStatement
	defer st.release()
	for i := range inputs {
		v := inputs[i].Value
		if len(v) < minSQLInput || len(v) > len(query) || !strings.Contains(query, v) {
			continue
		}
		if st.buf == nil {
			// Lex once, on the first input found, for every occurrence
			// of every input.
			st.lex(query, sqltok.ParseDialect(dialect))
		}
		var reason string
		if _, capped := occurrences(query, v, func(at int) bool {
			reason = st.injection(at, at+len(v))
			return reason != ""
		}); capped {
			reason = reasonTooMany
		}
		if reason != "" {
			return found(s.sqlMode, RuleSQLiSink, reason, &inputs[i], 0, len(v))
		}
	}
	return SinkResult{}
}

// sqlStatement is a statement lexed for analysis: its tokens without
// parentheses, which carry no meaning for the heuristics and would let
// "((((" pad an injection.
type sqlStatement struct {
	q    string
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
	st.q, st.toks = q, (*st.buf)[:0]
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
		if (t.Kind == sqltok.LineComment || t.Kind == sqltok.BlockComment) && t.Start >= a && t.End > b {
			return "comment truncates the query"
		}
	}
	return ""
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
