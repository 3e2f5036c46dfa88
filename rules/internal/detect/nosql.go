package detect

import "strings"

// nosql detects MongoDB-style NoSQL injection.
//
//   - Operator keys: a JSON key or form key that is a query operator
//     ($ne, $gt, $regex, $where, ...), also in the bracket form of query
//     strings (password[$ne]=1) and inside JSON-ish values
//     ({"$gt": ""}, {$ne: 1}).
//   - Server-side JavaScript ($where, mapReduce): this.field.match(...),
//     db.collection.find(...), a quote closed and followed by ;return,
//     ;sleep( or a loop, and || / && tautologies such as || 1==1.
type nosql struct{}

// Name implements Detector.
func (nosql) Name() string { return "nosql" }

// Category implements Detector.
func (nosql) Category() string { return "nosql" }

// mongoOps are MongoDB query and aggregation operators, without the '$'.
var mongoOps = [...]string{
	"ne", "eq", "gt", "gte", "lt", "lte", "in", "nin", "regex", "where",
	"exists", "expr", "or", "and", "not", "nor", "elemmatch", "all", "size",
	"type", "mod", "text", "function", "accumulator", "comment", "jsonschema",
	"options", "lookup", "unionwith",
}

// isMongoOp reports whether s (lower case, without '$') is an operator.
func isMongoOp(s string) bool {
	for _, op := range mongoOps {
		if s == op {
			return true
		}
	}
	return false
}

// Detect implements Detector.
func (nosql) Detect(sc *Scratch, in Input) (Finding, bool) {
	m := sc.Mask()
	if m&(cDollar|cDot|cSemi|cPipe|cAmp|cEq) == 0 {
		return miss()
	}
	l := sc.Lower()
	if in.Key && len(l) > 1 && l[0] == '$' && isMongoOp(l[1:]) {
		return hit(l, 0, len(l), "operator key")
	}
	if m&cDollar != 0 {
		for off := 0; off < len(l); {
			i := strings.IndexByte(l[off:], '$')
			if i < 0 {
				break
			}
			i += off
			j := i + 1
			for j < len(l) && l[j] >= 'a' && l[j] <= 'z' {
				j++
			}
			if j > i+1 && isMongoOp(l[i+1:j]) && opContext(l, i, j) {
				return hit(l, i, j, "operator")
			}
			off = j
		}
	}
	if m&cDot != 0 && m&cParen != 0 {
		if f, ok := mongoJS(l); ok {
			return f, ok
		}
	}
	if m&(cSemi|cPipe|cAmp) != 0 {
		if f, ok := jsInjection(l); ok {
			return f, ok
		}
	}
	return miss()
}

// opContext reports whether the operator at l[i:j] stands where a key
// does: after start, '[', '{', a quote, ',' or space, and before ']', a
// quote, ':' or '='.
func opContext(l string, i, j int) bool {
	before := i == 0 || strings.IndexByte(`[{"' ,`, l[i-1]) >= 0
	k := skip(l, j, " \t")
	after := k == len(l) && i > 0 && l[i-1] == '"' || k < len(l) && strings.IndexByte(`]"':=`, l[k]) >= 0
	return before && after
}

// mongoJS finds server-side JavaScript against MongoDB objects:
// this.<field>.match( and db.<collection>.<method>(.
func mongoJS(l string) (Finding, bool) {
	for off := 0; off < len(l); {
		i := strings.Index(l[off:], "this.")
		if i < 0 {
			break
		}
		i += off
		j := i + 5
		for j < len(l) && isWord(l[j]) {
			j++
		}
		if strings.HasPrefix(l[j:], ".match(") {
			return hit(l, i, j+7, "$where javascript")
		}
		off = j
	}
	for off := 0; off < len(l); {
		i := strings.Index(l[off:], "db.")
		if i < 0 {
			break
		}
		i += off
		j := i + 3
		for j < len(l) && isWord(l[j]) {
			j++
		}
		if j > i+3 && j < len(l) && l[j] == '.' {
			k := j + 1
			for k < len(l) && isWord(l[k]) {
				k++
			}
			if k < len(l) && l[k] == '(' {
				switch l[j+1 : k] {
				case "find", "findone", "insert", "insertone", "update", "updateone",
					"remove", "deleteone", "deletemany", "drop", "mapreduce", "aggregate":
					return hit(l, i, k+1, "mongo shell call")
				}
			}
		}
		off = j
	}
	return miss()
}

// jsInjection finds a closed string literal followed by JavaScript
// statements (';return, ';sleep(, ';while), a bare ;return true, and
// || / && comparisons between literals (|| 1==1, && 'a'=='a').
func jsInjection(l string) (Finding, bool) {
	for i := 0; i < len(l); i++ {
		switch c := l[i]; c {
		case ';':
			j := skip(l, i+1, " \t")
			quoted := i > 0 && (l[i-1] == '\'' || l[i-1] == '"')
			rest := l[j:]
			switch {
			case strings.HasPrefix(rest, "return true"), strings.HasPrefix(rest, "return(true)"),
				strings.HasPrefix(rest, "return 1"):
				return hit(l, i, j+11, "javascript return")
			case quoted && (strings.HasPrefix(rest, "return") || strings.HasPrefix(rest, "sleep(") ||
				strings.HasPrefix(rest, "while(") || strings.HasPrefix(rest, "it=") ||
				strings.HasPrefix(rest, "var ") || strings.HasPrefix(rest, "do{")):
				return hit(l, i, j+8, "javascript after quote")
			}
		case '|', '&':
			if i+1 < len(l) && l[i+1] == c {
				if k := jsCompare(l, i+2); k > 0 {
					return hit(l, i, k, "javascript tautology")
				}
			}
		}
	}
	return miss()
}

// jsCompare reports the end of "<literal> == <literal>" at l[i:] (after
// spaces), or 0.
func jsCompare(l string, i int) int {
	i = skip(l, i, " \t")
	j := jsLiteral(l, i)
	if j < 0 {
		return 0
	}
	k := skip(l, j, " \t")
	if !strings.HasPrefix(l[k:], "==") {
		return 0
	}
	k = skip(l, k+2, "= \t")
	if e := jsLiteral(l, k); e >= 0 {
		return e
	}
	return 0
}

// jsLiteral returns the end of a number or quoted string at l[i:], or -1.
func jsLiteral(l string, i int) int {
	if i >= len(l) {
		return -1
	}
	if q := l[i]; q == '\'' || q == '"' {
		if e := strings.IndexByte(ahead(l, i+1), q); e >= 0 {
			return i + e + 2
		}
		return len(l)
	}
	j := i
	for j < len(l) && l[j] >= '0' && l[j] <= '9' {
		j++
	}
	if j == i {
		return -1
	}
	return j
}
