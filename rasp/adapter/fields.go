package adapter

import (
	"strconv"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// extractor accumulates the fields of one event. Paths are built in one
// growing buffer and turned into strings once at the end, so a field costs
// no allocation of its own.
type extractor struct {
	lim       Limits
	fields    []rules.Field
	spans     []span // spans[i] is the path of fields[i] in paths
	paths     []byte
	cur       []byte // the path being built
	truncated bool
	skipped   []Skip
	inflated  int // bytes inflated for this event so far
	// carrierDepth and carrierBytes bound carrier decoding (carrier.go).
	carrierDepth int
	carrierBytes int
	docs         []*doc // nested documents parsed for this event, returned to the pool at the end
	// hint is the field count of the previous event, the capacity a new
	// fields slice starts with (finish hands the slice to the caller).
	hint int
}

// full reports whether the field limit has been reached.
func (x *extractor) full() bool {
	if len(x.fields) >= x.lim.MaxFields {
		x.truncated = true
		return true
	}
	return false
}

// add records a field at the current path.
func (x *extractor) add(src rules.Source, value string, key bool) {
	if x.full() {
		return
	}
	off := len(x.paths)
	x.paths = append(x.paths, x.cur...)
	x.grow()
	x.fields = append(x.fields, rules.Field{Source: src, Value: value, Key: key})
	x.spans = append(x.spans, span{int32(off), int32(len(x.paths))})
	if !key && len(value) >= minCarrier {
		x.carrier(src, value)
	}
}

// grow gives a fresh fields slice the previous event's capacity.
func (x *extractor) grow() {
	if x.fields == nil {
		x.fields = make([]rules.Field, 0, max(x.hint, 16))
	}
}

// addKV records a name (as a key field) and its value at the current path,
// sharing one path for both.
func (x *extractor) addKV(src rules.Source, name, value string) {
	if x.full() {
		return
	}
	off := len(x.paths)
	x.paths = append(x.paths, x.cur...)
	sp := span{int32(off), int32(len(x.paths))}
	x.grow()
	x.fields = append(x.fields, rules.Field{Source: src, Value: name, Key: true})
	x.spans = append(x.spans, sp)
	if value == "" || x.full() {
		return
	}
	x.fields = append(x.fields, rules.Field{Source: src, Value: value})
	x.spans = append(x.spans, sp)
	if len(value) >= minCarrier {
		x.carrier(src, value)
	}
}

// push appends ".name" (or "name" at the root) to the current path and
// returns the length to pop back to.
func (x *extractor) push(name string) int {
	n := len(x.cur)
	if n > 0 {
		x.cur = append(x.cur, '.')
	}
	x.cur = append(x.cur, name...)
	return n
}

// pushLower is push with the name lower-cased (ASCII), for header names.
func (x *extractor) pushLower(name string) int {
	n := len(x.cur)
	if n > 0 {
		x.cur = append(x.cur, '.')
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		x.cur = append(x.cur, c)
	}
	return n
}

// pushIndex appends "[i]" to the current path.
func (x *extractor) pushIndex(i int) int {
	n := len(x.cur)
	x.cur = append(x.cur, '[')
	x.cur = strconv.AppendInt(x.cur, int64(i), 10)
	x.cur = append(x.cur, ']')
	return n
}

// pop truncates the current path to n.
func (x *extractor) pop(n int) { x.cur = x.cur[:n] }

// walk adds every string value and member name under node i of d, with
// paths relative to the current path. depth counts from the walked root.
func (x *extractor) walk(d *doc, i int32, src rules.Source, depth int) {
	n := &d.nodes[i]
	switch n.kind {
	case kindString:
		x.add(src, d.str(n.val), false)
	case kindObject, kindArray:
		if depth >= x.lim.MaxDepth {
			x.truncated = true
			return
		}
		idx := 0
		for c := d.first(i); c >= 0; c = d.nextOf(c) {
			if x.full() {
				return
			}
			var m int
			if n.kind == kindObject {
				k := d.keyOf(c)
				m = x.push(k)
				x.add(src, k, true)
			} else {
				m = x.pushIndex(idx)
			}
			x.walk(d, c, src, depth+1)
			x.pop(m)
			idx++
		}
	}
}

// nested parses s as JSON into a pooled doc kept until the event is
// finished, or returns nil when s is not a JSON object or array.
func (x *extractor) nested(s string) *doc {
	if !looksJSON(s) {
		return nil
	}
	d := getDoc()
	if err := parseJSON(d, s, x.lim.MaxDepth); err != nil {
		putDoc(d)
		return nil
	}
	if d.truncated {
		x.truncated = true
	}
	x.docs = append(x.docs, d)
	return d
}

// looksJSON reports whether s starts (after white space) with { or [.
func looksJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			continue
		case '{', '[':
			return true
		default:
			return false
		}
	}
	return false
}

// finish materialises the fields with their paths.
func (x *extractor) finish() []rules.Field {
	if len(x.fields) == 0 {
		return nil
	}
	paths := string(x.paths)
	// The caller owns the slice from now on: set the paths in place rather
	// than copying fields (whose pointers would each cost a write barrier).
	out := x.fields[:len(x.fields):len(x.fields)]
	for i := range out {
		out[i].Path = paths[x.spans[i].off:x.spans[i].end]
	}
	x.hint = len(out)
	x.fields = nil
	return out
}

// release returns pooled documents and resets x for reuse.
func (x *extractor) release() {
	for _, d := range x.docs {
		putDoc(d)
	}
	clear(x.docs)
	x.docs = x.docs[:0]
	clear(x.fields)
	x.fields = x.fields[:0] // nil after finish
	x.spans = x.spans[:0]
	x.paths = x.paths[:0]
	x.cur = x.cur[:0]
	x.truncated = false
	x.skipped = nil
	x.inflated = 0
	x.carrierDepth, x.carrierBytes = 0, 0
}

// skip records that the body at the current path was not inspected.
func (x *extractor) skip(reason, format string) {
	if len(x.skipped) >= maxSkips {
		return
	}
	x.skipped = append(x.skipped, Skip{Path: string(x.cur), Reason: reason, Format: format})
}
