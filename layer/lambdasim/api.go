package lambdasim

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Header names of the Runtime and Extensions APIs.
const (
	HeaderRequestID          = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs         = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN        = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID            = "Lambda-Runtime-Trace-Id"
	HeaderClientContext      = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity    = "Lambda-Runtime-Cognito-Identity"
	HeaderTenantID           = "Lambda-Runtime-Aws-Tenant-Id"
	HeaderFunctionErrorType  = "Lambda-Runtime-Function-Error-Type"
	HeaderExtensionName      = "Lambda-Extension-Name"
	HeaderExtensionID        = "Lambda-Extension-Identifier"
	HeaderExtensionErrorType = "Lambda-Extension-Function-Error-Type"
	HeaderAcceptFeature      = "Lambda-Extension-Accept-Feature"
)

// maxAPIBody bounds request bodies on the Runtime and Extensions APIs.
const maxAPIBody = MaxPayloadBytes + 1

// apiHandler routes the Runtime, Extensions and Telemetry APIs.
func (s *Sim) apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", s.runtimeNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", s.runtimeResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", s.runtimeError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", s.runtimeInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", s.extensionRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", s.extensionNext)
	mux.HandleFunc("POST /2020-01-01/extension/init/error", s.extensionError)
	mux.HandleFunc("POST /2020-01-01/extension/exit/error", s.extensionError)
	mux.HandleFunc("PUT /2022-07-01/telemetry", s.telemetrySubscribe)
	mux.HandleFunc("PUT /2020-08-15/logs", func(w http.ResponseWriter, r *http.Request) {
		// Like the emulator: the older Logs API is answered but not offered.
		writeError(w, http.StatusAccepted, "Logs.NotSupported", "Logs API is not supported, use the Telemetry API")
	})
	return mux
}

// writeError writes the platform's error body {"errorMessage","errorType"}.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]string{"errorMessage": msg, "errorType": typ})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"errorType":"InternalError"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing to do
}

func accepted(w http.ResponseWriter) {
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// sandbox returns the current environment, or nil.
func (s *Sim) sandbox() *sandbox {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("body exceeds %d bytes", MaxPayloadBytes))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "InvalidRequestFormat", "reading body: "+err.Error())
		return nil, false
	}
	return body, true
}

// runtimeNext blocks until an invocation is available.
func (s *Sim) runtimeNext(w http.ResponseWriter, r *http.Request) {
	sb := s.sandbox()
	if sb == nil {
		// The environment is being torn down; the runtime is about to be
		// killed, so the call stays pending like in a frozen sandbox.
		<-r.Context().Done()
		return
	}
	sb.readyOnce.Do(func() {
		sb.log(Event{Kind: EventRuntimeNext, Name: "runtime", Detail: "init done"})
		close(sb.runtimeReady)
	})
	// With one runtime worker, calling next again ends its part of the
	// previous invocation.
	sb.mu.Lock()
	if prev := sb.lastTaken; prev != nil {
		sb.lastTaken = nil
		close(prev.released)
	}
	sb.mu.Unlock()
	select {
	case inv := <-sb.queue:
		if !s.cfg.ManagedInstances {
			sb.mu.Lock()
			sb.lastTaken = inv
			sb.mu.Unlock()
		}
		h := w.Header()
		h.Set(HeaderRequestID, inv.id)
		h.Set(HeaderDeadlineMs, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(HeaderFunctionARN, s.functionARN())
		h.Set(HeaderTraceID, inv.traceID)
		if inv.clientContext != "" {
			h.Set(HeaderClientContext, inv.clientContext)
		}
		if inv.cognito != "" {
			h.Set(HeaderCognitoIdentity, inv.cognito)
		}
		if inv.tenantID != "" {
			h.Set(HeaderTenantID, inv.tenantID)
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload) // a runtime that hangs up fails the invoke by timeout or exit
	case <-r.Context().Done():
		// The runtime hung up or was killed. A shut-down environment never
		// answers: the call stays pending until then.
	}
}

func (s *Sim) inflight(w http.ResponseWriter, r *http.Request) (*sandbox, *invocation, bool) {
	sb := s.sandbox()
	id := r.PathValue("id")
	if sb == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown request id "+id)
		return nil, nil, false
	}
	sb.mu.Lock()
	inv := sb.inflight[id]
	sb.mu.Unlock()
	if inv == nil {
		writeError(w, http.StatusBadRequest, "InvalidRequestID", "unknown request id "+id)
		return nil, nil, false
	}
	return sb, inv, true
}

func (s *Sim) runtimeResponse(w http.ResponseWriter, r *http.Request) {
	sb, inv, ok := s.inflight(w, r)
	if !ok {
		return
	}
	if inv.streaming {
		s.streamResponse(w, r, sb, inv)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayloadBytes)
		b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": "Function.ResponseSizeTooLarge"}) // strings always marshal
		inv.post(runtimeResult{body: b, errorType: "Function.ResponseSizeTooLarge", at: time.Now()})
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", msg)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "InvalidRequestFormat", "reading body: "+err.Error())
		return
	}
	// aws-lambda-go reports errors of streamed responses as trailers.
	if typ := r.Trailer.Get(HeaderFunctionErrorType); typ != "" {
		s.postError(w, sb, inv, typ, trailerErrorBody(r))
		return
	}
	if !inv.post(runtimeResult{body: body, contentType: r.Header.Get("Content-Type"), at: time.Now()}) {
		writeError(w, http.StatusBadRequest, "InvalidStateTransition", "a result was already posted for "+inv.id)
		return
	}
	sb.log(Event{Kind: EventRuntimeResponse, Name: "runtime", RequestID: inv.id, Detail: strconv.Itoa(len(body)) + " bytes"})
	accepted(w)
}

// trailerErrorBody is the error body aws-lambda-go sends in a trailer
// (base64 of the error JSON).
func trailerErrorBody(r *http.Request) []byte {
	eb := []byte(r.Trailer.Get("Lambda-Runtime-Function-Error-Body"))
	if dec, err := base64.StdEncoding.DecodeString(string(eb)); err == nil {
		eb = dec
	}
	return eb
}

// MaxStreamBytes is the size limit of a streamed response.
const MaxStreamBytes = 20 * 1024 * 1024

// streamResponse passes a response on to the caller that asked for a
// stream while the runtime posts it, chunk by chunk. A caller that stops
// reading does not stop the runtime: the rest is read and dropped, as
// the service does when a client goes away.
func (s *Sim) streamResponse(w http.ResponseWriter, r *http.Request, sb *sandbox, inv *invocation) {
	defer close(inv.streamDone)
	pr, pw := io.Pipe()
	if !inv.post(runtimeResult{stream: pr, contentType: r.Header.Get("Content-Type"), at: time.Now()}) {
		_ = pw.Close()
		writeError(w, http.StatusBadRequest, "InvalidStateTransition", "a result was already posted for "+inv.id)
		return
	}
	n, err := copyStream(pw, http.MaxBytesReader(w, r.Body, MaxStreamBytes+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		pw.CloseWithError(&StreamError{Type: "Function.ResponseSizeTooLarge"})
		writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", fmt.Sprintf("streamed response exceeds %d bytes", MaxStreamBytes))
		return
	case err != nil:
		pw.CloseWithError(fmt.Errorf("lambdasim: reading the runtime's response: %w", err))
		writeError(w, http.StatusBadRequest, "InvalidRequestFormat", "reading body: "+err.Error())
		return
	}
	if typ := r.Trailer.Get(HeaderFunctionErrorType); typ != "" {
		body, typ := errorBody(typ, trailerErrorBody(r))
		pw.CloseWithError(&StreamError{Type: typ, Body: body})
		sb.log(Event{Kind: EventRuntimeError, Name: "runtime", RequestID: inv.id, Detail: typ})
		accepted(w)
		return
	}
	_ = pw.Close()
	sb.log(Event{Kind: EventRuntimeResponse, Name: "runtime", RequestID: inv.id, Detail: strconv.FormatInt(n, 10) + " bytes streamed"})
	accepted(w)
}

// copyStream copies src to the caller's pipe as it arrives, and drains
// src once the caller stopped reading. It returns the bytes read from src
// and src's error.
func copyStream(dst *io.PipeWriter, src io.Reader) (int64, error) {
	buf := make([]byte, 32*1024)
	var n int64
	caller := true
	for {
		m, err := src.Read(buf)
		n += int64(m)
		if m > 0 && caller {
			if _, werr := dst.Write(buf[:m]); werr != nil {
				caller = false // closed by the caller: keep draining
			}
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (s *Sim) runtimeError(w http.ResponseWriter, r *http.Request) {
	sb, inv, ok := s.inflight(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	s.postError(w, sb, inv, r.Header.Get(HeaderFunctionErrorType), body)
}

// errorBody normalises a posted error: a JSON object is kept as is, anything
// else becomes {"errorMessage","errorType"}. It returns the body and type.
func errorBody(typ string, body []byte) ([]byte, string) {
	var obj struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &obj); err == nil && (obj.ErrorMessage != "" || obj.ErrorType != "") {
		if typ == "" {
			typ = obj.ErrorType
		}
		if typ == "" {
			typ = "Runtime.Unknown"
		}
		return body, typ
	}
	if typ == "" {
		typ = "Runtime.Unknown"
	}
	b, _ := json.Marshal(map[string]string{"errorMessage": strings.TrimSpace(string(body)), "errorType": typ}) // strings always marshal
	return b, typ
}

// maxMessage bounds error messages copied from posted bodies.
const maxMessage = 256

// errorMessage returns the errorMessage field of a JSON error body,
// truncated to maxMessage bytes, or "".
func errorMessage(body []byte) string {
	var obj struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &obj) != nil {
		return ""
	}
	m := obj.ErrorMessage
	if len(m) > maxMessage {
		m = m[:maxMessage] + "..."
	}
	return m
}

func (s *Sim) postError(w http.ResponseWriter, sb *sandbox, inv *invocation, typ string, body []byte) {
	body, typ = errorBody(typ, body)
	if !inv.post(runtimeResult{body: body, errorType: typ, at: time.Now()}) {
		writeError(w, http.StatusBadRequest, "InvalidStateTransition", "a result was already posted for "+inv.id)
		return
	}
	sb.log(Event{Kind: EventRuntimeError, Name: "runtime", RequestID: inv.id, Detail: typ})
	accepted(w)
}

func (s *Sim) runtimeInitError(w http.ResponseWriter, r *http.Request) {
	sb := s.sandbox()
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if sb == nil {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "no execution environment")
		return
	}
	sb.mu.Lock()
	ph := sb.phase
	sb.mu.Unlock()
	if ph != phaseInit {
		writeError(w, http.StatusForbidden, "InvalidStateTransition", "init/error is only valid during init")
		return
	}
	body, typ := errorBody(r.Header.Get(HeaderFunctionErrorType), body)
	sb.log(Event{Kind: EventRuntimeInitError, Name: "runtime", Detail: typ})
	sb.failInit(typ, errorMessage(body))
	accepted(w)
}

// registerRequest is the body of extension/register.
type registerRequest struct {
	Events []string `json:"events"`
}

func (s *Sim) extensionRegister(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(HeaderExtensionName)
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if name == "" {
		writeError(w, http.StatusForbidden, "Extension.InvalidExtensionName", "missing "+HeaderExtensionName+" header")
		return
	}
	var req registerRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "InvalidRequestFormat", "register body: "+err.Error())
			return
		}
	}
	var events []string
	for _, ev := range req.Events {
		if ev != eventInvoke && ev != eventShutdown {
			writeError(w, http.StatusForbidden, "Extension.InvalidEventType", fmt.Sprintf("unknown event type %q", ev))
			return
		}
		if s.cfg.ManagedInstances && ev == eventInvoke {
			writeError(w, http.StatusForbidden, "Extension.InvalidEventType", "INVOKE is not supported on managed instances")
			return
		}
		if !slices.Contains(events, ev) {
			events = append(events, ev)
		}
	}
	sb := s.sandbox()
	if sb == nil {
		writeError(w, http.StatusForbidden, "Extension.RegistrationClosed", "extensions can only register during init")
		return
	}
	sb.mu.Lock()
	if sb.phase != phaseInit {
		sb.mu.Unlock()
		writeError(w, http.StatusForbidden, "Extension.RegistrationClosed", "extensions can only register during init")
		return
	}
	ext := sb.byName[name]
	switch {
	case ext != nil && ext.id != "":
		sb.mu.Unlock()
		writeError(w, http.StatusForbidden, "Extension.InvalidExtensionState", "extension "+name+" is already registered")
		return
	case ext == nil && !sb.runtimeStarted:
		sb.mu.Unlock()
		writeError(w, http.StatusForbidden, "Extension.InvalidExtensionName", "no external extension is named "+name)
		return
	case ext == nil && slices.Contains(events, eventShutdown):
		sb.mu.Unlock()
		writeError(w, http.StatusForbidden, "Extension.InvalidEventType", "internal extension "+name+" cannot register for SHUTDOWN")
		return
	}
	n := 0
	for _, e := range sb.order {
		if e.id != "" {
			n++
		}
	}
	if n >= MaxExtensions {
		sb.mu.Unlock()
		writeError(w, http.StatusForbidden, "Extension.TooManyExtensions", fmt.Sprintf("at most %d extensions can register", MaxExtensions))
		return
	}
	if ext == nil {
		ext = newExtension(name, true)
		sb.byName[name] = ext
		sb.order = append(sb.order, ext)
	}
	ext.id = newUUID()
	ext.events = events
	sb.byID[ext.id] = ext
	sb.mu.Unlock()
	ext.regOnce.Do(func() { close(ext.registered) })
	kind := "external"
	if ext.internal {
		kind = "internal"
	}
	sb.log(Event{Kind: EventExtensionRegister, Name: name, Detail: kind + " " + strings.Join(events, ",") + " id=" + ext.id})

	resp := map[string]string{
		"functionName":    s.cfg.FunctionName,
		"functionVersion": "$LATEST",
		"handler":         s.cfg.Handler,
	}
	for f := range strings.SplitSeq(r.Header.Get(HeaderAcceptFeature), ",") {
		if strings.TrimSpace(f) == "accountId" {
			resp["accountId"] = s.cfg.AccountID
		}
	}
	w.Header().Set(HeaderExtensionID, ext.id)
	writeJSON(w, http.StatusOK, resp)
}

// extensionFor resolves the identifier header or writes the error.
func (s *Sim) extensionFor(w http.ResponseWriter, r *http.Request) (*sandbox, *extension, bool) {
	id := r.Header.Get(HeaderExtensionID)
	if id == "" {
		writeError(w, http.StatusForbidden, "Extension.MissingHeader", "missing "+HeaderExtensionID+" header")
		return nil, nil, false
	}
	sb := s.sandbox()
	var ext *extension
	if sb != nil {
		sb.mu.Lock()
		ext = sb.byID[id]
		sb.mu.Unlock()
	}
	if ext == nil {
		writeError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "unknown extension identifier "+id)
		return nil, nil, false
	}
	ext.mu.Lock()
	failed := ext.failed
	ext.mu.Unlock()
	if failed {
		writeError(w, http.StatusForbidden, "Extension.InvalidExtensionState", "extension "+ext.name+" reported an error")
		return nil, nil, false
	}
	return sb, ext, true
}

func (s *Sim) extensionNext(w http.ResponseWriter, r *http.Request) {
	sb, ext, ok := s.extensionFor(w, r)
	if !ok {
		return
	}
	d, err := ext.next(r.Context())
	if err != nil {
		return // the extension hung up or was killed
	}
	sb.log(Event{Kind: EventExtensionNext, Name: ext.name, Detail: "received " + d.kind})
	w.Header().Set(HeaderExtensionID, ext.id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(d.body) // a vanished extension is handled by its exit
}

// extensionError serves init/error and exit/error.
func (s *Sim) extensionError(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	sb, ext, ok := s.extensionFor(w, r)
	if !ok {
		return
	}
	typ := r.Header.Get(HeaderExtensionErrorType)
	if typ == "" {
		writeError(w, http.StatusBadRequest, "Extension.MissingHeader", "missing "+HeaderExtensionErrorType+" header")
		return
	}
	initCall := strings.HasSuffix(r.URL.Path, "/init/error")
	sb.mu.Lock()
	ph := sb.phase
	sb.mu.Unlock()
	if initCall && ph != phaseInit {
		writeError(w, http.StatusForbidden, "Extension.InvalidExtensionState", "init/error is only valid during init")
		return
	}
	if !ext.fail(typ) {
		writeError(w, http.StatusForbidden, "Extension.InvalidExtensionState", "extension "+ext.name+" already reported an error")
		return
	}
	call := "exit/error"
	if initCall {
		call = "init/error"
	}
	sb.log(Event{Kind: EventExtensionError, Name: ext.name, Detail: call + " " + typ})
	if initCall {
		msg := "extension " + ext.name + " reported init/error"
		if m := errorMessage(body); m != "" {
			msg += ": " + m
		}
		sb.failInit(typ, msg)
	} else {
		sb.markBroken("extension " + ext.name + " reported exit/error " + typ)
	}
	accepted(w)
}

func (s *Sim) telemetrySubscribe(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if s.cfg.ClassicTelemetry {
		writeError(w, http.StatusAccepted, "Telemetry.NotSupported", "Telemetry API is not supported")
		return
	}
	sb, ext, ok := s.extensionFor(w, r)
	if !ok {
		return
	}
	sub, err := parseSubscription(body, s.cfg.ManagedInstances)
	if err != nil {
		writeError(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	sub.extension = ext.name
	sb.mu.Lock()
	if sb.phase != phaseInit {
		sb.mu.Unlock()
		writeError(w, http.StatusForbidden, "Telemetry.SubscriptionClosed", "subscriptions are accepted only during init")
		return
	}
	for i, old := range sb.subs {
		if old.sub.extension == ext.name { // a new subscription replaces the old one
			go old.close(r.Context())
			sb.subs = slices.Delete(sb.subs, i, i+1)
			break
		}
	}
	// Created under the lock so no event falls between backlog and live feed.
	sub.discard = s.testOnlyNoDelivery
	sb.subs = append(sb.subs, newSubscriber(sub, sb.backlog, func(e Event) { sb.log(e) }, sb))
	sb.mu.Unlock()
	sb.log(Event{Kind: EventTelemetry, Name: ext.name, Detail: strings.Join(sub.types, ",") + " -> " + sub.target})
	sb.emit("platform.telemetrySubscription", map[string]any{"name": ext.name, "state": "Subscribed", "types": sub.types})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`"OK"`)) // the client went away; nothing to do
}

// invokeHandler serves POST /2015-03-31/functions/{name}/invocations.
func (s *Sim) invokeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", func(w http.ResponseWriter, r *http.Request) {
		payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxPayloadBytes+1))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", fmt.Sprintf("request payload exceeds %d bytes", MaxPayloadBytes))
			return
		}
		var opts InvokeOptions
		if cc := r.Header.Get("X-Amz-Client-Context"); cc != "" {
			dec, err := base64.StdEncoding.DecodeString(cc)
			if err != nil {
				writeError(w, http.StatusBadRequest, "InvalidRequestContentException", "X-Amz-Client-Context must be base64")
				return
			}
			opts.ClientContext = string(dec)
		}
		opts.TraceID = r.Header.Get("X-Amzn-Trace-Id")
		opts.TenantID = r.Header.Get("X-Amz-Tenant-Id")
		opts.LogTail = r.Header.Get("X-Amz-Log-Type") == "Tail"
		res, err := s.InvokeWithOptions(r.Context(), payload, opts)
		if err != nil {
			if errors.Is(err, ErrClosed) {
				writeError(w, http.StatusServiceUnavailable, "ServiceException", "the simulator is shutting down")
			}
			return // the caller went away
		}
		if res.RequestID != "" {
			w.Header().Set("X-Amzn-Requestid", res.RequestID)
		}
		if res.FunctionError != "" {
			w.Header().Set("X-Amz-Function-Error", res.FunctionError)
		}
		if res.LogResult != "" {
			w.Header().Set("X-Amz-Log-Result", res.LogResult)
		}
		if res.ErrorType == ErrorTypeUnavailable {
			w.Header().Set("Error-Type", res.ErrorType)
		}
		ct := res.ContentType
		if ct == "" || res.FunctionError != "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(res.StatusCode)
		_, _ = w.Write(res.Body) // the caller went away; nothing to do
	})
	return mux
}
