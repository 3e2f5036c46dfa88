// Package sqltok splits SQL statements into tokens for the SQL injection
// sink guard. It is a lexer, not a parser: it knows where strings,
// comments, identifiers, numbers and operators begin and end in the MySQL,
// PostgreSQL and SQLite dialects (and a generic one for everything else),
// which is all the guard needs to tell whether a request input stayed
// inside one literal or spans several tokens of the statement.
//
// [Tokenize] runs in time linear in the statement, never panics, accepts
// any bytes (invalid SQL included) and appends to a caller-provided slice,
// so that a pooled slice makes it allocation-free.
package sqltok
