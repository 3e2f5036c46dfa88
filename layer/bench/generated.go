package bench

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"strings"

	"github.com/brianvoe/gofakeit/v7"
)

// GeneratedBenign returns n realistic benign values from a fake-data
// generator: names, addresses, e-mail addresses, URLs, user agents,
// sentences, paragraphs, questions, quotes, product texts, phrases of
// technical jargon and small JSON documents. Deterministic for a seed.
func GeneratedBenign(n int, seed uint64) []string {
	f := gofakeit.New(seed)
	gens := []func() string{
		f.Name, f.Email, f.URL, f.UserAgent, f.Company, f.JobTitle, f.Phone, f.BookTitle, f.MovieName,
		f.HackerPhrase, f.Question, f.Quote, f.ProductName, f.ProductDescription, f.Comment, f.Phrase,
		func() string { return f.Sentence() },
		func() string { return f.Paragraph() },
		func() string { a := f.Address(); return a.Address },
		func() string { return f.Street() + ", " + f.City() },
		func() string { return f.Name() + " <" + f.Email() + ">" },
		func() string { return f.HackerPhrase() + " " + f.Emoji() },
		func() string {
			b, _ := json.Marshal(map[string]any{
				"name": f.Name(), "email": f.Email(), "company": f.Company(), "note": f.Sentence(),
				"address": map[string]string{"street": f.Street(), "city": f.City()}, "tags": []string{f.Phrase(), f.Emoji()},
			})
			return string(b)
		},
	}
	out := make([]string, 0, n)
	seen := map[string]bool{}
	for i := 0; len(out) < n && i < 4*n; i++ {
		v := strings.TrimSpace(gens[i%len(gens)]())
		if v == "" || seen[v] || strings.ContainsAny(v, "\r\n") {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// BinaryBody is one binary or compressed request body.
type BinaryBody struct {
	Name        string // the kind, for the report: "png", "gzip json", ...
	ContentType string // declared Content-Type ("" for none)
	Body        []byte
}

// BinaryBodies returns n binary and compressed bodies of the kinds a
// function receives (images in three formats, archives, gzip documents,
// opaque octet streams), built with the standard library's encoders from
// a seeded source.
func BinaryBodies(n int, seed uint64) []BinaryBody {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	f := gofakeit.New(seed)
	img := func() image.Image {
		w, h := 8+r.IntN(120), 8+r.IntN(120)
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				m.Set(x, y, color.NRGBA{uint8(r.IntN(256)), uint8(x * 3), uint8(y * 5), 255})
			}
		}
		return m
	}
	kinds := []func() BinaryBody{
		func() BinaryBody {
			var b bytes.Buffer
			_ = png.Encode(&b, img())
			return BinaryBody{"png", "image/png", b.Bytes()}
		},
		func() BinaryBody {
			var b bytes.Buffer
			_ = jpeg.Encode(&b, img(), &jpeg.Options{Quality: 30 + r.IntN(60)})
			return BinaryBody{"jpeg", "image/jpeg", b.Bytes()}
		},
		func() BinaryBody {
			var b bytes.Buffer
			_ = gif.Encode(&b, img(), nil)
			return BinaryBody{"gif", "image/gif", b.Bytes()}
		},
		func() BinaryBody {
			var b bytes.Buffer
			zw := zip.NewWriter(&b)
			for i := range 1 + r.IntN(4) {
				w, _ := zw.Create(f.Word() + ".txt")
				_, _ = w.Write([]byte(f.Paragraph()))
				_ = i
			}
			_ = zw.Close()
			return BinaryBody{"zip", "application/zip", b.Bytes()}
		},
		func() BinaryBody {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			doc, _ := json.Marshal(map[string]any{"user": f.Name(), "events": []string{f.Sentence(), f.HackerPhrase(), f.Comment()}})
			_, _ = zw.Write(doc)
			_ = zw.Close()
			return BinaryBody{"gzip json", "application/gzip", b.Bytes()}
		},
		func() BinaryBody {
			b := make([]byte, 256+r.IntN(64<<10))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return BinaryBody{"octet-stream", "application/octet-stream", b}
		},
		func() BinaryBody {
			b := make([]byte, 256+r.IntN(16<<10))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return BinaryBody{"untyped bytes", "", b}
		},
	}
	out := make([]BinaryBody, n)
	for i := range out {
		out[i] = kinds[i%len(kinds)]()
	}
	return out
}

// BuildBinaryEvent is a POST of body as API Gateway delivers a binary
// media type (base64, isBase64Encoded) and the HTTP request a WAF in front
// would see (the raw bytes).
func BuildBinaryEvent(b BinaryBody) Event {
	headers := [][2]string{{"host", host}, {"user-agent", userAgent}, {"accept", "*/*"}}
	if b.ContentType != "" {
		headers = append(headers, [2]string{"content-type", b.ContentType})
	}
	ev := lambdaV2("POST", basePath, "", headers, nil, nil)
	var m map[string]any
	_ = json.Unmarshal(ev, &m)
	m["body"] = base64.StdEncoding.EncodeToString(b.Body)
	m["isBase64Encoded"] = true
	raw, _ := json.Marshal(m)
	return Event{
		Case:   Case{Payload: b.Name, Category: b.Name, Benign: true},
		Lambda: raw,
		HTTP:   HTTPRequest{Method: "POST", URI: basePath, Headers: headers, Body: b.Body},
	}
}
