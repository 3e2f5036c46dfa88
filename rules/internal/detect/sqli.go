package detect

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// sqli detects SQL injection with libinjection's tokenizer and fingerprint
// set (libinjection.IsSQLi) on the decoded view, plus SQL phrases that
// libinjection's fingerprints miss, behind a prefilter and followed by
// context checks that cut its known false positives on ordinary input.
//
// The prefilter needs a character SQL injection uses to break out of a
// literal or chain a clause (a quote, backtick, parenthesis, '#', '=',
// ';', '-', '*', '|', ',' or '@'), and then either a quote or a SQL keyword as
// a whole word (dots and hyphens join words, so host names such as
// x.execute-api.us-east-1.amazonaws.com do not count). Values failing it,
// including "select your size", never reach libinjection, which is the
// expensive and allocating step.
//
// When libinjection says no, the compact view (lower case, comments and
// whitespace collapsed) is searched for phrases such as UNION SELECT,
// SLEEP(5), CASE WHEN ... THEN, information_schema. and ORDER BY 3--.
//
// When libinjection says yes, the hit is dropped for plain numbers
// (2.2250738585072011e-308) and for prose whose only quotes are
// apostrophes between letters (it's, O'Brien, jane_o'neil@example.com)
// and which holds no SQL operator, comment or keyword.
type sqli struct{}

// Name implements Detector.
func (sqli) Name() string { return "sqli" }

// Category implements Detector.
func (sqli) Category() string { return "sqli" }

// sqliTriggers are the classes the prefilter asks for.
const sqliTriggers = cQuote | cTick | cParen | cHash | cEq | cSemi | cDash | cStar | cPipe | cComma | cAt

// Detect implements Detector.
func (sqli) Detect(sc *Scratch, in Input) (Finding, bool) {
	if sc.Mask()&sqliTriggers == 0 {
		return miss()
	}
	d := sc.Decoded()
	if len(d) < 2 || plainNumber(d) {
		return miss()
	}
	m := sc.Mask()
	quoted := m&(cQuote|cTick) != 0
	if !quoted && !hasSQLWord(sc.Compact()) {
		// Without a quote an injection must continue a numeric or
		// identifier context with SQL words; without any, neither
		// libinjection nor the phrases below can match.
		return miss()
	}
	ok := false
	if quoted || m&(cEq|cParen|cSemi|cHash|cPipe|cStar|cAngle|cAt) != 0 || strings.Contains(d, "--") {
		// Hyphens and commas alone ("gift-wrap it, and ...") are prose;
		// libinjection needs an operator, a call, a comment or a quote.
		ok, _ = libinjection.IsSQLi(d)
	}
	if !ok {
		if i, j := sqlSyntax(sc.Compact()); i >= 0 {
			if sqlInProse(sc) {
				return lowHit(sc.Compact(), i, j, "sql syntax in prose")
			}
			return hit(sc.Compact(), i, j, "sql syntax")
		}
		return miss()
	}
	if benignSQLContext(sc) {
		return miss()
	}
	if sqlInProse(sc) {
		return lowHit(d, 0, len(d), "libinjection fingerprint in prose")
	}
	return hit(d, 0, len(d), "libinjection fingerprint")
}

// sqlInProse reports a value that reads as prose and holds no
// unambiguous injection grammar: no quote broken out of and continued,
// no statement break or trailing comment, and it does not start like a
// continued numeric context (a digit, a sign or a closing parenthesis first).
func sqlInProse(sc *Scratch) bool {
	if !proseLike(sc.Decoded()) {
		return false
	}
	c := sc.Compact()
	if t := strings.TrimLeft(c, " "); t != "" && (t[0] >= '0' && t[0] <= '9' || t[0] == ')' || t[0] == '-' || t[0] == '\'' || t[0] == '"') {
		return false
	}
	return !sqlDense(c) && !quoteBreakout(c) && !sqlTerminator(c)
}

// plainNumber reports whether s is a decimal or floating-point literal
// with an optional sign and exponent.
func plainNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		if s[i] != '.' {
			digits++
		}
		i++
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		e := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(s)
}

// benignSQLContext reports whether a libinjection hit is ordinary text: every quote sits between two letters (an apostrophe
// in a word) and the value holds no SQL operator or comment syntax.
func benignSQLContext(sc *Scratch) bool {
	c := sc.Compact()
	if strings.Contains(c, "--") || strings.Contains(c, "#") || strings.Contains(c, "/*") ||
		strings.Contains(c, ";") || strings.Contains(c, "=") || strings.Contains(c, "||") {
		return false
	}
	for i := 0; i < len(c); i++ {
		if q := c[i]; q == '\'' || q == '"' || q == '`' {
			if i == 0 || i == len(c)-1 || !isLetter(c[i-1]) || !isLetter(c[i+1]) {
				return false
			}
		}
	}
	return !hasSQLKeyword(c)
}

// sqlPhrases are SQL constructs that ordinary text does not contain:
// set operations, sub-selects, time-delay and error-based functions,
// catalog names. They are matched on the compact view (lower case,
// comments and whitespace runs collapsed), so union/**/select matches
// "union select". A phrase must start a word; CASE WHEN needs a THEN and
// the delay functions a numeric argument. Phrases are grouped by their
// first word (see phrasesFor), so a value is scanned once and only the
// words that can start a phrase are compared.
var (
	unionPhrases    = [...]string{"union select", "union all select", "union distinct select"}
	selectPhrases   = [...]string{"select * from", "select count(", "select null"}
	intoPhrases     = [...]string{"into outfile", "into dumpfile"}
	orPhrases       = [...]string{"or 1=0"}
	andPhrases      = [...]string{"and 1=0"}
	waitforPhrase   = [...]string{"waitfor delay"}
	procedurePhrase = [...]string{"procedure analyse"}
	casePhrase      = [...]string{"case when "}
	concatPhrase    = [...]string{"concat(0x"}
	fromPhrase      = [...]string{"from dual"}
	havingPhrase    = [...]string{"having 1=1"}
)

// phrasesFor returns the phrases that start with the word w, or nil.
func phrasesFor(w string) []string {
	switch w {
	case "union":
		return unionPhrases[:]
	case "select":
		return selectPhrases[:]
	case "into":
		return intoPhrases[:]
	case "or":
		return orPhrases[:]
	case "and":
		return andPhrases[:]
	case "waitfor":
		return waitforPhrase[:]
	case "procedure":
		return procedurePhrase[:]
	case "case":
		return casePhrase[:]
	case "concat":
		return concatPhrase[:]
	case "from":
		return fromPhrase[:]
	case "having":
		return havingPhrase[:]
	}
	return nil
}

// sqlWordFollowedBy returns what must follow the word w for it to count
// on its own: '(' for functions used in injections, '.' for catalog and
// package names, 0 for names that count alone, or -1 when w is none of
// those.
func sqlWordFollowedBy(w string) int {
	switch w {
	case "sleep", "benchmark", "pg_sleep", "extractvalue", "updatexml", "load_file", "randomblob",
		"regexp_substring", "generate_series", "iif", "make_set", "elt":
		return '('
	case "dbms_pipe", "utl_inaddr", "information_schema", "pg_catalog":
		return '.'
	case "xp_cmdshell", "sysusers", "sysobjects", "sqlite_master":
		return 0
	}
	return -1
}

// sqlSyntax finds a SQL phrase, a sub-select after '(' or ';', @@version,
// a numeric tautology, or "order by <n>" followed by a comment or a list,
// in the compact view c, and returns its bounds or -1.
func sqlSyntax(c string) (int, int) {
	for i := 0; i < len(c); {
		for i < len(c) && !isWord(c[i]) {
			i++
		}
		j := i
		for j < len(c) && isWord(c[j]) {
			j++
		}
		w := c[i:j]
		start := i
		i = j
		if w == "" {
			continue
		}
		if w == "select" && start > 0 && j < len(c) && c[j] == ' ' {
			if p := c[start-1]; p == '(' || p == ';' || p == ' ' && start > 1 && c[start-2] == ';' {
				return start - 1, j
			}
		}
		if w == "version" && start >= 2 && c[start-2:start] == "@@" {
			return start - 2, j
		}
		switch f := sqlWordFollowedBy(w); {
		case f == 0:
			return start, j
		case f > 0 && j < len(c) && c[j] == byte(f):
			e := j + 1
			switch w {
			case "sleep", "benchmark", "pg_sleep", "randomblob":
				// A delay needs a numeric or computed argument.
				if k := skip(c, e, " "); k >= len(c) || !(c[k] >= '0' && c[k] <= '9' || c[k] == '(' || c[k] == '@' || c[k] == '-') {
					continue
				}
			}
			return start, e
		}
		for _, p := range phrasesFor(w) {
			if !strings.HasPrefix(c[start:], p) {
				continue
			}
			e := start + len(p)
			if w == "case" && !strings.Contains(ahead(c, e), " then ") {
				// CASE WHEN ... THEN, not "in case when it rains".
				continue
			}
			return start, e
		}
	}
	if i, j := tautology(c); i >= 0 {
		return i, j
	}
	for off := 0; off < len(c); {
		i := strings.Index(c[off:], "order by ")
		if i < 0 {
			break
		}
		i += off
		off = i + 9
		j := off
		for j < len(c) && c[j] >= '0' && c[j] <= '9' {
			j++
		}
		if j == off {
			continue
		}
		k := skip(c, j, " ")
		if k == len(c) || c[k] == ',' || c[k] == '#' || strings.HasPrefix(c[k:], "--") || c[k] == ';' {
			return i, j
		}
	}
	return -1, -1
}

// isSQLWord reports whether w (lower case) is one of the SQL keywords an
// unquoted injection needs at least one of.
func isSQLWord(w string) bool {
	switch w {
	case "and", "or", "xor", "not", "union", "select", "having", "where", "order",
		"group", "sleep", "benchmark", "waitfor", "exec", "execute", "declare",
		"insert", "update", "delete", "drop", "case", "null", "rlike", "procedure",
		"limit", "into", "from", "is", "div", "iif", "elt", "set", "alter", "create",
		"truncate", "regexp", "sounds", "load_file", "extractvalue", "updatexml",
		"pg_sleep", "make_set", "randomblob", "session_user", "current_user":
		return true
	}
	return false
}

// hasSQLWord reports whether the compact view c holds a SQL keyword as a
// whole word. Dots and hyphens join words here, so host names
// (abc.execute-api.us-east-1.amazonaws.com) and hyphenated English do not
// count.
func hasSQLWord(c string) bool {
	inWord := func(b byte) bool { return isWord(b) || b == '.' || b == '-' }
	for i := 0; i < len(c); {
		for i < len(c) && !inWord(c[i]) {
			i++
		}
		j := i
		for j < len(c) && inWord(c[j]) {
			j++
		}
		if n := j - i; n >= 2 && n <= 12 && isSQLWord(c[i:j]) {
			return true
		}
		i = j
	}
	return false
}

// tautology finds "and <n>=<n>" or "or <n>=<n>" with the same number on
// both sides (and 1083=1083, or 7=7), the boolean probe of blind
// injection, and returns its bounds or -1.
func tautology(c string) (int, int) {
	for _, op := range [...]string{"and ", "or ", "xor "} {
		for off := 0; off < len(c); {
			i := strings.Index(c[off:], op)
			if i < 0 {
				break
			}
			i += off
			off = i + len(op)
			if i > 0 && isWord(c[i-1]) {
				continue
			}
			a := skip(c, off, "( ")
			b := a
			for b < len(c) && c[b] >= '0' && c[b] <= '9' {
				b++
			}
			if b == a || b >= len(c) || c[b] != '=' {
				continue
			}
			e := b + 1
			for e < len(c) && c[e] >= '0' && c[e] <= '9' {
				e++
			}
			if c[a:b] == c[b+1:e] && (e == len(c) || !isWord(c[e])) {
				return i, e
			}
		}
	}
	return -1, -1
}

// isLetter reports an ASCII letter or a byte of a multi-byte character.
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 }

// sqlKeywords are words whose presence keeps an apostrophe-only value
// suspicious.
var sqlKeywords = [...]string{
	"union", "select", "insert", "update", "delete", "drop", "sleep(", "benchmark(",
	"waitfor", "exec", "having", "order by", "group by", " or ", " and ", "null",
	"char(", "concat", "information_schema", "xp_", "load_file", "outfile",
}

// hasSQLKeyword reports whether the compact view c holds a SQL keyword.
func hasSQLKeyword(c string) bool {
	for _, k := range sqlKeywords {
		if strings.Contains(c, k) {
			return true
		}
	}
	return false
}
