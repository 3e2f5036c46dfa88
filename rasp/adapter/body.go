package adapter

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// body adds the fields of a body under the current path: base64 decoded
// when b64 is set, inflated per the Content-Encoding cenc, then decoded
// by the Content-Type ctype (see content.go for binary and compressed
// bodies).
func (x *extractor) body(s string, b64 bool, ctype, cenc string, src rules.Source) {
	mt, _ := mediaType(ctype)
	enc := strings.ToLower(strings.TrimSpace(cenc))
	if enc == "identity" {
		enc = ""
	}
	if b64 {
		// A binary body is classified on decoded samples and skipped
		// without decoding the rest: a 1 MiB image costs microseconds.
		if enc == "" && !textualType(mt) {
			if r, ok := sniffBase64(s); ok && r.binary && r.compressed == "" {
				x.skip(SkipBinary, r.format)
				return
			}
		}
		dec, err := decodeBase64(s, x.lim.MaxBodyBytes)
		if err != nil {
			// Not base64 after all: inspect what was sent, and say so.
			x.truncated = true
		} else {
			s = dec
		}
	}
	if enc != "" {
		out, complete, err := x.inflate(s, enc)
		switch {
		case errors.Is(err, errUnknownEncoding):
			// Inspect the bytes as they are (sniffed below).
		case errors.Is(err, errInflateBudget):
			x.skip(SkipBudget, enc)
			x.truncated = true
			return
		case err != nil:
			x.truncated = true
		default:
			s = out
			if !complete {
				x.truncated = true
			}
		}
	}
	x.content(s, ctype, src)
}

// content adds a decoded body by media type: JSON, form, multipart, or
// text for everything else (including a missing type, unless the body
// looks like JSON). A body whose type is not textual is sniffed first:
// compressed streams are inflated and classified again, binary bytes are
// skipped. Bodies over MaxBodyBytes are inspected as text up to the bound.
func (x *extractor) content(s, ctype string, src rules.Source) {
	x.contentDepth(s, ctype, src, 0)
}

// maxInflateNesting bounds compressed-in-compressed bodies.
const maxInflateNesting = 2

func (x *extractor) contentDepth(s, ctype string, src rules.Source, nesting int) {
	mt, params := mediaType(ctype)
	if s != "" && !textualType(mt) {
		r := sniff(s)
		if r.compressed != "" {
			if nesting >= maxInflateNesting {
				x.skip(SkipNested, r.compressed)
				x.truncated = true
				return
			}
			out, complete, err := x.inflate(s, r.compressed)
			switch {
			case errors.Is(err, errInflateBudget):
				x.skip(SkipBudget, r.compressed)
				x.truncated = true
				return
			case err == nil && (complete || r.binary):
				// A cut or oversized stream of binary bytes: inspect
				// what inflated, and say the inspection is partial.
				if !complete {
					x.truncated = true
				}
				x.contentDepth(out, "", src, nesting+1)
				return
			}
			// Text that only starts like a stream ("x^2 + y^2"): go on.
		}
		if r.binary {
			x.skip(SkipBinary, r.format)
			return
		}
	}
	if len(s) > x.lim.MaxBodyBytes {
		x.truncated = true
		x.add(src, cutUTF8(s, x.lim.MaxBodyBytes), false)
		return
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		x.pairs(s, src)
		return
	case mt == "multipart/form-data":
		if x.multipart(s, params, src) {
			return
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || (!textualType(mt) || mt == "text/plain") && looksJSON(s):
		if d := x.nested(s); d != nil {
			x.walk(d, 0, src, 0)
			return
		}
	}
	x.add(src, s, false)
}

// mediaType returns the lower-cased media type of a Content-Type value
// and its boundary parameter, cheaply for the common cases.
func mediaType(ctype string) (mt, boundary string) {
	if ctype == "" {
		return "", ""
	}
	mt, rest, _ := strings.Cut(ctype, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "multipart/form-data" {
		if _, params, err := mime.ParseMediaType(ctype); err == nil {
			boundary = params["boundary"]
		} else if _, b, ok := strings.Cut(rest, "boundary="); ok {
			boundary = strings.Trim(strings.TrimSpace(b), `"`)
		}
	}
	return mt, boundary
}

// multipart adds the fields of a multipart/form-data body: each part's
// name (a key), its filename as sent (directories included) and, for
// parts without a file or with a textual type, its content. It returns
// false when s is not multipart with that boundary, so the caller falls
// back to text.
func (x *extractor) multipart(s, boundary string, src rules.Source) bool {
	if boundary == "" {
		return false
	}
	r := multipart.NewReader(strings.NewReader(s), boundary)
	parts := 0
	for {
		if x.full() {
			return true
		}
		// NextPart decodes quoted-printable parts, as the handler's own
		// multipart reader would.
		p, err := r.NextPart()
		if err == io.EOF {
			return parts > 0
		}
		if err != nil {
			if parts == 0 {
				return false
			}
			x.truncated = true
			return true
		}
		parts++
		// Read the filename from the header itself: FileName strips
		// directories, which is exactly what an attacker plays with.
		var name, filename string
		if _, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition")); err == nil {
			name, filename = params["name"], params["filename"]
		}
		m := x.push(name)
		x.add(src, name, true)
		if filename != "" {
			n := x.push("filename")
			x.add(src, filename, false)
			x.pop(n)
		}
		// Every part's content is read: a text field as declared, a file
		// part by its declared type (textual types as text; other types
		// sniffed, so binary uploads are skipped and text is inspected).
		var b strings.Builder
		n, err := io.Copy(&b, io.LimitReader(p, int64(x.lim.MaxBodyBytes)+1))
		if err != nil || n > int64(x.lim.MaxBodyBytes) {
			x.truncated = true
		}
		pt := p.Header.Get("Content-Type")
		if filename != "" && pt == "" {
			pt = "application/octet-stream"
		}
		x.content(b.String(), pt, src)
		x.pop(m)
	}
}

// decodeBase64 decodes standard or URL base64, padded or not, refusing
// output beyond limit bytes plus one (the caller then truncates).
func decodeBase64(s string, limit int) (string, error) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	if max := (limit + 1) * 4 / 3; len(s) > max+4 {
		s = s[:max-max%4]
	}
	b := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(b, []byte(s))
	if err != nil {
		return "", err
	}
	return string(b[:n]), nil
}

var (
	errUnknownEncoding = errors.New("unknown content encoding")
	errInflateBudget   = errors.New("decompression budget spent")
)

// inflateBudgetFactor bounds the bytes inflated for one event, in units
// of MaxBodyBytes: a batch of compressed records cannot make one event
// cost more than a few bodies' worth of decompression.
const inflateBudgetFactor = 4

// inflate is inflateString within the event's decompression budget.
func (x *extractor) inflate(s, enc string) (string, bool, error) {
	budget := inflateBudgetFactor*x.lim.MaxBodyBytes - x.inflated
	if budget <= 0 {
		return "", false, errInflateBudget
	}
	out, complete, err := inflateString(s, enc, min(budget, x.lim.MaxBodyBytes))
	x.inflated += len(out)
	return out, complete, err
}

// inflateString decodes a gzip, zlib or deflate stream, reading at most
// limit bytes of output; complete is false when there was more (a bomb
// stops here) or when the stream broke after some output, which is then
// returned.
func inflateString(s, enc string, limit int) (out string, complete bool, err error) {
	var r io.Reader
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(strings.NewReader(s))
		if err != nil {
			return "", false, err
		}
		r = zr
	case compZlib:
		zr, err := zlib.NewReader(strings.NewReader(s))
		if err != nil {
			return "", false, err
		}
		r = zr
	case "deflate":
		// HTTP "deflate" is zlib-wrapped; some clients send raw deflate.
		if zr, err := zlib.NewReader(strings.NewReader(s)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(strings.NewReader(s))
		}
	default:
		return "", false, errUnknownEncoding
	}
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(r, int64(limit)+1))
	if err != nil {
		if b.Len() > 0 { // a cut or corrupt stream: inspect what inflated
			return cutUTF8(b.String(), limit), false, nil
		}
		return "", false, err
	}
	if n > int64(limit) {
		return cutUTF8(b.String(), limit), false, nil
	}
	return b.String(), true, nil
}

// cutUTF8 returns s cut to at most n bytes on a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}
