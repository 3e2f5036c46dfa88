package wire

import (
	"strconv"
	"unicode/utf8"
)

// fastDecode parses the JSON of one event as the wrapper writes it (a
// flat object of known keys, strings without escapes, integers) into e,
// without reflection. It reports false for anything else (escapes,
// unknown or case-different keys, nulls, floats, invalid UTF-8,
// duplicate-looking oddities it does not handle, trailing data), and
// Decode then uses encoding/json, so the result is always the one
// encoding/json gives: a differential fuzz test holds it to that. It does
// not check the version or kind.
func fastDecode(b []byte, e *Event) bool {
	*e = Event{}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := rawString(b, i)
		if !ok {
			return false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return false
		}
		if i, ok = field(b, i, string(key), e); !ok {
			return false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b)
		default:
			return false
		}
	}
}

// field decodes the value at b[i:] into the field named key.
func field(b []byte, i int, key string, e *Event) (int, bool) {
	switch key {
	case "v", "dur_ns", "matches", "dropped":
		return number(b, i, key, e)
	case "truncated":
		switch {
		case hasPrefix(b[i:], "true"):
			e.Truncated = true
			return i + 4, true
		case hasPrefix(b[i:], "false"):
			e.Truncated = false
			return i + 5, true
		}
		return i, false
	case "time":
		_, j, ok := rawString(b, i)
		if !ok {
			return i, false
		}
		if err := e.Time.UnmarshalJSON(b[i:j]); err != nil {
			return i, false
		}
		return j, true
	}
	var dst *string
	switch key {
	case "kind":
		s, j, ok := rawString(b, i)
		if !ok {
			return i, false
		}
		e.Kind = Kind(intern(s))
		return j, true
	case "fn":
		dst = &e.Function
	case "req":
		dst = &e.RequestID
	case "tenant":
		dst = &e.TenantID
	case "src":
		dst = &e.EventSource
	case "action":
		dst = &e.Action
	case "rule":
		dst = &e.RuleID
	case "cat":
		dst = &e.Category
	case "source":
		dst = &e.Source
	case "path":
		dst = &e.Path
	case "excerpt":
		dst = &e.Excerpt
	case "sink":
		dst = &e.Sink
	case "dest":
		dst = &e.Dest
	case "class":
		dst = &e.Class
	case "reason":
		dst = &e.Reason
	case "policy":
		dst = &e.PolicyVersion
	default:
		return i, false // unknown, or a case variant encoding/json would accept
	}
	s, j, ok := rawString(b, i)
	if !ok {
		return i, false
	}
	*dst = intern(s)
	return j, true
}

// number decodes a JSON integer into the numeric field key.
func number(b []byte, i int, key string, e *Event) (int, bool) {
	j := i
	if j < len(b) && b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == start || (b[start] == '0' && j-start > 1) {
		return i, false // no digits, or a leading zero JSON forbids
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return i, false
	}
	lit := string(b[i:j])
	switch key {
	case "dropped":
		n, err := strconv.ParseUint(lit, 10, 64)
		if err != nil {
			return i, false
		}
		e.Dropped = n
	case "dur_ns":
		n, err := strconv.ParseInt(lit, 10, 64)
		if err != nil {
			return i, false
		}
		e.DurationNS = n
	default: // v, matches: int
		n, err := strconv.ParseInt(lit, 10, strconv.IntSize)
		if err != nil {
			return i, false
		}
		if key == "v" {
			e.V = int(n)
		} else {
			e.Matches = int(n)
		}
	}
	return j, true
}

// rawString returns the contents of the JSON string at b[i:] and the index
// after its closing quote; false for escapes, control characters and
// invalid UTF-8, which encoding/json handles (or rejects) itself.
func rawString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			s := b[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, i, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, i, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// interned are the kinds and the bounded label values, shared instead of
// allocated per event.
var interned = func() map[string]string {
	m := map[string]string{}
	for _, k := range []Kind{KindInspection, KindDetection, KindEgress, KindSink} {
		m[string(k)] = string(k)
	}
	for _, vs := range labelValues {
		for _, v := range vs {
			m[v] = v
		}
	}
	return m
}()

// intern returns s as a string, shared when it is a known value.
func intern(s []byte) string {
	if v, ok := interned[string(s)]; ok {
		return v
	}
	return string(s)
}
