package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// EgressSummaryType is the "type" of an egress-discovery summary log line.
const EgressSummaryType = "lambda_rasp.egress_summary"

// MaxEgressSummaryLine bounds one summary line a reader accepts.
const MaxEgressSummaryLine = 1 << 20

// EgressSummary is the egress-discovery summary: the distinct destinations
// one process (the wrapper or the extension) saw in one execution
// environment, logged as one JSON line at SHUTDOWN when discovery is on
// (monitor mode or "egress.learn: true"). It is a log line, not a metric:
// host names never become label values.
//
//	{"type":"lambda_rasp.egress_summary","v":1,"fn":"orders","env":"2025/…[$LATEST]…",
//	 "process":"wrapper","policy":"3f2a…","since":"…","until":"…","dropped":0,
//	 "destinations":[{"host":"api.stripe.com","port":443,"scheme":"https","count":42,
//	   "first":"…","last":"…","decision":"allow"}]}
//
// "raspctl egress suggest" turns such lines into an egress.allow list.
type EgressSummary struct {
	Type string `json:"type"`
	V    int    `json:"v"`
	// Function is the function name.
	Function string `json:"fn,omitempty"`
	// Environment identifies the execution environment (its log stream).
	Environment string `json:"env,omitempty"`
	// Process is "wrapper" or "extension".
	Process string `json:"process,omitempty"`
	// PolicyVersion identifies the policy active at SHUTDOWN.
	PolicyVersion string `json:"policy,omitempty"`
	// Since and Until bound the observation period.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Dropped counts connections to destinations not recorded because the
	// table was full: when it is not zero the list is incomplete.
	Dropped uint64 `json:"dropped"`
	// Destinations are the distinct destinations, most used first.
	Destinations []EgressDestination `json:"destinations"`
}

// EgressDestination is one distinct destination of an [EgressSummary].
type EgressDestination struct {
	// Host is the host as requested: a name as the code asked for it, or
	// an IP literal when it dialled an address.
	Host string `json:"host"`
	Port uint16 `json:"port"`
	// Scheme is the URL scheme when an HTTP-level guard saw the request;
	// empty for plain dials.
	Scheme string `json:"scheme,omitempty"`
	// Count is the number of connections.
	Count uint64    `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Decision is the policy's decision: "allow", "monitor" (would have
	// been denied) or "deny".
	Decision string `json:"decision,omitempty"`
}

// ErrNotEgressSummary is returned by [DecodeEgressSummary] for a JSON
// object of another type.
var ErrNotEgressSummary = errors.New("wire: not an egress summary")

// DecodeEgressSummary parses one summary line. It rejects lines over
// MaxEgressSummaryLine, objects of another type, unknown versions and
// destinations without a host or port.
func DecodeEgressSummary(b []byte) (EgressSummary, error) {
	var s EgressSummary
	if len(b) > MaxEgressSummaryLine {
		return s, ErrTooLarge
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("wire: decode egress summary: %w", err)
	}
	if s.Type != EgressSummaryType {
		return s, ErrNotEgressSummary
	}
	if s.V != Version {
		return s, fmt.Errorf("%w %d", ErrVersion, s.V)
	}
	for i, d := range s.Destinations {
		if d.Host == "" || d.Port == 0 {
			return s, fmt.Errorf("wire: egress summary destination %d: missing host or port", i)
		}
	}
	return s, nil
}

// EncodeEgressSummary returns the JSON line of s (without newline),
// setting Type and V.
func EncodeEgressSummary(s *EgressSummary) ([]byte, error) {
	s.Type, s.V = EgressSummaryType, Version
	if s.Destinations == nil {
		s.Destinations = []EgressDestination{}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("wire: encode egress summary: %w", err)
	}
	return b, nil
}
