package sqltok

// words classifies the reserved words that matter to the guard. Every
// other word is an Identifier, function names included.
var words = map[string]Kind{}

func init() {
	for _, w := range []string{
		"AND", "OR", "XOR", "NOT", "LIKE", "ILIKE", "IN", "IS", "BETWEEN", "REGEXP", "RLIKE",
		"GLOB", "MATCH", "DIV", "MOD", "SIMILAR", "SOUNDS", "ESCAPE", "COLLATE",
	} {
		words[w] = Operator
	}
	for _, w := range []string{
		"SELECT", "FROM", "WHERE", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE",
		"CREATE", "DROP", "ALTER", "TABLE", "INDEX", "VIEW", "UNION", "ALL", "DISTINCT",
		"ORDER", "BY", "GROUP", "HAVING", "LIMIT", "OFFSET", "ASC", "DESC", "JOIN", "INNER",
		"LEFT", "RIGHT", "OUTER", "FULL", "CROSS", "NATURAL", "ON", "USING", "AS", "CASE",
		"WHEN", "THEN", "ELSE", "END", "NULL", "TRUE", "FALSE", "EXISTS", "WITH", "RETURNING",
		"EXEC", "EXECUTE", "DECLARE", "BEGIN", "COMMIT", "ROLLBACK", "TRUNCATE", "GRANT",
		"REVOKE", "OUTFILE", "DUMPFILE", "LOAD", "PROCEDURE", "FUNCTION", "TRIGGER", "REPLACE",
		"IF", "SHOW", "DESCRIBE", "EXPLAIN", "PRAGMA", "ATTACH", "DETACH", "FETCH", "FIRST",
		"NEXT", "ROWS", "ONLY", "TOP", "COPY", "DEFAULT", "PRIMARY", "KEY", "FOREIGN",
		"REFERENCES", "CONSTRAINT", "UNIQUE", "CHECK", "DATABASE", "SCHEMA", "INTERSECT",
		"EXCEPT", "ANY", "SOME", "CALL", "DO", "SLEEP", "WAITFOR", "DELAY", "SHUTDOWN",
	} {
		words[w] = Keyword
	}
}

// maxWord is the longest word looked up; longer words are identifiers.
const maxWord = 16

// classify returns the kind of the word w.
func classify(w string) Kind {
	if len(w) > maxWord {
		return Identifier
	}
	var buf [maxWord]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	if k, ok := words[string(buf[:len(w)])]; ok {
		return k
	}
	return Identifier
}
