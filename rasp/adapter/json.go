package adapter

import (
	"unicode/utf8"
)

// kind is the type of a JSON value in a doc.
type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindObject
	kindArray
)

// span is a half-open byte range [off, end).
type span struct{ off, end int32 }

// node is one JSON value. Nodes are stored in document order, so the
// first child of a container at index i is at i+1; siblings are linked by
// next (0 means none, since the root can never be a sibling).
type node struct {
	key  span // member name in doc.s, for object members
	val  span // unescaped string value in doc.s, for strings
	raw  span // the value's bytes in the parsed input
	next int32
	n    int32 // number of children, for objects and arrays
	kind kind
}

// doc is a parsed JSON value. All keys and string values are unescaped
// into one string, s, so extracting them allocates nothing.
type doc struct {
	nodes []node
	buf   []byte // unescaped strings while parsing
	s     string // string(buf) once parsing is done
	// truncated reports that a subtree deeper than the depth bound, or
	// beyond the node bound, was skipped rather than stored.
	truncated bool
}

// maxNodes bounds the nodes of one doc whatever the input size.
const maxNodes = 1 << 20

// reset prepares d for reuse.
func (d *doc) reset() {
	d.nodes = d.nodes[:0]
	d.buf = d.buf[:0]
	d.s = ""
	d.truncated = false
}

// str returns the string of sp.
func (d *doc) str(sp span) string { return d.s[sp.off:sp.end] }

// keyOf returns the member name of node i.
func (d *doc) keyOf(i int32) string { return d.s[d.nodes[i].key.off:d.nodes[i].key.end] }

// child returns the member of object i named name, or -1.
func (d *doc) child(i int32, name string) int32 {
	if i < 0 || d.nodes[i].kind != kindObject || d.nodes[i].n == 0 {
		return -1
	}
	for c := i + 1; ; {
		if d.keyOf(c) == name {
			return c
		}
		c = d.nodes[c].next
		if c == 0 {
			return -1
		}
	}
}

// childFold is child with an ASCII case-insensitive name, for headers.
func (d *doc) childFold(i int32, name string) int32 {
	if i < 0 || d.nodes[i].kind != kindObject || d.nodes[i].n == 0 {
		return -1
	}
	for c := i + 1; ; {
		if equalFold(d.keyOf(c), name) {
			return c
		}
		c = d.nodes[c].next
		if c == 0 {
			return -1
		}
	}
}

// path follows object members by name from i, or returns -1.
func (d *doc) path(i int32, names ...string) int32 {
	for _, n := range names {
		i = d.child(i, n)
	}
	return i
}

// first returns the first child of container i, or -1.
func (d *doc) first(i int32) int32 {
	if i < 0 || d.nodes[i].n == 0 {
		return -1
	}
	return i + 1
}

// nextOf returns the sibling after c, or -1.
func (d *doc) nextOf(c int32) int32 {
	if n := d.nodes[c].next; n != 0 {
		return n
	}
	return -1
}

// text returns the string value of node i, or "" when i is not a string.
func (d *doc) text(i int32) string {
	if i < 0 || d.nodes[i].kind != kindString {
		return ""
	}
	return d.str(d.nodes[i].val)
}

// isKind reports whether node i exists and has kind k.
func (d *doc) isKind(i int32, k kind) bool { return i >= 0 && d.nodes[i].kind == k }

// bytesOrString is what the scanner reads: raw event bytes, or a string
// holding a nested JSON document (a body, an SQS message).
type bytesOrString interface{ ~string | ~[]byte }

// parser is a single-pass JSON scanner building a doc. Depth is bounded;
// deeper subtrees are skipped (and the doc marked truncated), never
// recursed into, so no input can exhaust the stack.
type parser[T bytesOrString] struct {
	src      T
	i        int
	d        *doc
	maxDepth int
}

// parseJSON parses src into d (which it resets). Containers nested deeper
// than maxDepth are skipped and d.truncated is set.
func parseJSON[T bytesOrString](d *doc, src T, maxDepth int) error {
	d.reset()
	p := parser[T]{src: src, d: d, maxDepth: maxDepth}
	p.ws()
	if err := p.value(span{}, 0); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.src) {
		return p.errorf("data after the top-level value")
	}
	d.s = string(d.buf)
	return nil
}

func (p *parser[T]) errorf(msg string) error {
	return &Error{Offset: p.i, Msg: msg}
}

func (p *parser[T]) ws() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value parses one value at p.i, stored with member name key.
func (p *parser[T]) value(key span, depth int) error {
	if p.i >= len(p.src) {
		return p.errorf("unexpected end of input")
	}
	if len(p.d.nodes) >= maxNodes {
		p.d.truncated = true
		return p.skip()
	}
	start := p.i
	idx := len(p.d.nodes)
	p.d.nodes = append(p.d.nodes, node{key: key})
	var k kind
	switch c := p.src[p.i]; {
	case c == '{':
		k = kindObject
		if depth >= p.maxDepth {
			p.d.truncated = true
			if err := p.skip(); err != nil {
				return err
			}
			break
		}
		if err := p.object(idx, depth+1); err != nil {
			return err
		}
	case c == '[':
		k = kindArray
		if depth >= p.maxDepth {
			p.d.truncated = true
			if err := p.skip(); err != nil {
				return err
			}
			break
		}
		if err := p.array(idx, depth+1); err != nil {
			return err
		}
	case c == '"':
		k = kindString
		sp, err := p.str()
		if err != nil {
			return err
		}
		p.d.nodes[idx].val = sp
	case c == 't':
		k = kindTrue
		if err := p.lit("true"); err != nil {
			return err
		}
	case c == 'f':
		k = kindFalse
		if err := p.lit("false"); err != nil {
			return err
		}
	case c == 'n':
		k = kindNull
		if err := p.lit("null"); err != nil {
			return err
		}
	case c == '-' || (c >= '0' && c <= '9'):
		k = kindNumber
		if err := p.number(); err != nil {
			return err
		}
	default:
		return p.errorf("unexpected character")
	}
	n := &p.d.nodes[idx]
	n.kind = k
	n.raw = span{int32(start), int32(p.i)}
	return nil
}

func (p *parser[T]) lit(want string) error {
	if len(p.src)-p.i < len(want) || string(p.src[p.i:p.i+len(want)]) != want {
		return p.errorf("invalid literal")
	}
	p.i += len(want)
	return nil
}

func (p *parser[T]) number() error {
	start := p.i
	if p.src[p.i] == '-' {
		p.i++
	}
	digits := 0
	for p.i < len(p.src) {
		c := p.src[p.i]
		if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
			if c >= '0' && c <= '9' {
				digits++
			}
			p.i++
			continue
		}
		break
	}
	if digits == 0 || p.i == start {
		return p.errorf("invalid number")
	}
	return nil
}

func (p *parser[T]) object(idx int, depth int) error {
	p.i++ // {
	p.ws()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		return nil
	}
	prev := -1
	for {
		p.ws()
		if p.i >= len(p.src) || p.src[p.i] != '"' {
			return p.errorf("expected a member name")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.src) || p.src[p.i] != ':' {
			return p.errorf("expected ':'")
		}
		p.i++
		p.ws()
		c := len(p.d.nodes)
		if err := p.value(key, depth); err != nil {
			return err
		}
		if len(p.d.nodes) > c { // stored (not skipped at the node bound)
			if prev >= 0 {
				p.d.nodes[prev].next = int32(c)
			}
			prev = c
			p.d.nodes[idx].n++
		}
		p.ws()
		if p.i >= len(p.src) {
			return p.errorf("unexpected end of input in object")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("expected ',' or '}'")
		}
	}
}

func (p *parser[T]) array(idx int, depth int) error {
	p.i++ // [
	p.ws()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		return nil
	}
	prev := -1
	for {
		p.ws()
		c := len(p.d.nodes)
		if err := p.value(span{}, depth); err != nil {
			return err
		}
		if len(p.d.nodes) > c {
			if prev >= 0 {
				p.d.nodes[prev].next = int32(c)
			}
			prev = c
			p.d.nodes[idx].n++
		}
		p.ws()
		if p.i >= len(p.src) {
			return p.errorf("unexpected end of input in array")
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errorf("expected ',' or ']'")
		}
	}
}

// str reads a string at p.i (on the opening quote) and appends its
// unescaped form to d.buf, returning its span there.
func (p *parser[T]) str() (span, error) {
	p.i++ // "
	off := len(p.d.buf)
	for {
		// Copy the run of plain bytes in one append.
		j := p.i
		for j < len(p.src) && p.src[j] != '"' && p.src[j] != '\\' {
			j++
		}
		p.d.buf = append(p.d.buf, p.src[p.i:j]...)
		p.i = j
		if p.i >= len(p.src) {
			return span{}, p.errorf("unterminated string")
		}
		if p.src[p.i] == '"' {
			p.i++
			return span{int32(off), int32(len(p.d.buf))}, nil
		}
		// Escape.
		if p.i+1 >= len(p.src) {
			return span{}, p.errorf("unterminated escape")
		}
		e := p.src[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			p.d.buf = append(p.d.buf, e)
		case 'b':
			p.d.buf = append(p.d.buf, '\b')
		case 'f':
			p.d.buf = append(p.d.buf, '\f')
		case 'n':
			p.d.buf = append(p.d.buf, '\n')
		case 'r':
			p.d.buf = append(p.d.buf, '\r')
		case 't':
			p.d.buf = append(p.d.buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return span{}, p.errorf("invalid \\u escape")
			}
			if r >= 0xD800 && r < 0xDC00 { // high surrogate: try to pair
				if p.i+1 < len(p.src) && p.src[p.i] == '\\' && p.src[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					lo, ok := p.hex4()
					if ok && lo >= 0xDC00 && lo < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					} else {
						p.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			p.d.buf = utf8.AppendRune(p.d.buf, r)
		default:
			return span{}, p.errorf("invalid escape")
		}
	}
}

func (p *parser[T]) hex4() (rune, bool) {
	if len(p.src)-p.i < 4 {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.src[p.i+k]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	p.i += 4
	return r, true
}

// skip passes over one value without storing it, iteratively, checking
// only what is needed to find its end.
func (p *parser[T]) skip() error {
	depth := 0
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch c {
		case '"':
			p.i++
			for p.i < len(p.src) && p.src[p.i] != '"' {
				if p.src[p.i] == '\\' {
					p.i++
				}
				p.i++
			}
			if p.i >= len(p.src) {
				return p.errorf("unterminated string")
			}
			p.i++
		case '{', '[':
			depth++
			p.i++
		case '}', ']':
			if depth == 0 { // the end of a scalar inside a container
				return nil
			}
			depth--
			p.i++
		case ',', ':', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return nil
			}
			p.i++
		default:
			p.i++
		}
		if depth == 0 && (c == '}' || c == ']' || c == '"') {
			return nil
		}
	}
	if depth != 0 {
		return p.errorf("unexpected end of input")
	}
	return nil
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
