package wire

// LogMessage is the message of a security log line; both processes write
// it at warn level (the extension to stdout, the wrapper to its fallback
// logger when the extension cannot be reached).
const LogMessage = "security event"

// MaxLogExcerpt is the longest excerpt, in bytes, a security log line
// carries.
const MaxLogExcerpt = 200

// LogField is one field of a security log line.
type LogField struct {
	Key, Value string
}

// logFields are the security log's keys, in order, with the longest value
// written for each (longer values are cut, "…" included); logValue reads
// them from an Event.
var logFields = [...]struct {
	key string
	max int
}{
	{"function", 512},
	{"request_id", 128},
	{"tenant_id", 128}, // tenant isolation mode; never a metric label
	{"event_source", 64},
	{"rule", 128},
	{"category", 64},
	{"action", 32},
	{"source", 32},
	{"path", 509},
	{"excerpt", MaxLogExcerpt - 3},
	{"sink", 32},
	{"dest", 509},
	{"class", 32},
	{"reason", 509},
	{"policy_version", 128},
}

// logValue returns the value of logFields[i] in e.
func (e *Event) logValue(i int) string {
	switch i {
	case 0:
		return e.Function
	case 1:
		return e.RequestID
	case 2:
		return e.TenantID
	case 3:
		return e.EventSource
	case 4:
		return e.RuleID
	case 5:
		return e.Category
	case 6:
		return e.Action
	case 7:
		return e.Source
	case 8:
		return e.Path
	case 9:
		return e.Excerpt
	case 10:
		return e.Sink
	case 11:
		return e.Dest
	case 12:
		return e.Class
	case 13:
		return e.Reason
	default:
		return e.PolicyVersion
	}
}

// LogFields appends the security log fields of e to dst: its non-empty
// fields, in the log's order, each cut to its bound.
func (e *Event) LogFields(dst []LogField) []LogField {
	for i, f := range logFields {
		if v := e.logValue(i); v != "" {
			dst = append(dst, LogField{Key: f.key, Value: Truncate(v, f.max)})
		}
	}
	return dst
}
