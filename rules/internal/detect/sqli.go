package detect

import (
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// sqli detects SQL injection with libinjection's tokenizer and fingerprint
// set (libinjection.IsSQLi) on the decoded view, behind a prefilter and
// followed by context checks that cut its known false positives on
// ordinary input.
//
// The prefilter runs libinjection only when the value holds a character
// SQL injection needs to break out of a literal or chain a clause: a
// quote, backtick, parenthesis, '#', '=', ';', '-', '*', '|' or ','.
// Values without any (including "select your size") never reach it.
//
// The context checks drop a fingerprint when the value is a plain number
// (2.2250738585072011e-308), when it is prose whose only SQL-ish tokens
// are apostrophes inside words (it's, O'Brien, rock 'n' roll), or an e-mail
// address.
type sqli struct{}

// Name implements Detector.
func (sqli) Name() string { return "sqli" }

// Category implements Detector.
func (sqli) Category() string { return "sqli" }

// sqliTriggers are the classes the prefilter asks for.
const sqliTriggers = cQuote | cTick | cParen | cHash | cEq | cSemi | cDash | cStar | cPipe | cComma

// Detect implements Detector.
func (sqli) Detect(sc *Scratch, in Input) (Finding, bool) {
	if sc.Mask()&sqliTriggers == 0 {
		return miss()
	}
	d := sc.Decoded()
	if len(d) < 2 || plainNumber(d) {
		return miss()
	}
	ok, fp := libinjection.IsSQLi(d)
	if !ok {
		return miss()
	}
	if benignSQLContext(sc, fp) {
		return miss()
	}
	return hit(d, 0, len(d), "libinjection fingerprint")
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

// benignSQLContext reports whether a libinjection hit with fingerprint fp
// is ordinary text: every quote sits between two letters (an apostrophe
// in a word) and the value holds no SQL operator or comment syntax.
func benignSQLContext(sc *Scratch, fp string) bool {
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
	_ = fp
	return !hasSQLKeyword(c)
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
