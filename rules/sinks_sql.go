package rules

import (
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/sqltok"
)

const (
	// minSQLInput is the shortest input the SQL guard correlates.
	minSQLInput = 3
	// minSQLTokens is how many tokens an input must span to be an
	// injection by itself (when one of them is not a literal).
	minSQLTokens = 4
	// maxSpanTokens bounds the tokens of one input kept for analysis;
	// an input spanning more is an injection if any is harmful.
	maxSpanTokens = 64
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
	d := sqltok.Generic
	for i := range inputs {
		v := inputs[i].Value
		if len(v) < minSQLInput || len(v) > len(query) || !strings.Contains(query, v) {
			continue
		}
		if d == sqltok.Generic {
			d = sqltok.ParseDialect(dialect)
		}
		var reason string
		occurrences(query, v, func(at int) bool {
			reason = sqlInjection(query, d, at, at+len(v))
			return reason != ""
		})
		if reason != "" {
			return found(s.sqlMode, RuleSQLiSink, reason, &inputs[i], 0, len(v))
		}
	}
	return SinkResult{}
}

// sqlSpan is what the SQL guard learns from one pass of the lexer over a
// statement about the byte range [a, b) an input occupies.
type sqlSpan struct {
	q string
	// before counts the tokens that end before a; where reports a WHERE
	// or HAVING among them; prev1 and prev2 are the last two.
	before       int
	where        bool
	prev1, prev2 sqltok.Token
	// toks are the tokens overlapping [a, b) (at most maxSpanTokens);
	// n counts them all.
	toks [maxSpanTokens]sqltok.Token
	n    int
	// after reports a token after b.
	after bool
}

// sqlInjection examines the input at q[a:b] and returns why it is an
// injection, or "".
func sqlInjection(q string, d sqltok.Dialect, a, b int) string {
	var sp sqlSpan
	sp.q = q
	lx := sqltok.NewLexer(q, d)
	for {
		t, ok := lx.Next()
		if !ok {
			break
		}
		if t.Kind == sqltok.ParenOpen || t.Kind == sqltok.ParenClose {
			// Parentheses carry no meaning for the heuristics and would
			// let "((((" pad an injection.
			continue
		}
		switch {
		case t.End <= a:
			sp.before++
			sp.prev2, sp.prev1 = sp.prev1, t
			if t.Kind == sqltok.Keyword && (strings.EqualFold(t.Text(q), "WHERE") || strings.EqualFold(t.Text(q), "HAVING")) {
				sp.where = true
			}
			continue
		case t.Start < b:
			if sp.n < maxSpanTokens {
				sp.toks[sp.n] = t
			}
			sp.n++
			continue
		}
		sp.after = true
		break
	}
	if sp.n == 0 {
		return ""
	}
	toks := sp.toks[:min(sp.n, maxSpanTokens)]
	if sp.n >= minSQLTokens {
		if !harmful(toks) || sp.benignOrderBy(toks) {
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
	if sp.tautology(toks) {
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
func (sp *sqlSpan) tautology(toks []sqltok.Token) bool {
	if len(toks) != 3 || sp.before == 0 || !sp.where || toks[1].Kind != sqltok.Operator {
		return false
	}
	op := toks[1].Text(sp.q)
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
func (sp *sqlSpan) benignOrderBy(toks []sqltok.Token) bool {
	if sp.before < 2 || !strings.EqualFold(sp.prev2.Text(sp.q), "ORDER") || !strings.EqualFold(sp.prev1.Text(sp.q), "BY") {
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
			if strings.EqualFold(t.Text(sp.q), x) {
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
