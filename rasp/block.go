package rasp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambda-rasp/lambda-rasp/rasp/adapter"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// BlockedError is the error of an invocation that lambda-rasp refused
// and that has no HTTP response to give: queue, stream and notification
// events, and events that could not be parsed when on_error is block.
// Failing the invocation makes the platform retry the event and then
// send it to its dead-letter destination, so no data is silently lost.
// Its type name is what Lambda reports as errorType.
type BlockedError struct {
	// RequestID is the Lambda request id.
	RequestID string
	// EventSource is the detected event source ("sqs", "sns", ...).
	EventSource string
	// RuleIDs and Categories are the distinct rules (and their
	// categories) that asked for the block.
	RuleIDs    []string
	Categories []string
	// Paths are the distinct field paths that matched (at most
	// maxErrorPaths).
	Paths []string
	// RecordIDs identify the offending records of a batch.
	RecordIDs []string
	// Reason is set when the block comes from on_error rather than a
	// match ("malformed event", "budget exceeded", ...), or explains a
	// sink guard's refusal ("metadata address", "input spans tokens").
	Reason string
	// Sink is "egress", "sql", "exec" or "file" when a sink guard refused
	// an outbound call; empty for input blocks.
	Sink string
	// Dest is the refused destination ("host:port" for egress, the
	// cleaned path for files, the program for exec); empty otherwise.
	Dest string
}

// maxErrorPaths bounds the paths a BlockedError lists.
const maxErrorPaths = 8

// Error describes the block without any payload: rule ids, field paths
// (cut short) and record ids.
func (e *BlockedError) Error() string {
	var b strings.Builder
	if e.Sink != "" {
		b.WriteString("lambda-rasp: " + e.Sink + " call blocked")
		if e.Dest != "" {
			b.WriteString(" (" + wire.Truncate(e.Dest, 128) + ")")
		}
	} else {
		b.WriteString("lambda-rasp: event blocked")
	}
	if e.Sink == "" && e.EventSource != "" {
		b.WriteString(" (" + e.EventSource + ")")
	}
	if len(e.RuleIDs) > 0 {
		b.WriteString(": rules " + strings.Join(e.RuleIDs, ","))
	}
	if len(e.Paths) > 0 {
		b.WriteString(" at ")
		for i, p := range e.Paths {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(wire.Truncate(p, 64))
		}
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if len(e.RecordIDs) > 0 {
		b.WriteString("; records " + strings.Join(e.RecordIDs, ","))
	}
	return b.String()
}

// newBlockedError describes the blocking matches of inv.
func newBlockedError(ev *adapter.Event, inv *Invocation) *BlockedError {
	e := &BlockedError{RequestID: inv.RequestID, EventSource: inv.EventSource}
	d := &inv.Decision
	var recs []int
	for _, m := range d.Matches {
		if m.Action != rules.ActionBlock {
			continue
		}
		e.RuleIDs = appendUnique(e.RuleIDs, m.RuleID)
		e.Categories = appendUnique(e.Categories, m.Category)
		if len(e.Paths) < maxErrorPaths {
			e.Paths = appendUnique(e.Paths, m.Path)
		}
		if i, ok := recordIndex(m.Path); ok && !contains(recs, i) {
			recs = append(recs, i)
		}
	}
	switch {
	case ev != nil && ev.Source == adapter.SourceEventBridge && len(ev.Records) == 1:
		// The event is its own single record.
		e.RecordIDs = []string{ev.Records[0].ID}
	case ev != nil:
		for _, i := range recs {
			if i < len(ev.Records) && ev.Records[i].ID != "" {
				e.RecordIDs = append(e.RecordIDs, ev.Records[i].ID)
			}
		}
	}
	if len(e.RuleIDs) == 0 && d.Err != nil {
		e.Reason = reason(d.Err)
	} else if len(e.RuleIDs) == 0 && d.Truncated {
		e.Reason = "inspection incomplete"
		if d.Incomplete != "" {
			e.Reason += ": " + d.Incomplete
		}
	}
	return e
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// recordIndex returns i for a path "record[i]...".
func recordIndex(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "record[")
	if !ok {
		return 0, false
	}
	end := strings.IndexByte(rest, ']')
	if end <= 0 {
		return 0, false
	}
	i, err := strconv.Atoi(rest[:end])
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// block answers a blocked invocation: an HTTP response for HTTP-shaped
// sources, a partial batch for record sources when enabled and possible,
// else a *BlockedError.
func (p *Protector) block(ctx context.Context, next lambda.Handler, payload []byte, ev *adapter.Event, inv *Invocation) ([]byte, error) {
	if ev != nil {
		switch ev.Source {
		case adapter.SourceAPIGatewayV1, adapter.SourceAPIGatewayV2, adapter.SourceFunctionURL,
			adapter.SourceALB, adapter.SourceWebSocket:
			if status := refusalStatus(&inv.Decision); status != 0 {
				return p.refusalResponse(ev, inv.RequestID, status, inv.Decision.Incomplete), nil
			}
			return p.httpResponse(ev, inv.RequestID), nil
		case adapter.SourceSQS, adapter.SourceKinesis, adapter.SourceDynamoDB:
			// Failing closed on an incomplete inspection blocks every
			// record, not only those with a match: no record is lost,
			// the platform retries the batch.
			d := &inv.Decision
			failClosed := d.Incomplete != "" && inv.g.engine.OnErrorFor(d.Incomplete) == rules.ActionBlock
			if p.partialBatch && !failClosed {
				if bad := offendingRecords(ev, &inv.Decision); bad != nil {
					return p.partialBatchInvoke(ctx, next, payload, ev, inv, bad)
				}
			}
		}
	}
	return nil, newBlockedError(ev, inv)
}

// recordedMatches is how many matches rules.Decision records at most;
// with that many, some blocking matches may be unrecorded, so a partial
// batch cannot be trusted to name every offending record.
const recordedMatches = 64

// offendingRecords returns, per record index, whether a blocking match
// lies in it; nil when the block cannot be attributed to records (an
// on_error block, a match outside records, a record without an id).
func offendingRecords(ev *adapter.Event, d *rules.Decision) []bool {
	if len(d.Matches) >= recordedMatches {
		return nil
	}
	bad := make([]bool, len(ev.Records))
	found := false
	for _, m := range d.Matches {
		if m.Action != rules.ActionBlock {
			continue
		}
		i, ok := recordIndex(m.Path)
		if !ok || i >= len(bad) || ev.Records[i].ID == "" {
			return nil
		}
		bad[i], found = true, true
	}
	if !found {
		return nil
	}
	return bad
}

// batchFailure is one item of a partial batch response.
type batchFailure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

// partialBatchInvoke calls next with the event minus the offending
// records (every other byte kept as received) and adds those records to
// the batchItemFailures of its response.
func (p *Protector) partialBatchInvoke(ctx context.Context, next lambda.Handler, payload []byte, ev *adapter.Event, inv *Invocation, bad []bool) ([]byte, error) {
	var ids []string
	kept := 0
	filtered := make([]byte, 0, len(payload))
	filtered = append(filtered, payload[:ev.RecordsArray[0]+1]...)
	for _, r := range ev.Records {
		if bad[r.Index] {
			ids = append(ids, r.ID)
			continue
		}
		if kept > 0 {
			filtered = append(filtered, ',')
		}
		filtered = append(filtered, payload[r.Start:r.End]...)
		kept++
	}
	filtered = append(filtered, payload[ev.RecordsArray[1]-1:]...)

	var resp []byte
	if kept > 0 {
		var err error
		resp, err = next.Invoke(newContext(ctx, inv), filtered)
		if err != nil {
			return resp, err // the whole batch is retried: nothing is lost
		}
	}
	merged, err := mergeFailures(resp, ids)
	if err != nil {
		// The handler's response cannot carry the failures: fail the
		// whole batch rather than acknowledge the blocked records.
		return nil, newBlockedError(ev, inv)
	}
	return merged, nil
}

// errNotObject reports a handler response that cannot take
// batchItemFailures.
var errNotObject = errors.New("handler response is not a JSON object")

// mergeFailures adds ids to the batchItemFailures of a handler response
// (null or empty counts as {}), keeping the handler's own failures and
// any other members.
func mergeFailures(resp []byte, ids []string) ([]byte, error) {
	obj := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(resp); len(t) > 0 && string(t) != "null" {
		if err := json.Unmarshal(t, &obj); err != nil || obj == nil {
			return nil, errNotObject
		}
	}
	var items []json.RawMessage
	seen := map[string]bool{}
	if raw, ok := obj["batchItemFailures"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errNotObject
		}
		for _, it := range items {
			var f batchFailure
			if json.Unmarshal(it, &f) == nil {
				seen[f.ItemIdentifier] = true
			}
		}
	}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		b, err := json.Marshal(batchFailure{ItemIdentifier: id})
		if err != nil {
			return nil, err
		}
		items = append(items, b)
	}
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	obj["batchItemFailures"] = b
	return json.Marshal(obj)
}

// Block response shapes, per event source.
type (
	v1Response struct {
		StatusCode        int                 `json:"statusCode"`
		Headers           map[string]string   `json:"headers"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	albResponse struct {
		StatusCode        int                 `json:"statusCode"`
		StatusDescription string              `json:"statusDescription"`
		Headers           map[string]string   `json:"headers,omitempty"`
		MultiValueHeaders map[string][]string `json:"multiValueHeaders,omitempty"`
		Body              string              `json:"body"`
		IsBase64Encoded   bool                `json:"isBase64Encoded"`
	}
	v2Response struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
)

const contentTypeJSON = "application/json"

// statusText is "403 Forbidden", for ALB's statusDescription.
func statusText(code int) string {
	t := http.StatusText(code)
	if t == "" {
		t = "Status"
	}
	return strconv.Itoa(code) + " " + t
}

// refusalStatus is the HTTP status of a request refused because its
// inspection was incomplete, not because a rule matched: 413 when a limit
// or the time budget stopped it (the request was too large or too costly
// to inspect), 400 for an undecodable event, 500 for a failure of the
// guard itself; 0 when a blocking rule matched (the block response
// applies).
func refusalStatus(d *rules.Decision) int {
	for i := range d.Matches {
		if d.Matches[i].Action == rules.ActionBlock {
			return 0
		}
	}
	switch d.Incomplete {
	case policy.ReasonLimits, policy.ReasonBudget:
		return http.StatusRequestEntityTooLarge
	case policy.ReasonMalformed:
		return http.StatusBadRequest
	case policy.ReasonPanic:
		return http.StatusInternalServerError
	}
	return 0
}

// refusalResponse renders an incomplete-inspection refusal in ev's
// source shape: the status, its text, the reason and the request id.
func (p *Protector) refusalResponse(ev *adapter.Event, requestID string, status int, why string) []byte {
	id := wire.AppendString(nil, requestID)
	body := `{"message":` + string(wire.AppendString(nil, http.StatusText(status))) + `,"reason":` +
		string(wire.AppendString(nil, "inspection incomplete: "+why)) + `,"requestId":` + string(id) + `}`
	return p.render(ev, status, body)
}

// httpResponse renders the block response in ev's source shape: never
// any part of the request beyond the request id.
func (p *Protector) httpResponse(ev *adapter.Event, requestID string) []byte {
	return p.render(ev, p.status, p.blockBody(requestID))
}

// render encodes a response with status and a JSON body in ev's source
// shape.
func (p *Protector) render(ev *adapter.Event, status int, body string) []byte {
	single := map[string]string{"content-type": contentTypeJSON}
	multi := map[string][]string{"content-type": {contentTypeJSON}}
	var v any
	switch ev.Source {
	case adapter.SourceAPIGatewayV1:
		r := v1Response{StatusCode: status, Headers: single, Body: body}
		if ev.MultiValueHeaders {
			r.MultiValueHeaders = multi
		}
		v = r
	case adapter.SourceALB:
		r := albResponse{StatusCode: status, StatusDescription: statusText(status), Body: body}
		if ev.MultiValueHeaders {
			r.MultiValueHeaders = multi
		} else {
			r.Headers = single
		}
		v = r
	default:
		v = v2Response{StatusCode: status, Headers: single, Body: body}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Plain structs of strings and ints always encode.
		return []byte(`{"statusCode":403}`)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// blockBody is the block response's body for the request requestID.
func (p *Protector) blockBody(requestID string) string {
	id := wire.AppendString(nil, requestID)
	return strings.ReplaceAll(p.bodyTemplate, "{{requestId}}", string(id[1:len(id)-1]))
}

// isHTTP reports whether source is answered with an HTTP response.
func isHTTP(source string) bool {
	switch source {
	case adapter.SourceAPIGatewayV1, adapter.SourceAPIGatewayV2, adapter.SourceFunctionURL,
		adapter.SourceALB, adapter.SourceWebSocket:
		return true
	}
	return false
}

// streamResponse is the block response of a handler that answers with
// HTTP response streams (Function URL or API Gateway in streaming mode):
// the platform reads status and headers from the stream's prelude, so a
// JSON response would reach the client as a 200 with that JSON as body.
func (p *Protector) streamResponse(requestID string) io.Reader {
	return &events.LambdaFunctionURLStreamingResponse{
		StatusCode: p.status,
		Headers:    map[string]string{"content-type": contentTypeJSON},
		Body:       strings.NewReader(p.blockBody(requestID)),
	}
}
