// Package catalog names the built-in detectors for the policy parser,
// which validates detector names without linking the detectors (and
// libinjection) into the programs that only read policies.
package catalog

// Detectors returns the built-in detector names, sorted. The detect
// package's tests hold this list to the detectors it implements.
func Detectors() []string {
	return []string{"cmdi", "crlf", "jndi", "nosql", "proto", "sqli", "ssrf", "ssti", "traversal", "xss"}
}
