package detect

import (
	"strings"
	"unicode/utf8"

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
	quoted := m&(cQuote|cTick) != 0 || m&cHigh != 0 && hasLookalikeQuote(d)
	if !quoted && !hasSQLWord(sc.Compact()) && !strings.Contains(d, "/*!") {
		// Without a quote an injection must continue a numeric or
		// identifier context with SQL words; without any, neither
		// libinjection nor the phrases below can match.
		return miss()
	}
	if f, ok := sqlGrammar(sc); ok {
		return f, ok
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
	if quotedWords(sc.Compact()) {
		return lowHit(d, 0, len(d), "libinjection fingerprint on quoted words")
	}
	return hit(d, 0, len(d), "libinjection fingerprint")
}

// quotedWords reports a value whose quotes only quote single words or
// symbols, as product titles and search phrases do ("LIKE" STAMP, SMALL
// "&" SIGN): the quotes of each kind pair up, each quoted part is one
// token with no space at its edges, at least one word stands outside the
// quotes and none of those is a SQL keyword, and the value holds no
// comparison, call, variable, statement break or comment. An injection that closes
// a literal leaves a quote unpaired or puts spaces and operators between
// its quotes (1' OR 'x).
func quotedWords(c string) bool {
	if strings.ContainsAny(c, "=();#<>@$%") || strings.Contains(c, "--") || strings.Contains(c, "/*") {
		return false
	}
	outside := 0 // unquoted words, none of them SQL
	for i := 0; i < len(c); i++ {
		if isLetter(c[i]) {
			j := i
			for j < len(c) && (isWord(c[j]) || c[j] >= 0x80) {
				j++
			}
			if isSQLWord(c[i:j]) {
				return false
			}
			outside++
			i = j - 1
			continue
		}
		q := c[i]
		if q != '\'' && q != '"' && q != '`' {
			continue
		}
		if q == '\'' && i > 0 && i+1 < len(c) && isLetter(c[i-1]) && isLetter(c[i+1]) {
			continue // an apostrophe
		}
		j := strings.IndexByte(c[i+1:], q)
		if j <= 0 {
			return false
		}
		part := c[i+1 : i+1+j]
		if len(part) > 24 || !quotedToken(part) {
			return false
		}
		i += j + 1
	}
	// A quoted word alone ('OR', "*") is the probe itself.
	return outside > 0
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
			if e < len(c) && isWord(c[e]) && isWord(p[len(p)-1]) {
				continue // "union selected a few friends"
			}
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

// sqlGrammar finds injection grammar libinjection's fingerprints miss:
// a string literal broken out of (a quote followed by an operator or
// keyword) and ended with a comment or statement break, whatever the
// expression between (PostgreSQL JSON operators, dialect functions); a
// numeric context continued with a logical operator or set operation and
// ended the same way; a quote directly followed by a comment
// (admin'--, admin'#, ');--); and MySQL executable comments holding SQL
// (/*!50000UNION*/). Typographic quotes and Unicode spaces are read as
// their ASCII forms first, as applications that normalise input do.
func sqlGrammar(sc *Scratch) (Finding, bool) {
	c := sc.Compact()
	if sc.Mask()&cHigh != 0 {
		if b, ok := foldLookalikes(sc.buf(), c); ok {
			sc.keep(b)
			c = string(b)
		}
	}
	term := sqlTerminator(c)
	if term && (firstQuoteBreakout(c) || numericBreakout(c)) && !(proseLike(c) && !sqlDense(c)) {
		// (In prose the fingerprint and phrase checks below decide.)
		return hit(c, 0, len(c), "literal broken out and commented")
	}
	if i := quoteComment(c); i >= 0 {
		return hit(c, i, min(len(c), i+4), "quote then comment")
	}
	if i := strings.Index(sc.Lower(), "/*!"); i >= 0 {
		l := sc.Lower()
		j := i + 3
		for j < len(l) && l[j] >= '0' && l[j] <= '9' {
			j++
		}
		k := j
		for k < len(l) && isWord(l[k]) {
			k++
		}
		if isSQLWord(l[j:k]) {
			return hit(l, i, k, "mysql executable comment")
		}
	}
	return miss()
}

// numericBreakout reports a value that starts like a number or a closing
// parenthesis continued with a logical operator or set operation:
// "1 or ...", "1) and ...", "-1 union ...".
func numericBreakout(c string) bool {
	t := strings.TrimLeft(c, " ")
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '-') {
		i++
	}
	if i == 0 && (len(t) == 0 || t[0] != ')') {
		return false
	}
	i = skip(t, i, ") ")
	k := i
	for k < len(t) && isWord(t[k]) {
		k++
	}
	switch t[i:k] {
	case "or", "and", "xor", "union", "having", "procedure", "order", "group", "div", "rlike", "regexp", "like":
		return k < len(t) && !isWord(t[k])
	}
	return false
}

// quoteComment returns where a quote (optionally closed by ')') is
// directly followed by a comment or a statement break ending the value,
// or -1: admin'--, admin'#, x');--, admin';%00.
func quoteComment(c string) int {
	if i := strings.IndexAny(c, `'"`); i >= 0 {
		j := skip(c, i+1, ")")
		rest := c[j:]
		switch {
		case strings.HasPrefix(rest, "--") && (len(rest) == 2 || rest[2] == ' ' || rest[2] == '-' || rest[2] == '+'):
			return i
		case strings.HasPrefix(rest, "#") && (len(rest) == 1 || rest[1] == ' '):
			return i
		case strings.HasPrefix(rest, "/*"):
			return i
		case strings.HasPrefix(rest, ";") && len(rest) > 1 && (rest[1] == 0 || strings.HasPrefix(rest[1:], "--") || strings.HasPrefix(rest[1:], "%00")):
			return i
		}
	}
	return -1
}

// firstQuoteBreakout reports that the first quote of the compact view c
// (the one that would close the application's literal) is followed, past
// closing parentheses and spaces, by a SQL operator or keyword: 1' or,
// x') and, admin" union. A quote that opens a quotation in prose is
// followed by a word.
func firstQuoteBreakout(c string) bool {
	i := strings.IndexAny(c, "'\"`")
	if i < 0 {
		return false
	}
	j := skip(c, i+1, ") ")
	if j >= len(c) {
		return false
	}
	switch c[j] {
	case '=', '<', '>', '|', '&', ';', '+', '*', '/', '@', ':':
		return c[j] != '/' || j+1 < len(c) && c[j+1] != '/'
	}
	k := j
	for k < len(c) && isWord(c[k]) {
		k++
	}
	switch c[j:k] {
	case "or", "and", "xor", "union", "select", "having", "order", "group", "where",
		"like", "rlike", "regexp", "is", "in", "between", "div", "into", "procedure", "limit":
		return true
	}
	return false
}

// foldLookalikes appends s to dst with typographic and full-width quotes
// as ASCII quotes, Unicode spaces as a space and zero-width characters
// dropped. ok is false when nothing changed.
func foldLookalikes(dst []byte, s string) ([]byte, bool) {
	changed := false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if s[i] >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch r {
		case '\u2018', '\u2019', '\u201a', '\u201b', '\u02bc', '\u02b9', '\u2032', '\u00b4', '\uff07', '\u0060':
			dst = append(dst, '\'')
			changed = changed || r != '`'
		case '\u201c', '\u201d', '\u201e', '\u2033', '\uff02':
			dst = append(dst, '"')
			changed = true
		case '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006',
			'\u2007', '\u2008', '\u2009', '\u200a', '\u202f', '\u205f', '\u3000':
			dst = append(dst, ' ')
			changed = true
		case '\u180e', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
			changed = true
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst, changed
}

// quotedToken reports a word (letters, digits, '.', '-', '_') or one or
// two symbols: what a title quotes ("LIKE", "&", "**").
func quotedToken(p string) bool {
	word, sym := 0, 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case isWord(c) || c >= 0x80 || c == '.' || c == '-':
			word++
		case c == ' ' || c == '+' || c == '\t':
			return false
		default:
			sym++
		}
	}
	return word > 0 && sym == 0 || word == 0 && sym <= 2
}

// hasLookalikeQuote reports a typographic or full-width quote in s.
func hasLookalikeQuote(s string) bool {
	for _, q := range [...]string{"\u2018", "\u2019", "\u201a", "\u201b", "\u02bc", "\u02b9", "\u2032", "\u00b4", "\uff07", "\u201c", "\u201d", "\u201e", "\u2033", "\uff02"} {
		if strings.Contains(s, q) {
			return true
		}
	}
	return false
}
