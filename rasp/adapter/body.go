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
// by the Content-Type ctype.
func (x *extractor) body(s string, b64 bool, ctype, cenc string, src rules.Source) {
	if b64 {
		dec, err := decodeBase64(s, x.lim.MaxBodyBytes)
		if err != nil {
			// Not base64 after all: inspect what was sent, and say so.
			x.truncated = true
		} else {
			s = dec
		}
	}
	if enc := strings.ToLower(strings.TrimSpace(cenc)); enc != "" && enc != "identity" {
		out, complete, err := inflate(s, enc, x.lim.MaxBodyBytes)
		switch {
		case errors.Is(err, errUnknownEncoding):
			// Inspect the bytes as they are.
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
// looks like JSON). Bodies over MaxBodyBytes are inspected as text up to
// the bound.
func (x *extractor) content(s, ctype string, src rules.Source) {
	if len(s) > x.lim.MaxBodyBytes {
		x.truncated = true
		x.add(src, cutUTF8(s, x.lim.MaxBodyBytes), false)
		return
	}
	mt, params := mediaType(ctype)
	switch {
	case mt == "application/x-www-form-urlencoded":
		x.pairs(s, src)
		return
	case mt == "multipart/form-data":
		if x.multipart(s, params, src) {
			return
		}
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || (mt == "" && looksJSON(s)):
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
		if filename == "" || isTextual(p.Header.Get("Content-Type")) {
			var b strings.Builder
			n, err := io.Copy(&b, io.LimitReader(p, int64(x.lim.MaxBodyBytes)+1))
			if err != nil || n > int64(x.lim.MaxBodyBytes) {
				x.truncated = true
			}
			x.content(b.String(), p.Header.Get("Content-Type"), src)
		}
		x.pop(m)
	}
}

// isTextual reports whether a part's content type is worth inspecting.
func isTextual(ctype string) bool {
	mt, _ := mediaType(ctype)
	return strings.HasPrefix(mt, "text/") || mt == "application/json" ||
		mt == "application/xml" || mt == "application/x-www-form-urlencoded"
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

var errUnknownEncoding = errors.New("unknown content encoding")

// inflate decodes a gzip or deflate body, reading at most limit bytes of
// output; complete is false when there was more (a bomb stops here) or
// when the stream broke after some output, which is then returned.
func inflate(s, enc string, limit int) (out string, complete bool, err error) {
	var r io.Reader
	switch enc {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(strings.NewReader(s))
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
