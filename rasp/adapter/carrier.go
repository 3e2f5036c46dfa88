package adapter

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Encoded carriers. Applications routinely carry structured input inside
// an encoded value: a JWT in the Authorization header or a cookie, a
// base64 JSON document in a cookie, a header, a query parameter or a
// queue message. The handler decodes it and uses what is inside, so the
// guard does too, within bounds and without guessing:
//
//   - a JWT (three base64url segments, the first decoding to a JSON
//     object) adds its header and payload members under "<path>.jwt.header"
//     and "<path>.jwt.payload";
//   - a value of at least minCarrier base64 or base64url characters, and
//     nothing else, that decodes to valid UTF-8 text without control bytes
//     adds the decoded text (a JSON document walked) under "<path>.base64".
//     Random tokens, hashes and identifiers decode to bytes that are not
//     text and add nothing; short values are never decoded.
//
// Decoded carriers are not searched for further carriers beyond
// maxCarrierNesting levels, and each event decodes at most
// maxCarrierBytes of them.

// Bounds of carrier decoding.
const (
	minCarrier        = 24
	maxCarrierNesting = 2
	maxCarrierBytes   = 256 << 10
)

// carrier decodes the encoded carrier value v (a field just added at the
// current path) and adds what it carries.
func (x *extractor) carrier(src rules.Source, v string) {
	if len(v) < minCarrier || x.carrierDepth >= maxCarrierNesting || x.carrierBytes+len(v) > maxCarrierBytes {
		return
	}
	tok := v
	if len(tok) > 7 && equalFold(tok[:7], "bearer ") {
		tok = strings.TrimLeft(tok[7:], " ")
	}
	if h, p, ok := jwtParts(tok); ok {
		x.carrierBytes += len(tok)
		x.carrierDepth++
		defer func() { x.carrierDepth-- }()
		// Both segments are decoded into one buffer as the JSON array
		// [header,payload]: one string and one parsed document for the
		// token.
		enc := base64.RawURLEncoding
		h, p = strings.TrimRight(h, "="), strings.TrimRight(p, "=")
		var in, out [1024]byte
		raw := append(append(in[:0], h...), p...)
		buf := out[:]
		if n := enc.DecodedLen(len(h)) + enc.DecodedLen(len(p)) + 3; n > len(buf) {
			buf = make([]byte, n)
		}
		buf[0] = '['
		nh, errH := enc.Decode(buf[1:], raw[:len(h)])
		buf[1+nh] = ','
		np, errP := enc.Decode(buf[2+nh:], raw[len(h):])
		buf[2+nh+np] = ']'
		if errH != nil || errP != nil || !printable(buf[:3+nh+np], false) {
			return
		}
		dec := string(buf[:3+nh+np])
		m := x.push("jwt")
		if d := x.nested(dec); d != nil && d.isKind(0, kindArray) {
			if e := d.first(0); e >= 0 {
				n := x.push("header")
				x.walk(d, e, src, 0)
				x.pop(n)
				if e = d.nextOf(e); e >= 0 {
					n := x.push("payload")
					x.walk(d, e, src, 0)
					x.pop(n)
				}
			}
		} else {
			// Segments that are text rather than JSON objects.
			n := x.push("header")
			x.add(src, dec[1:1+nh], false)
			x.pop(n)
			n = x.push("payload")
			x.add(src, dec[2+nh:2+nh+np], false)
			x.pop(n)
		}
		x.pop(m)
		return
	}
	if !isBase64Text(v) {
		return
	}
	dec, ok := decodeCarrier(v)
	if !ok {
		return
	}
	x.carrierBytes += len(v)
	x.carrierDepth++
	defer func() { x.carrierDepth-- }()
	m := x.push("base64")
	if d := x.nested(dec); d != nil {
		x.walk(d, 0, src, 0)
	} else {
		x.add(src, dec, false)
	}
	x.pop(m)
}

// jwtParts splits a compact JWS (header.payload.signature, base64url, the
// header starting with `{"` as "eyJ") and returns the header and payload.
func jwtParts(s string) (header, payload string, ok bool) {
	if len(s) < 10 || s[:3] != "eyJ" {
		return "", "", false
	}
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return "", "", false
	}
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return "", "", false
	}
	j += i + 1
	header, payload, sig := s[:i], s[i+1:j], s[j+1:]
	if payload == "" || !isB64URL(header) || !isB64URL(payload) || !isB64URL(sig) {
		return "", "", false
	}
	return header, payload, true
}

// isB64URL reports whether s holds only base64url characters (padding
// allowed at the end).
func isB64URL(s string) bool {
	s = strings.TrimRight(s, "=")
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isBase64Text reports whether s is one base64 or base64url word of a
// length that decodes: the alphabet of one of them only, padding only at
// the end, and not a plain word or number (it needs two of: upper case,
// lower case, digits or symbols).
func isBase64Text(s string) bool {
	t := strings.TrimRight(s, "=")
	if len(s)-len(t) > 2 || len(t)%4 == 1 {
		return false
	}
	var up, lo, dig, std, url bool
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 'A' && c <= 'Z':
			up = true
		case c >= 'a' && c <= 'z':
			lo = true
		case c >= '0' && c <= '9':
			dig = true
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		default:
			return false
		}
	}
	if std && url {
		return false
	}
	kinds := 0
	for _, b := range [...]bool{up, lo, dig, std || url} {
		if b {
			kinds++
		}
	}
	return kinds >= 2
}

// decodeCarrier decodes a base64 or base64url value and returns the text
// it carries: valid UTF-8 without control bytes other than white space,
// and at least minCarrier*3/4 bytes long. Anything else is not a carrier.
func decodeCarrier(v string) (string, bool) {
	t := strings.TrimRight(v, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(t, "-_") {
		enc = base64.RawURLEncoding
	}
	// The decoded start tells text from bytes before the rest is decoded.
	var head [48]byte
	n, err := enc.Decode(head[:], []byte(t[:min(len(t), 64)/4*4]))
	if err != nil || !printable(head[:n], len(t) > 64) {
		return "", false
	}
	dec, err := enc.DecodeString(t)
	if err != nil || !printable(dec, false) {
		return "", false
	}
	return string(dec), true
}

// printable reports whether b is valid UTF-8 with no control bytes other
// than tab, line feed and carriage return. With partial set, b is the
// start of a longer text and may end inside a character.
func printable[T string | []byte](b T, partial bool) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune([]byte(b[i:min(len(b), i+utf8.UTFMax)]))
		if r == utf8.RuneError && size == 1 {
			// A character cut at the end of a partial sample is fine.
			return partial && !utf8.FullRune([]byte(b[i:]))
		}
		i += size
	}
	return true
}
