package detect

import (
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules/internal/decode"
)

// View flags of a Scratch: which lazily computed views are valid.
const (
	haveDecoded uint8 = 1 << iota
	haveLower
	haveCompact
	havePath
)

// Scratch holds the decoded views of one field value and reusable buffers.
// It is not safe for concurrent use: the engine takes one from a pool per
// inspection and calls Reset before each field.
//
// Views are computed on first use and at most once per field. A view that
// equals its source is the source string itself, so a clean value costs
// no copy; otherwise it lives in a buffer of the Scratch and stays valid
// until the next Reset. Evidence in a [Finding] may point into these
// buffers and must be used (or copied) before the next Reset.
type Scratch struct {
	raw     string
	rawMask uint32
	mask    uint32
	have    uint8

	decoded string
	lower   string
	compact string
	path    string
	null    bool

	chain      decode.Chain
	lowerBuf   []byte
	compactBuf []byte
	pathBuf    []byte
	work       []byte
}

// NewScratch returns an empty Scratch.
func NewScratch() *Scratch { return &Scratch{} }

// Reset prepares sc for a new field value, dropping cached views. It scans
// value once to build its class mask.
func (sc *Scratch) Reset(value string) {
	sc.raw = value
	sc.rawMask = classMask(value)
	sc.mask = sc.rawMask
	sc.have = 0
	sc.decoded, sc.lower, sc.compact, sc.path = "", "", "", ""
	sc.null = false
}

// Raw returns the value sc was last Reset with.
func (sc *Scratch) Raw() string { return sc.raw }

// RawMask returns the class mask of the raw value.
func (sc *Scratch) RawMask() uint32 { return sc.rawMask }

// Mask returns the class mask of the raw value and of its decoded view
// together. It decodes only when the raw value contains escape characters.
func (sc *Scratch) Mask() uint32 {
	if sc.rawMask&decodeTriggers != 0 {
		sc.Decoded()
	}
	return sc.mask
}

// Decoded returns the value after [decode.Chain.Full]: percent, overlong
// UTF-8, JavaScript and HTML decoding until stable, NUL bytes removed.
func (sc *Scratch) Decoded() string {
	if sc.have&haveDecoded != 0 {
		return sc.decoded
	}
	sc.have |= haveDecoded
	sc.decoded = sc.raw
	if sc.rawMask&decodeTriggers != 0 {
		if d, ok := sc.chain.Full(sc.raw); ok {
			sc.decoded = d
			sc.null = sc.chain.SawNull()
			sc.mask |= classMask(d)
		}
	}
	return sc.decoded
}

// SawNull reports whether decoding removed NUL bytes.
func (sc *Scratch) SawNull() bool {
	sc.Decoded()
	return sc.null
}

// Lower returns the decoded view folded to ASCII lower case.
func (sc *Scratch) Lower() string {
	if sc.have&haveLower != 0 {
		return sc.lower
	}
	sc.have |= haveLower
	d := sc.Decoded()
	sc.lower = d
	if out, ok := decode.Lower(sc.lowerBuf, d); ok {
		sc.lowerBuf = out
		sc.lower = decode.String(out)
	}
	return sc.lower
}

// Compact returns the lower-case view with whitespace runs and SQL block
// comments collapsed to one space.
func (sc *Scratch) Compact() string {
	if sc.have&haveCompact != 0 {
		return sc.compact
	}
	sc.have |= haveCompact
	l := sc.Lower()
	sc.compact = l
	if out, ok := decode.Space(sc.compactBuf, l); ok {
		sc.compactBuf = out
		sc.compact = decode.String(out)
	}
	return sc.compact
}

// Path returns the lower-case view with backslashes turned into slashes,
// for path checks that treat both separators alike. Literal hex spellings
// of path characters that lenient decoders accept (0x2e, 0x2f, 0x5c) are
// read as '.', '/' and '/'.
func (sc *Scratch) Path() string {
	if sc.have&havePath != 0 {
		return sc.path
	}
	sc.have |= havePath
	l := sc.Lower()
	sc.path = l
	if strings.IndexByte(l, '\\') < 0 && !strings.Contains(l, "0x") {
		return sc.path
	}
	out := sc.pathBuf[:0]
	for k := 0; k < len(l); k++ {
		c := l[k]
		switch {
		case c == '\\':
			c = '/'
		case c == '0' && k+3 < len(l) && l[k+1] == 'x' && l[k+2] == '2' && l[k+3] == 'e':
			c = '.'
			k += 3
		case c == '0' && k+3 < len(l) && l[k+1] == 'x' && (l[k+2] == '2' && l[k+3] == 'f' || l[k+2] == '5' && l[k+3] == 'c'):
			c = '/'
			k += 3
		}
		out = append(out, c)
	}
	sc.pathBuf = out
	sc.path = decode.String(out)
	return sc.path
}

// buf returns the Scratch's work buffer, emptied, for a detector's own
// transient transform. The detector must be done with it before it
// returns (apart from Evidence).
func (sc *Scratch) buf() []byte { return sc.work[:0] }

// keep stores a grown work buffer for reuse.
func (sc *Scratch) keep(b []byte) { sc.work = b }
