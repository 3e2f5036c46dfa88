package rasp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"sync"
	"unsafe"

	"github.com/aws/aws-lambda-go/lambda"
)

// This file is the seam between the wrapper and aws-lambda-go.
//
// aws-lambda-go's runtime loop does not call Handler.Invoke. It calls the
// handler's function, which returns an io.Reader; the loop posts the
// reader to the Runtime API, uses its ContentType method when it has one
// (streaming responses), and closes it afterwards when it is an
// io.Closer. For typed functions that reader is a JSON buffer taken from
// a pool the handler owns, and Close puts it back. Invoke, the byte-level
// method kept for compatibility, returns that buffer's bytes after its
// deferred Close has already returned the buffer to the pool: as soon as
// another invocation runs concurrently (Lambda Managed Instances run
// several poll loops on one handler) it can take the buffer and overwrite
// the bytes before they are posted. A wrapper built on Invoke would then
// answer one request with another's response.
//
// So the wrapper calls the reader-returning function itself and owns what
// it returns: either it hands the reader on to the runtime loop untouched
// (which closes it after posting), or it copies the response into bytes
// nothing else refers to and closes the reader then.

// respondFunc is the function aws-lambda-go's runtime loop calls. The
// response is the caller's: it reads it, then closes it when it is an
// io.Closer.
type respondFunc = func(ctx context.Context, payload []byte) (io.Reader, error)

var (
	// libHandlerType is the type lambda.NewHandler returns.
	libHandlerType = reflect.TypeOf(lambda.NewHandler(nil))
	respondType    = reflect.TypeOf(respondFunc(nil))
)

// respondPath returns the function aws-lambda-go's runtime loop would
// call for h when h was built by lambda.NewHandler: that function is the
// handler's only field not reachable otherwise, read once here. lib
// reports whether h is aws-lambda-go's handler at all; fn is nil when it
// is but the field is not where this version of the library keeps it
// (a test holds the pinned version to the field being found).
func respondPath(h lambda.Handler) (fn respondFunc, lib bool) {
	v := reflect.ValueOf(h)
	if !v.IsValid() || v.Type() != libHandlerType || v.IsNil() {
		return nil, false
	}
	f := v.Elem().FieldByName("handlerFunc")
	if !f.IsValid() || f.Kind() != reflect.Func || !f.Type().ConvertibleTo(respondType) || f.IsNil() {
		return nil, true
	}
	// The field is unexported: reading it needs its address. It is
	// written once, by lambda.NewHandler, before h was handed to us.
	f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
	return f.Convert(respondType).Interface().(respondFunc), true
}

// serialized is the last resort for an aws-lambda-go handler whose
// function could not be found: its Invoke runs one at a time and its
// bytes are copied before the next may run, so the pooled buffer is never
// reused under us. Correct, but it gives up concurrency.
func serialized(h lambda.Handler) respondFunc {
	var mu sync.Mutex
	return func(ctx context.Context, payload []byte) (io.Reader, error) {
		mu.Lock()
		defer mu.Unlock()
		b, err := h.Invoke(ctx, payload)
		if err != nil {
			return nil, err
		}
		return bytes.NewReader(bytes.Clone(b)), nil
	}
}

// ownBytes reads r to the end into a new slice and closes r when it is an
// io.Closer: the bytes returned are referred to by nothing else.
func ownBytes(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, nil
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	hint := 512
	if l, ok := r.(interface{ Len() int }); ok { // bytes.Buffer, bytes.Reader, strings.Reader, the library's JSON buffer
		hint = l.Len() + 1 // room for the read that reports io.EOF
	}
	b := make([]byte, 0, hint)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// contentTypeBytes is what the runtime loop posts for a response without
// a ContentType method.
const contentTypeBytes = "application/octet-stream"

// jsonResponse is a JSON response the wrapper built (a block response, a
// partial batch response); its bytes are its own.
type jsonResponse struct{ bytes.Reader }

func newJSONResponse(b []byte) *jsonResponse {
	r := &jsonResponse{}
	r.Reset(b)
	return r
}

// ContentType is what the runtime loop posts the response as.
func (*jsonResponse) ContentType() string { return contentTypeJSON }

// errNotJSON keeps aws-lambda-go from encoding a response that must be
// posted as the reader it is.
var errNotJSON = errors.New("lambda-rasp: a response stream is not JSON")

// passedOn is a response handed to aws-lambda-go's runtime loop as the
// handler returned it: the loop reads it while posting (a stream stays a
// stream), posts it with its content type and closes it afterwards.
type passedOn struct {
	r    io.Reader
	done func() // run once, at the first Close
	once sync.Once
}

// Read reads the handler's response.
func (s *passedOn) Read(p []byte) (int, error) { return s.r.Read(p) }

// Close closes the handler's response when it can be closed, and ends
// the invocation.
func (s *passedOn) Close() error {
	if s.done != nil {
		defer s.once.Do(s.done)
	}
	if c, ok := s.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// ContentType is the handler's response's content type, or what the
// runtime loop would have posted it as without one.
func (s *passedOn) ContentType() string {
	if c, ok := s.r.(interface{ ContentType() string }); ok {
		return c.ContentType()
	}
	return contentTypeBytes
}

// MarshalJSON fails, so that aws-lambda-go posts the response as a
// reader instead of encoding it.
func (*passedOn) MarshalJSON() ([]byte, error) { return nil, errNotJSON }

// rawEvent is an invocation's payload as aws-lambda-go decodes it for a
// function that takes an event: the bytes themselves.
type rawEvent []byte

// UnmarshalJSON keeps a copy of the payload.
func (e *rawEvent) UnmarshalJSON(b []byte) error {
	*e = append((*e)[:0], b...)
	return nil
}

// mayStream reports whether fn, a handler function given to [Start], can
// return a response that must reach the runtime loop as a reader (a
// stream, or a body with its own content type), and whether its responses
// are known to be HTTP integration streams (Function URL or API Gateway
// response streaming), which a block response must then be too.
func mayStream(fn any) (may, httpStream bool) {
	if _, ok := fn.(lambda.Handler); ok {
		// A handler built by lambda.NewHandler may wrap any function;
		// other Handlers return bytes.
		_, lib := respondPath(fn.(lambda.Handler))
		return lib, false
	}
	t := reflect.TypeOf(fn)
	if t == nil || t.Kind() != reflect.Func || t.NumOut() < 2 {
		return false, false
	}
	out := t.Out(0)
	if out.Kind() == reflect.Interface {
		return true, false
	}
	if !out.Implements(readerType) {
		return false, false
	}
	return true, isHTTPStream(out)
}

// contentTypeHTTPStream is the content type of Function URL and API
// Gateway response streams: a JSON prelude (status, headers), eight zero
// bytes, then the body.
const contentTypeHTTPStream = "application/vnd.awslambda.http-integration-response"

// isHTTPStream reports whether responses of type t are HTTP integration
// streams, asking a zero value for its content type (the types of
// aws-lambda-go's events answer with a constant).
func isHTTPStream(t reflect.Type) (ok bool) {
	if !t.Implements(contentTyperType) {
		return false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	v := reflect.Zero(t)
	if t.Kind() == reflect.Pointer {
		v = reflect.New(t.Elem())
	}
	c, _ := v.Interface().(interface{ ContentType() string })
	return c != nil && c.ContentType() == contentTypeHTTPStream
}

var (
	readerType       = reflect.TypeOf((*io.Reader)(nil)).Elem()
	contentTyperType = reflect.TypeOf((*interface{ ContentType() string })(nil)).Elem()
)
