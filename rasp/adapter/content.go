package adapter

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// Content classification. Text detectors read a body as text; on an image,
// an archive or a compressed record they see random bytes, and random
// bytes hold quotes, angle brackets and keywords often enough to be
// flagged. So a body is classified before it is inspected:
//
//   - a declared textual type (text/*, JSON, XML, form, multipart, ...)
//     is inspected as declared, whatever its bytes: that is how the
//     handler will read it;
//   - otherwise (a binary, unknown or missing type) the bytes decide. A
//     gzip or zlib stream is inflated within the body bound and classified
//     again; bytes that are not text are skipped and the skip is recorded
//     in [Event.Skipped]; text is inspected, so declaring image/png in
//     front of an injection hides nothing.
//
// "Not text" is measured on samples (the first 2 KiB and four 512-byte
// windows spread over the rest), so a 1 MiB body costs the same as a small
// one: C0 control bytes other than white space make up at least 3 % of
// the sampled bytes, or invalid UTF-8 at least 30 %; or the body starts
// with the signature of a known binary format and the samples hold at
// least one such byte. Text in any script, and Latin-1 text, has neither;
// compressed and image data have about 10 % control bytes. A text body
// behind a binary signature (a GIF89a/script polyglot) stays text.

// Sampling bounds of sniff.
const (
	sniffHead   = 2048
	sniffWindow = 512
	sniffWins   = 4
)

// signature is the start of a known binary format.
type signature struct {
	name   string
	off    int
	prefix string
}

// signatures are the binary formats sniff names. The name is what a skip
// reports; detection itself relies on the byte statistics.
var signatures = [...]signature{
	{"png", 0, "\x89PNG\r\n\x1a\n"},
	{"jpeg", 0, "\xff\xd8\xff"},
	{"gif", 0, "GIF87a"},
	{"gif", 0, "GIF89a"},
	{"webp", 8, "WEBP"},
	{"wav", 8, "WAVE"},
	{"pdf", 0, "%PDF-"},
	{"zip", 0, "PK\x03\x04"},
	{"zip", 0, "PK\x05\x06"},
	{"bzip2", 0, "BZh"},
	{"xz", 0, "\xfd7zXZ\x00"},
	{"zstd", 0, "\x28\xb5\x2f\xfd"},
	{"7z", 0, "7z\xbc\xaf\x27\x1c"},
	{"mp4", 4, "ftyp"},
	{"ogg", 0, "OggS"},
	{"mp3", 0, "ID3"},
	{"flac", 0, "fLaC"},
	{"tiff", 0, "II*\x00"},
	{"tiff", 0, "MM\x00*"},
	{"ico", 0, "\x00\x00\x01\x00"},
	{"bmp", 0, "BM"},
	{"wasm", 0, "\x00asm"},
	{"elf", 0, "\x7fELF"},
	{"parquet", 0, "PAR1"},
	{"avro", 0, "Obj\x01"},
	{"woff", 0, "wOFF"},
	{"woff2", 0, "wOF2"},
	{"sqlite", 0, "SQLite format 3\x00"},
	{"tar", 257, "ustar"},
}

// Compressed stream formats sniff recognises.
const (
	compNone = ""
	compGzip = "gzip"
	compZlib = "zlib"
)

// sniffed is what sniff found.
type sniffed struct {
	format     string // a signature name, "" when none matched
	compressed string // compGzip or compZlib when the body starts like one
	binary     bool   // the sampled bytes are not text
}

// sniff classifies s (the decoded body) from its start and samples.
func sniff(s string) sniffed {
	var r sniffed
	r.compressed = compressedFormat(s)
	for _, sig := range signatures {
		if len(s) >= sig.off+len(sig.prefix) && s[sig.off:sig.off+len(sig.prefix)] == sig.prefix {
			r.format = sig.name
			break
		}
	}
	// total is the number of sampled bytes; the count stops as soon as
	// it has seen enough to call the body binary.
	total := 0
	eachSample(len(s), func(i, j int) { total += j - i })
	var ctl, bad int
	enough := func() bool { return ctl*100 >= 3*total || bad*100 >= 30*total }
	eachSample(len(s), func(i, j int) {
		// Chunks of 256 bytes, so random data stops after a few.
		for k := i; k < j && !enough(); k += 256 {
			e := min(j, k+256)
			c, b := textStats(s[k:e], e < len(s))
			ctl += c
			bad += b
		}
	})
	switch {
	case total == 0:
	case enough():
		r.binary = true
	case r.format != "" && ctl+bad > 0:
		r.binary = true
	}
	if r.binary && r.format == "" && r.compressed != "" {
		r.format = r.compressed
	}
	return r
}

// eachSample calls f with the byte ranges sniff samples in a body of n
// bytes: the head, then sniffWins windows spread evenly over the rest.
func eachSample(n int, f func(i, j int)) {
	head := min(n, sniffHead)
	if head > 0 {
		f(0, head)
	}
	rest := n - head
	if rest <= 0 {
		return
	}
	if rest <= sniffWins*sniffWindow {
		f(head, n)
		return
	}
	step := rest / sniffWins
	for k := range sniffWins {
		i := head + k*step + (step-sniffWindow)/2
		f(i, i+sniffWindow)
	}
}

// textStats counts the C0 control bytes that text does not hold (all but
// tab, line feed, vertical tab, form feed, carriage return and escape)
// and the bytes of invalid UTF-8 sequences in w. With cut set, w ends
// inside the body, so a character it cuts at its end does not count.
func textStats(w string, cut bool) (ctl, bad int) {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && (c < '\t' || c > '\r') && c != 0x1b || c == 0x7f {
				ctl++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		if r == utf8.RuneError && size == 1 {
			// A sequence cut by the end of a window is not evidence.
			if !cut || utf8.FullRuneInString(w[i:]) {
				bad++
			}
		}
		i += size
	}
	return ctl, bad
}

// compressedFormat names the compressed stream s starts with: gzip (1f 8b
// 08) or zlib (a deflate CMF byte with a valid header checksum).
func compressedFormat(s string) string {
	if len(s) < 3 {
		return compNone
	}
	if s[0] == 0x1f && s[1] == 0x8b && s[2] == 8 {
		return compGzip
	}
	if s[0]&0x0f == 8 && s[0]>>4 <= 7 && (uint16(s[0])<<8|uint16(s[1]))%31 == 0 && s[1]&0x20 == 0 {
		return compZlib
	}
	return compNone
}

// sniffBase64 classifies a base64 body from decoded samples, without
// decoding the rest. ok is false when the samples do not decode (the
// caller then decodes the whole body as before).
func sniffBase64(s string) (r sniffed, ok bool) {
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s[:min(len(s), sniffHead)], "-_") {
		enc = base64.RawURLEncoding
	}
	// Decoded offsets map to encoded ones in groups of 3 -> 4 bytes. The
	// decoded samples are concatenated, head first, so sniff reads the
	// signature from the real start and its statistics over all samples.
	var buf [sniffHead + sniffWins*sniffWindow + 64]byte
	out := buf[:0]
	good := true
	eachSample(enc.DecodedLen(len(s)), func(i, j int) {
		gi, gj := i/3*4, min(len(s), (j+2)/3*4)
		if !good || gi >= gj {
			return
		}
		var tmp [sniffHead + 3]byte
		n, err := enc.Decode(tmp[:], []byte(s[gi:gj]))
		if err != nil {
			good = false
			return
		}
		out = append(out, tmp[:n]...)
	})
	if !good {
		return sniffed{}, false
	}
	return sniff(string(out)), true
}

// textualType reports whether a media type is read as text by the
// handlers that receive it, so its body is inspected as declared.
func textualType(mt string) bool {
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"),
		strings.HasSuffix(mt, "/json"), strings.HasSuffix(mt, "/xml"):
		return true
	}
	switch mt {
	case "application/x-www-form-urlencoded", "multipart/form-data", "application/javascript",
		"application/graphql", "application/x-yaml", "application/yaml", "application/sql",
		"application/x-ndjson", "application/jsonl", "application/csv":
		return true
	}
	return false
}
