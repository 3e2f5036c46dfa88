package adapter

import (
	"github.com/lambda-rasp/lambda-rasp/rules"
)

// records walks the Records array of a batch event, calling each for
// every record with the current path at "record[i]".
func records(ev *Event, d *doc, recs int32, x *extractor, each func(*doc, int32, *extractor) string) {
	n := &d.nodes[recs]
	ev.RecordsArray = [2]int{int(n.raw.off), int(n.raw.end)}
	ev.Records = make([]Record, 0, n.n)
	i := 0
	for r := d.first(recs); r >= 0; r = d.nextOf(r) {
		rec := Record{Index: i, Start: int(d.nodes[r].raw.off), End: int(d.nodes[r].raw.end)}
		if d.isKind(r, kindObject) {
			m := x.push("record")
			x.pushIndex(i)
			rec.ID = each(d, r, x)
			x.pop(m)
		}
		ev.Records = append(ev.Records, rec)
		i++
	}
}

// sqsRecord adds an SQS message: its body (JSON walked, otherwise text;
// an SNS notification delivered through SQS is unwrapped) and its message
// attributes. It returns the messageId.
func sqsRecord(d *doc, r int32, x *extractor) string {
	body := d.text(d.child(r, "body"))
	var nd *doc
	if len(body) <= x.lim.MaxBodyBytes {
		nd = x.nested(body)
	}
	switch {
	case nd != nil && isSNSNotification(nd):
		snsFields(nd, 0, x)
	case nd != nil:
		m := x.push("body")
		x.walk(nd, 0, rules.SourceRecord, 0)
		x.pop(m)
	case body != "":
		m := x.push("body")
		x.content(body, "", rules.SourceRecord)
		x.pop(m)
	}
	if a := d.child(r, "messageAttributes"); d.isKind(a, kindObject) {
		m := x.push("messageAttributes")
		for c := d.first(a); c >= 0; c = d.nextOf(c) {
			name := d.keyOf(c)
			n := x.push(name)
			x.add(rules.SourceRecord, name, true)
			if v := d.child(c, "stringValue"); v >= 0 {
				x.add(rules.SourceRecord, d.text(v), false)
			}
			if l := d.child(c, "stringListValues"); l >= 0 {
				eachString(d, l, func(v string) { x.add(rules.SourceRecord, v, false) })
			}
			x.pop(n)
		}
		x.pop(m)
	}
	return d.text(d.child(r, "messageId"))
}

// isSNSNotification reports whether the root of d is an SNS notification
// (as SNS delivers it to SQS without raw message delivery).
func isSNSNotification(d *doc) bool {
	return d.isKind(0, kindObject) && d.text(d.child(0, "Type")) == "Notification" &&
		d.child(0, "TopicArn") >= 0 && d.isKind(d.child(0, "Message"), kindString)
}

// snsRecord adds an SNS record's notification. It returns its MessageId.
func snsRecord(d *doc, r int32, x *extractor) string {
	s := d.child(r, "Sns")
	if !d.isKind(s, kindObject) {
		return ""
	}
	return snsFields(d, s, x)
}

// snsFields adds an SNS notification object s: message (JSON walked or
// text), subject and message attributes. It returns the MessageId.
func snsFields(d *doc, s int32, x *extractor) string {
	if msg := d.text(d.child(s, "Message")); msg != "" {
		m := x.push("message")
		x.content(msg, "", rules.SourceRecord)
		x.pop(m)
	}
	if sub := d.text(d.child(s, "Subject")); sub != "" {
		m := x.push("subject")
		x.add(rules.SourceRecord, sub, false)
		x.pop(m)
	}
	if a := d.child(s, "MessageAttributes"); d.isKind(a, kindObject) {
		m := x.push("messageAttributes")
		for c := d.first(a); c >= 0; c = d.nextOf(c) {
			name := d.keyOf(c)
			n := x.push(name)
			x.add(rules.SourceRecord, name, true)
			if d.text(d.child(c, "Type")) != "Binary" {
				if v := d.text(d.child(c, "Value")); v != "" {
					x.add(rules.SourceRecord, v, false)
				}
			}
			x.pop(n)
		}
		x.pop(m)
	}
	return d.text(d.child(s, "MessageId"))
}

// s3Record adds the object key of an S3 notification, URL-decoded as S3
// encodes it ('+' for spaces). It returns the S3 request id.
func s3Record(d *doc, r int32, x *extractor) string {
	if k := d.path(r, "s3", "object", "key"); d.isKind(k, kindString) {
		m := x.push("s3.object.key")
		x.add(rules.SourceRecord, unescape(d.text(k), true), false)
		x.pop(m)
	}
	return d.text(d.path(r, "responseElements", "x-amz-request-id"))
}

// kinesisRecord adds a Kinesis record's partition key and its base64 data
// (JSON walked, otherwise text). It returns the sequence number.
func kinesisRecord(d *doc, r int32, x *extractor) string {
	k := d.child(r, "kinesis")
	if pk := d.text(d.child(k, "partitionKey")); pk != "" {
		m := x.push("partitionKey")
		x.add(rules.SourceRecord, pk, false)
		x.pop(m)
	}
	if data := d.text(d.child(k, "data")); data != "" {
		m := x.push("data")
		x.body(data, true, "", "", rules.SourceRecord)
		x.pop(m)
	}
	return d.text(d.child(k, "sequenceNumber"))
}

// dynamoRecord adds the string and binary values of a DynamoDB stream
// record's NewImage and OldImage (nested maps and lists included) as
// "NewImage.<attr>..." and "OldImage.<attr>...". The old image matters
// too: a function that reacts to a REMOVE or diffs two versions reads it.
// It returns the sequence number.
func dynamoRecord(d *doc, r int32, x *extractor) string {
	db := d.child(r, "dynamodb")
	for _, name := range [...]string{"NewImage", "OldImage"} {
		if img := d.child(db, name); d.isKind(img, kindObject) {
			m := x.push(name)
			x.dynamoMap(d, img, 0)
			x.pop(m)
		}
	}
	return d.text(d.child(db, "SequenceNumber"))
}

// dynamoMap adds the attributes of a DynamoDB map (name → typed value).
func (x *extractor) dynamoMap(d *doc, mp int32, depth int) {
	for c := d.first(mp); c >= 0; c = d.nextOf(c) {
		name := d.keyOf(c)
		n := x.push(name)
		x.add(rules.SourceRecord, name, true)
		x.dynamoValue(d, c, depth+1)
		x.pop(n)
	}
}

// dynamoValue adds one typed attribute value ({"S": ...}, {"M": ...}, ...).
func (x *extractor) dynamoValue(d *doc, v int32, depth int) {
	if depth >= x.lim.MaxDepth {
		x.truncated = true
		return
	}
	if !d.isKind(v, kindObject) {
		return
	}
	for t := d.first(v); t >= 0; t = d.nextOf(t) {
		switch d.keyOf(t) {
		case "S":
			x.add(rules.SourceRecord, d.text(t), false)
		case "SS":
			i := 0
			eachString(d, t, func(s string) {
				n := x.pushIndex(i)
				x.add(rules.SourceRecord, s, false)
				x.pop(n)
				i++
			})
		case "B":
			// Binary attributes are base64: text inside is inspected,
			// binary and compressed data are classified like bodies.
			x.body(d.text(t), true, "", "", rules.SourceRecord)
		case "BS":
			i := 0
			eachString(d, t, func(s string) {
				n := x.pushIndex(i)
				x.body(s, true, "", "", rules.SourceRecord)
				x.pop(n)
				i++
			})
		case "M":
			x.dynamoMap(d, t, depth)
		case "L":
			i := 0
			for e := d.first(t); e >= 0; e = d.nextOf(e) {
				n := x.pushIndex(i)
				x.dynamoValue(d, e, depth+1)
				x.pop(n)
				i++
			}
		}
	}
}

// eventBridge adds an EventBridge event's detail as "detail...." record
// fields; the event is its own single record.
func eventBridge(ev *Event, d *doc, x *extractor) {
	ev.Request.Route = ""
	det := d.child(0, "detail")
	m := x.push("detail")
	x.walk(d, det, rules.SourceRecord, 0)
	x.pop(m)
	ev.Records = []Record{{ID: d.text(d.child(0, "id")), Start: int(d.nodes[0].raw.off), End: int(d.nodes[0].raw.end)}}
}
