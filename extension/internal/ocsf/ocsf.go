package ocsf

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// EnvLogFormat selects the security log format: "json" (the default) or
// "ocsf".
const EnvLogFormat = "LAMBDA_RASP_LOG_FORMAT"

// The formats of EnvLogFormat.
const (
	FormatJSON = "json"
	FormatOCSF = "ocsf"
)

// ParseFormat parses EnvLogFormat's value; empty means FormatJSON.
func ParseFormat(s string) (string, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", FormatJSON:
		return FormatJSON, nil
	case FormatOCSF:
		return FormatOCSF, nil
	default:
		return "", fmt.Errorf("%s: want json or ocsf, got %q", EnvLogFormat, s)
	}
}

// SchemaVersion is the OCSF schema version written in metadata.version.
const SchemaVersion = "1.3.0"

// OCSF identifiers of a Detection Finding.
const (
	ClassUID    = 2004
	CategoryUID = 2 // Findings
	ActivityID  = 1 // Create
	TypeUID     = ClassUID*100 + ActivityID
)

// Severity ids (OCSF severity_id).
const (
	SeverityMedium = 3
	SeverityHigh   = 4
)

// Security control action ids (OCSF action_id) and disposition ids.
const (
	ActionAllowed       = 1
	ActionDenied        = 2
	DispositionAllowed  = 1
	DispositionBlocked  = 2
	DispositionDetected = 15
)

// bounds of the free-text fields, as in the JSON security log.
const (
	maxExcerpt = 200
	maxField   = 512
)

// Writer writes one Detection Finding per security event to w. Writes are
// whole lines; w must serialise concurrent writers (the extension's stdout
// writer does).
type Writer struct {
	w       io.Writer
	version string
	region  string
	// Now returns the finding's creation time; nil means time.Now.
	Now func() time.Time
	// UID returns a finding's uid; nil means a random 128-bit hex string.
	UID func() string
}

// New returns a Writer to w; version is the extension's version
// (metadata.product.version) and region the AWS region (cloud.region).
func New(w io.Writer, version, region string) *Writer {
	return &Writer{w: w, version: version, region: region}
}

// Finding is an OCSF 1.3 Detection Finding as this package writes it.
type Finding struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	// Time is the finding's creation time in Unix milliseconds.
	Time int64 `json:"time"`
	// StartTime is when the detected event happened, in Unix milliseconds.
	StartTime     int64          `json:"start_time,omitempty"`
	Message       string         `json:"message"`
	StatusID      int            `json:"status_id"`
	Status        string         `json:"status"`
	IsAlert       bool           `json:"is_alert"`
	ActionID      int            `json:"action_id"`
	Action        string         `json:"action"`
	DispositionID int            `json:"disposition_id"`
	Disposition   string         `json:"disposition"`
	Metadata      Metadata       `json:"metadata"`
	FindingInfo   FindingInfo    `json:"finding_info"`
	Cloud         Cloud          `json:"cloud"`
	Resources     []Resource     `json:"resources"`
	Evidences     []Evidence     `json:"evidences,omitempty"`
	Unmapped      map[string]any `json:"unmapped,omitempty"`
}

// Metadata is the OCSF metadata object.
type Metadata struct {
	Version       string  `json:"version"`
	Product       Product `json:"product"`
	LogName       string  `json:"log_name"`
	CorrelationID string  `json:"correlation_uid,omitempty"`
}

// Product is the OCSF product object.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// FindingInfo is the OCSF finding_info object.
type FindingInfo struct {
	UID      string   `json:"uid"`
	Title    string   `json:"title"`
	Desc     string   `json:"desc,omitempty"`
	Types    []string `json:"types,omitempty"`
	Analytic Analytic `json:"analytic"`
}

// Analytic is the OCSF analytic object: the rule that matched.
type Analytic struct {
	UID    string `json:"uid,omitempty"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Cloud is the OCSF cloud object.
type Cloud struct {
	Provider string `json:"provider"`
	Region   string `json:"region,omitempty"`
}

// Resource is an OCSF resource_details object: the protected function.
type Resource struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// Evidence is an OCSF evidences object carrying the redacted input.
type Evidence struct {
	Data map[string]string `json:"data"`
}

// SecurityEvent writes the finding of e, a detection or sink refusal of
// function. It implements the extension's security event sink.
func (w *Writer) SecurityEvent(function string, e *wire.Event) {
	b, err := json.Marshal(w.Finding(function, e))
	if err != nil {
		return // only strings and numbers: cannot fail
	}
	_, _ = w.w.Write(append(b, '\n'))
}

// Finding builds the finding of e.
func (w *Writer) Finding(function string, e *wire.Event) Finding {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	uid := w.UID
	if uid == nil {
		uid = randomUID
	}
	tr := func(s string, n int) string { return wire.Truncate(s, n) }
	f := Finding{
		ActivityID: ActivityID, ActivityName: "Create",
		CategoryUID: CategoryUID, CategoryName: "Findings",
		ClassUID: ClassUID, ClassName: "Detection Finding",
		TypeUID: TypeUID, TypeName: "Detection Finding: Create",
		Time:     now().UnixMilli(),
		StatusID: 1, Status: "New",
		IsAlert: true,
		Metadata: Metadata{
			Version:       SchemaVersion,
			Product:       Product{Name: "lambda-rasp", VendorName: "lambda-rasp", Version: w.version},
			LogName:       "security",
			CorrelationID: tr(e.RequestID, 128),
		},
		Cloud:     Cloud{Provider: "AWS", Region: w.region},
		Resources: []Resource{{Type: "AWS::Lambda::Function", Name: tr(function, maxField)}},
	}
	if !e.Time.IsZero() {
		f.StartTime = e.Time.UnixMilli()
	}
	switch e.Action {
	case "block":
		f.SeverityID, f.Severity = SeverityHigh, "High"
		f.ActionID, f.Action = ActionDenied, "Denied"
		f.DispositionID, f.Disposition = DispositionBlocked, "Blocked"
	default: // monitor: reported, let through
		f.SeverityID, f.Severity = SeverityMedium, "Medium"
		f.ActionID, f.Action = ActionAllowed, "Allowed"
		f.DispositionID, f.Disposition = DispositionDetected, "Detected"
	}
	what := e.Category
	if what == "" {
		what = "policy"
	}
	verb := "detected"
	if e.Action == "block" {
		verb = "blocked"
	}
	where := "input"
	if e.Kind == wire.KindSink || e.Kind == wire.KindEgress {
		where = "sink " + e.Sink
		if e.Kind == wire.KindEgress {
			where = "egress"
		}
	}
	f.Message = tr(fmt.Sprintf("%s %s at %s by rule %s", what, verb, where, e.RuleID), maxField)
	f.FindingInfo = FindingInfo{
		UID:      uid(),
		Title:    tr(fmt.Sprintf("%s %s in %s", what, verb, function), maxField),
		Desc:     tr(e.Reason, maxField-3),
		Analytic: Analytic{UID: tr(e.RuleID, 128), Name: tr(e.RuleID, 128), TypeID: 1, Type: "Rule"},
	}
	if e.Category != "" {
		f.FindingInfo.Types = []string{tr(e.Category, 64)}
	}
	data := map[string]string{}
	add := func(m map[string]string, k, v string, n int) {
		if v != "" {
			m[k] = tr(v, n)
		}
	}
	add(data, "source", e.Source, 32)
	add(data, "path", e.Path, maxField-3)
	add(data, "excerpt", e.Excerpt, maxExcerpt-3)
	add(data, "destination", e.Dest, maxField-3)
	if len(data) > 0 {
		f.Evidences = []Evidence{{Data: data}}
	}
	un := map[string]string{}
	add(un, "event_source", e.EventSource, 64)
	add(un, "sink", e.Sink, 32)
	add(un, "destination_class", e.Class, 32)
	add(un, "reason", e.Reason, maxField-3)
	add(un, "policy_version", e.PolicyVersion, 128)
	add(un, "lambda_rasp_action", e.Action, 32)
	if len(un) > 0 {
		f.Unmapped = map[string]any{}
		for k, v := range un {
			f.Unmapped[k] = v
		}
	}
	return f
}

func randomUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
