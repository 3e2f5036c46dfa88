package rules

// builtinDetectors returns the built-in detectors by policy name. Until
// the detect package provides its registry, the names of the policy
// format are accepted and resolve to no detector (such a rule never
// matches).
func builtinDetectors() detectorSet {
	set := detectorSet{}
	for _, n := range []string{"sqli", "xss", "cmdi", "traversal", "ssrf", "jndi", "nosql", "ssti", "proto", "crlf"} {
		set[n] = nil
	}
	return set
}
