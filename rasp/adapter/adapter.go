package adapter

import (
	"errors"
	"strconv"
	"sync"

	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// The event sources Parse recognises, as reported in telemetry.
const (
	SourceAPIGatewayV1 = "apigw-v1"
	SourceAPIGatewayV2 = "apigw-v2"
	SourceALB          = "alb"
	SourceFunctionURL  = "function-url"
	SourceWebSocket    = "websocket"
	SourceSQS          = "sqs"
	SourceSNS          = "sns"
	SourceEventBridge  = "eventbridge"
	SourceS3           = "s3"
	SourceKinesis      = "kinesis"
	SourceDynamoDB     = "dynamodb"
	SourceJSON         = "json"
)

// Default limits, used for zero fields of [Limits].
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxDepth     = 32
	DefaultMaxFields    = 2048
)

// maxDepthCap bounds MaxDepth whatever the caller asks, so the scanner's
// recursion stays shallow.
const maxDepthCap = 1000

// Limits bound the work Parse does on one event. Zero fields take the
// defaults. Beyond a limit Parse stops descending and sets
// Request.Truncated; it never fails because of a limit.
type Limits struct {
	// MaxBodyBytes bounds a decoded body (after base64 and inflation);
	// longer bodies are inspected as text up to the bound.
	MaxBodyBytes int
	// MaxDepth bounds JSON nesting, counted from each walked document
	// (a body, an SQS message, a DynamoDB image); at most 1000.
	MaxDepth int
	// MaxFields bounds the number of fields extracted.
	MaxFields int
}

func (l Limits) withDefaults() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	l.MaxDepth = min(l.MaxDepth, maxDepthCap)
	if l.MaxFields <= 0 {
		l.MaxFields = DefaultMaxFields
	}
	return l
}

// Event is what Parse extracts from one raw Lambda event.
type Event struct {
	// Source is the detected event source, one of the Source constants.
	Source string
	// Request holds the route and every attacker-controllable field.
	Request rules.Request
	// Records lists the records of a batch (SQS, SNS, S3, Kinesis,
	// DynamoDB, and the single EventBridge event), in event order.
	Records []Record
	// MultiValueHeaders reports that an HTTP request carried
	// multiValueHeaders (API Gateway REST, ALB), so a response should too.
	MultiValueHeaders bool
	// Skipped lists the bodies (or parts, records) that were not
	// inspected as text, and why; at most 64 are listed.
	Skipped []Skip
	// RecordsArray is the byte range of the "Records" JSON array in the
	// raw event, from '[' to just after ']'; zero when there is none.
	RecordsArray [2]int
}

// Record is one record of a batch event.
type Record struct {
	// Index is the record's position in the batch; field paths of the
	// record start with "record[Index]".
	Index int
	// ID identifies the record for partial batch responses and reports:
	// the SQS messageId, the Kinesis or DynamoDB sequence number, the SNS
	// MessageId, the S3 request id or the EventBridge event id.
	ID string
	// Start and End are the byte range of the record's JSON object in the
	// raw event.
	Start, End int
}

// Skip is a body, multipart part or record payload that was not inspected
// as text. A binary skip is a classification, not a failure: the bytes
// are not text (see [Event.Skipped]); a budget or nesting skip is an
// incomplete inspection and also sets Request.Truncated.
type Skip struct {
	// Path is the field path the content would have had, e.g. "body",
	// "body.upload", "record[2].data".
	Path string
	// Reason is one of the Skip constants.
	Reason string
	// Format names the sniffed format ("png", "gzip", ...) or the
	// compression; empty when unknown.
	Format string
}

// The reasons of a [Skip].
const (
	SkipBinary = "binary"               // the bytes are not text
	SkipBudget = "decompression-budget" // the event's decompression budget was spent
	SkipNested = "compression-nesting"  // compressed data nested more than twice
)

// maxSkips bounds Event.Skipped.
const maxSkips = 64

// ErrMalformed is matched (with errors.Is) by every error Parse returns
// for input that is not a JSON document.
var ErrMalformed = errors.New("malformed event")

// Error describes malformed JSON in an event. It wraps [ErrMalformed].
type Error struct {
	// Offset is the byte offset of the problem in the parsed document.
	Offset int
	// Msg says what was wrong there.
	Msg string
}

// Error returns a message naming the offset, never the input itself.
func (e *Error) Error() string {
	return "malformed event at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap returns [ErrMalformed].
func (e *Error) Unwrap() error { return ErrMalformed }

// envelopeDepth bounds the nesting stored for an event's envelope beyond
// MaxDepth: known envelopes are shallow, and generic events are walked
// with MaxDepth anyway.
const envelopeDepth = 8

// Parse detects the source of raw from its shape and extracts every
// attacker-controllable value as a field. It returns an error wrapping
// [ErrMalformed] when raw is not JSON; limits never cause an error.
// Parse is safe for concurrent use.
func Parse(raw []byte, lim Limits) (*Event, error) {
	lim = lim.withDefaults()
	d := getDoc()
	defer putDoc(d)
	if err := parseJSON(d, raw, lim.MaxDepth+envelopeDepth); err != nil {
		return nil, err
	}
	x := getExtractor(lim)
	defer putExtractor(x)
	if d.truncated {
		x.truncated = true
	}
	ev := &Event{}
	extract(ev, d, x)
	ev.Request.Fields = x.finish()
	ev.Request.Truncated = x.truncated
	ev.Skipped = x.skipped
	return ev, nil
}

// extract detects the source of the event in d and fills ev and x.
func extract(ev *Event, d *doc, x *extractor) {
	root := int32(0)
	if !d.isKind(root, kindObject) {
		ev.Source = SourceJSON
		x.push("body")
		x.walk(d, root, rules.SourceBody, 0)
		return
	}
	if recs := d.child(root, "Records"); d.isKind(recs, kindArray) {
		if first := d.first(recs); first >= 0 {
			src := d.text(d.child(first, "eventSource"))
			if src == "" {
				src = d.text(d.child(first, "EventSource"))
			}
			var each func(*doc, int32, *extractor) string
			switch src {
			case "aws:sqs":
				ev.Source, each = SourceSQS, sqsRecord
			case "aws:sns":
				ev.Source, each = SourceSNS, snsRecord
			case "aws:s3":
				ev.Source, each = SourceS3, s3Record
			case "aws:kinesis":
				ev.Source, each = SourceKinesis, kinesisRecord
			case "aws:dynamodb":
				ev.Source, each = SourceDynamoDB, dynamoRecord
			}
			if each != nil {
				records(ev, d, recs, x, each)
				return
			}
		}
	}
	if rc := d.child(root, "requestContext"); d.isKind(rc, kindObject) {
		switch {
		case d.child(rc, "connectionId") >= 0 && d.child(rc, "eventType") >= 0:
			ev.Source = SourceWebSocket
			webSocket(ev, d, x)
			return
		case d.child(rc, "elb") >= 0:
			ev.Source = SourceALB
			httpV1(ev, d, x)
			return
		case d.child(rc, "http") >= 0:
			ev.Source = SourceAPIGatewayV2
			if isFunctionURL(d.text(d.child(rc, "domainName"))) {
				ev.Source = SourceFunctionURL
			}
			httpV2(ev, d, x)
			return
		case d.child(root, "httpMethod") >= 0:
			ev.Source = SourceAPIGatewayV1
			httpV1(ev, d, x)
			return
		}
	}
	if d.child(root, "detail-type") >= 0 && d.child(root, "detail") >= 0 && d.child(root, "source") >= 0 {
		ev.Source = SourceEventBridge
		eventBridge(ev, d, x)
		return
	}
	ev.Source = SourceJSON
	x.push("body")
	x.walk(d, root, rules.SourceBody, 0)
}

// isFunctionURL reports whether a requestContext.domainName belongs to a
// Lambda function URL ("<id>.lambda-url.<region>.on.aws").
func isFunctionURL(domain string) bool {
	const mark = ".lambda-url."
	for i := 0; i+len(mark) <= len(domain); i++ {
		if domain[i:i+len(mark)] == mark {
			return true
		}
	}
	return false
}

// Pools. Buffers that grew past poolCap are dropped rather than kept.
const poolCap = 1 << 20

var docPool = sync.Pool{New: func() any { return new(doc) }}

func getDoc() *doc { return docPool.Get().(*doc) }

func putDoc(d *doc) {
	if cap(d.buf) > poolCap || cap(d.nodes) > poolCap/32 {
		return
	}
	d.reset()
	docPool.Put(d)
}

var extractorPool = sync.Pool{New: func() any { return new(extractor) }}

func getExtractor(lim Limits) *extractor {
	x := extractorPool.Get().(*extractor)
	x.lim = lim
	return x
}

func putExtractor(x *extractor) {
	x.release()
	if cap(x.paths) > poolCap || cap(x.fields) > poolCap/32 {
		return
	}
	extractorPool.Put(x)
}

// PolicyLimits returns the adapter limits a policy's limits ask for.
func PolicyLimits(l policy.Limits) Limits {
	return Limits{
		MaxBodyBytes: int(min(l.MaxBodyBytes, 1<<30)),
		MaxDepth:     l.MaxDepth,
		MaxFields:    l.MaxFields,
	}.withDefaults()
}
