package policy

// Pos is a position in a policy file, for error messages.
type Pos struct {
	Line, Col int
}

// EgressPolicy is the policy's "egress:" section: which outbound
// destinations the function may connect to. It is decided on the IP
// actually dialled.
//
//	egress:
//	  default: deny            # deny | allow
//	  mode: block              # optional; block | monitor | off, default: the policy's mode
//	  allow:
//	    - host: '*.amazonaws.com'
//	      ports: [443]
//	    - cidr: 10.20.0.0/16
//	  deny:
//	    - cidr: 169.254.0.0/16
type EgressPolicy struct {
	// Default is "allow" or "deny" for destinations no rule names. The
	// embedded default policy allows public destinations.
	Default string
	// Mode overrides the policy mode for egress; nil means the policy's.
	Mode *Mode
	// Allow and Deny list destination rules; Deny wins over Allow.
	Allow []EgressRule
	Deny  []EgressRule
	Pos   Pos
}

// EgressRule names destinations by host pattern or CIDR, optionally
// restricted to ports and schemes. Exactly one of Host and CIDR is set.
type EgressRule struct {
	// Host is an exact host name or a wildcard "*.example.com" (which
	// matches sub-domains, not the apex). Matched case-insensitively.
	Host string
	// CIDR is an IPv4 or IPv6 prefix, e.g. "10.20.0.0/16".
	CIDR string
	// Ports restricts the rule to these ports; empty means any.
	Ports []uint16
	// Schemes restricts the rule to these URL schemes ("https"); empty
	// means any. Only HTTP-level guards know the scheme.
	Schemes []string
	Pos     Pos
}

// SinkPolicy is the policy's "sinks:" section.
//
//	sinks:
//	  sql: block                     # block | monitor | off
//	  exec: {mode: block, allow: ['/usr/bin/convert']}   # or the shorthand "deny"
//	  files: {mode: block, deny: ['/proc/self/environ', '/var/task/**']}
type SinkPolicy struct {
	SQL   SQLSink
	Exec  ExecSink
	Files FileSink
	Pos   Pos
}

// SQLSink configures SQL injection checks on database/sql queries.
type SQLSink struct {
	Mode Mode
	Pos  Pos
}

// ExecSink configures child-process checks.
type ExecSink struct {
	// Mode is what a correlated injection does.
	Mode Mode
	// Deny denies every command not in Allow ("exec: deny" shorthand).
	Deny bool
	// Allow lists permitted executables (absolute paths or base names).
	Allow []string
	Pos   Pos
}

// FileSink configures file-access checks.
type FileSink struct {
	Mode Mode
	// Deny lists path globs that are never opened; "**" matches any
	// number of path elements.
	Deny []string
	// Allow lists path globs that are exempt from Deny.
	Allow []string
	Pos   Pos
}

// The rule ids that sink guards report. They are fixed, so the extension
// can accept them as metric labels next to the policy's own rule ids.
const (
	RuleEgressDeny    = "egress-deny"    // destination not allowed by egress:
	RuleSSRFSink      = "ssrf-sink"      // an input steers an outbound call inward
	RuleSQLiSink      = "sqli-sink"      // an input spans SQL tokens in a query
	RuleCmdiSink      = "cmdi-sink"      // an input spans shell tokens in a command
	RuleArgiSink      = "argi-sink"      // an input becomes an option of a command
	RuleExecDeny      = "exec-deny"      // program not allowed by sinks.exec
	RuleFileDeny      = "file-deny"      // path denied by sinks.files
	RuleTraversalSink = "traversal-sink" // an input escapes the directory it was joined to
)

// SinkRuleIDs returns the fixed sink rule ids, sorted.
func SinkRuleIDs() []string {
	return []string{RuleArgiSink, RuleCmdiSink, RuleEgressDeny, RuleExecDeny, RuleFileDeny, RuleSQLiSink, RuleSSRFSink, RuleTraversalSink}
}
