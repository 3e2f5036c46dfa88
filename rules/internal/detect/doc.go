// Package detect holds the built-in attack detectors (sqli, xss, cmdi,
// traversal, ssrf, jndi, nosql, ssti, proto, crlf) used by rules.Engine.
//
// A detector looks at one field value at a time. Decoded views of the value
// (URL-decoded until stable, HTML entities, \uXXXX, case-folded, ...) are
// computed lazily and at most once per field in a [Scratch], so several
// detectors share the decoding work.
//
// # Built-ins
//
// [Builtin] looks a detector up by its policy name and [Names] lists them.
// Each detector documents what it catches in the comment on its type.
//
// # Cost
//
// [Scratch.Reset] scans the value once and builds a class mask from a
// 256-entry table (quotes, '<', '%', '$', '{', ';', '|', '`', '.', '/',
// '\', ':', CR/LF, ...). Every detector first compares the mask with its
// trigger classes and returns at once when none is present, so a clean
// value costs one scan for all detectors together and allocates nothing.
// libinjection, the most expensive step, runs only behind such a check.
package detect
