package wire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// MaxCutField is what Append cuts the free-text fields (tenant, path,
// excerpt, dest, reason) to when an event would not fit in one datagram.
const MaxCutField = 256

// Append appends the JSON of e to dst without reflection, as the wrapper
// sends it: when the event would not fit in MaxDatagram, its free-text
// fields are cut to MaxCutField bytes first; ok is false when it still
// does not fit. It writes Version, whatever e.V says, and does not
// allocate when dst has room.
func Append(dst []byte, e *Event) ([]byte, bool) {
	start := len(dst)
	b := encodeEvent(dst, e, 0)
	if len(b)-start <= MaxDatagram {
		return b, true
	}
	b = encodeEvent(b[:start], e, MaxCutField)
	return b, len(b)-start <= MaxDatagram
}

func encodeEvent(b []byte, e *Event, cut int) []byte {
	clip := func(s string) string {
		if cut > 0 {
			return Truncate(s, cut)
		}
		return s
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, Version, 10)
	b = append(b, `,"kind":`...)
	b = AppendString(b, string(e.Kind))
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "fn", e.Function)
	b = appendField(b, "req", e.RequestID)
	b = appendField(b, "tenant", clip(e.TenantID))
	b = appendField(b, "src", e.EventSource)
	b = appendField(b, "action", e.Action)
	b = appendField(b, "rule", e.RuleID)
	b = appendField(b, "cat", e.Category)
	b = appendField(b, "source", e.Source)
	b = appendField(b, "path", clip(e.Path))
	b = appendField(b, "excerpt", clip(e.Excerpt))
	b = appendField(b, "sink", e.Sink)
	b = appendField(b, "dest", clip(e.Dest))
	b = appendField(b, "class", e.Class)
	b = appendField(b, "reason", clip(e.Reason))
	b = appendField(b, "policy", e.PolicyVersion)
	if e.DurationNS != 0 {
		b = append(b, `,"dur_ns":`...)
		b = strconv.AppendInt(b, e.DurationNS, 10)
	}
	if e.Matches != 0 {
		b = append(b, `,"matches":`...)
		b = strconv.AppendInt(b, int64(e.Matches), 10)
	}
	if e.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if e.Dropped != 0 {
		b = append(b, `,"dropped":`...)
		b = strconv.AppendUint(b, e.Dropped, 10)
	}
	return append(b, '}')
}

func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return AppendString(b, v)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, as the encoder writes strings;
// invalid UTF-8 becomes U+FFFD, as encoding/json does. HTML characters
// are not escaped.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
