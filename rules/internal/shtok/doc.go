// Package shtok splits POSIX shell command strings (what "sh -c" and
// "bash -c" run) into tokens for the command injection sink guard.
//
// It is a lexer with just enough grammar to know where commands start:
// words (quotes, escapes and ${...} included), control operators,
// redirections, comments and command substitutions ($(...), `...`,
// <(...), >(...), also inside double quotes). The first word of each
// simple command is a [Command]. It does not expand anything.
//
// [Tokenize] runs in time linear in the input, never panics, and nests at
// most [MaxDepth] substitutions deep (deeper text is read as plain words).
package shtok
