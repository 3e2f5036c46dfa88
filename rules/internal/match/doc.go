// Package match holds the user-defined matchers of policy input rules:
// regular expressions (RE2), phrase lists, exact values and prefixes.
//
// Matchers are compiled once by [New] and are immutable and safe for
// concurrent use. [Matcher.Match] does not allocate when nothing matches,
// so clean requests stay allocation-free.
package match
