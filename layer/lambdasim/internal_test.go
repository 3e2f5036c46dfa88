package lambdasim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseSubscription(t *testing.T) {
	const dest = `"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:8080/t"}`
	tests := []struct {
		name        string
		give        string
		giveManaged bool
		want        subscription
		wantErr     string
	}{
		{
			name: "defaults",
			give: `{"schemaVersion":"2022-12-13","types":["platform","platform"],` + dest + `}`,
			want: subscription{types: []string{"platform"}, maxItems: 10000, maxBytes: 262144, timeout: time.Second, target: "http://127.0.0.1:8080/t"},
		},
		{
			name: "explicit buffering",
			give: `{"schemaVersion":"2022-07-01","types":["function","extension"],"buffering":{"maxItems":1000,"maxBytes":1048576,"timeoutMs":25},` + dest + `}`,
			want: subscription{types: []string{"function", "extension"}, maxItems: 1000, maxBytes: 1048576, timeout: 25 * time.Millisecond, target: "http://127.0.0.1:8080/t"},
		},
		{
			name:        "managed schema",
			give:        `{"schemaVersion":"2025-01-29","types":["platform"],` + dest + `}`,
			giveManaged: true,
			want:        subscription{types: []string{"platform"}, maxItems: 10000, maxBytes: 262144, timeout: time.Second, target: "http://127.0.0.1:8080/t"},
		},
		{name: "old schema on managed", give: `{"schemaVersion":"2022-12-13","types":["platform"],` + dest + `}`, giveManaged: true, wantErr: "not supported on managed"},
		{name: "unknown schema", give: `{"schemaVersion":"2030-01-01","types":["platform"],` + dest + `}`, wantErr: "unknown schemaVersion"},
		{name: "no types", give: `{"schemaVersion":"2022-12-13","types":[],` + dest + `}`, wantErr: "types must list"},
		{name: "unknown type", give: `{"schemaVersion":"2022-12-13","types":["metrics"],` + dest + `}`, wantErr: `unknown type "metrics"`},
		{name: "maxItems low", give: `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxItems":999},` + dest + `}`, wantErr: "maxItems 999"},
		{name: "maxBytes high", give: `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"maxBytes":1048577},` + dest + `}`, wantErr: "maxBytes 1048577"},
		{name: "timeout low", give: `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"timeoutMs":24},` + dest + `}`, wantErr: "timeoutMs 24"},
		{name: "timeout high", give: `{"schemaVersion":"2022-12-13","types":["platform"],"buffering":{"timeoutMs":30001},` + dest + `}`, wantErr: "timeoutMs 30001"},
		{name: "no destination", give: `{"schemaVersion":"2022-12-13","types":["platform"]}`, wantErr: "destination is required"},
		{
			name: "tcp",
			give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"TCP","port":9000}}`,
			want: subscription{types: []string{"platform"}, maxItems: 10000, maxBytes: 262144, timeout: time.Second, tcp: true, target: "127.0.0.1:9000"},
		},
		{name: "tcp reserved port", give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"TCP","port":9001}}`, wantErr: "other than 9001"},
		{name: "tcp no port", give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"TCP"}}`, wantErr: "destination port 0"},
		{name: "https", give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"https://sandbox.localdomain:8080"}}`, wantErr: "must use http"},
		{name: "outside host", give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://example.com:8080"}}`, wantErr: "outside the sandbox"},
		{name: "reserved port", give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain:9001"}}`, wantErr: "other than 9001"},
		{name: "no port", give: `{"schemaVersion":"2022-12-13","types":["platform"],"destination":{"protocol":"HTTP","URI":"http://sandbox.localdomain/"}}`, wantErr: "needs a port"},
		{name: "unknown key", give: `{"schemaVersion":"2022-12-13","types":["platform"],"extra":1,` + dest + `}`, wantErr: "malformed"},
		{name: "not json", give: `schemaVersion`, wantErr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSubscription([]byte(tt.give), tt.giveManaged)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSubscription() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSubscription() error = %v", err)
			}
			if !equalSubscription(got, tt.want) {
				t.Errorf("parseSubscription() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func equalSubscription(a, b subscription) bool {
	return strings.Join(a.types, ",") == strings.Join(b.types, ",") && a.maxItems == b.maxItems && a.tcp == b.tcp &&
		a.maxBytes == b.maxBytes && a.timeout == b.timeout && a.target == b.target
}

func FuzzParseSubscription(f *testing.F) {
	files, err := filepath.Glob("testdata/subscriptions/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte(`{"destination":{"protocol":"HTTP","URI":"http://[::1]:80"}}`), false)
	f.Fuzz(func(t *testing.T, body []byte, managed bool) {
		sub, err := parseSubscription(body, managed)
		if err != nil {
			return
		}
		if sub.maxItems < minMaxItems || sub.maxItems > maxMaxItems || sub.maxBytes < minMaxBytes || sub.maxBytes > maxMaxBytes ||
			sub.timeout < minTimeoutMs*time.Millisecond || sub.timeout > maxTimeoutMs*time.Millisecond {
			t.Errorf("accepted out-of-range buffering %+v", sub)
		}
		if (!strings.HasPrefix(sub.target, "http://127.0.0.1:") && !(sub.tcp && strings.HasPrefix(sub.target, "127.0.0.1:"))) || len(sub.types) == 0 {
			t.Errorf("accepted target %q types %v", sub.target, sub.types)
		}
	})
}

func TestErrorBody(t *testing.T) {
	tests := []struct {
		giveType string
		giveBody string
		wantType string
		wantBody string
	}{
		{giveType: "Runtime.X", giveBody: `{"errorMessage":"m","errorType":"T"}`, wantType: "Runtime.X", wantBody: `{"errorMessage":"m","errorType":"T"}`},
		{giveBody: `{"errorMessage":"m","errorType":"T"}`, wantType: "T", wantBody: `{"errorMessage":"m","errorType":"T"}`},
		{giveBody: `{"errorMessage":"m"}`, wantType: "Runtime.Unknown", wantBody: `{"errorMessage":"m"}`},
		{giveBody: ` oops `, wantType: "Runtime.Unknown", wantBody: `{"errorMessage":"oops","errorType":"Runtime.Unknown"}`},
		{giveType: "Runtime.Y", giveBody: `{}`, wantType: "Runtime.Y", wantBody: `{"errorMessage":"{}","errorType":"Runtime.Y"}`},
	}
	for _, tt := range tests {
		gotBody, gotType := errorBody(tt.giveType, []byte(tt.giveBody))
		if string(gotBody) != tt.wantBody || gotType != tt.wantType {
			t.Errorf("errorBody(%q, %s) = %s, %q, want %s, %q", tt.giveType, tt.giveBody, gotBody, gotType, tt.wantBody, tt.wantType)
		}
	}
}

func FuzzErrorBody(f *testing.F) {
	f.Add("", []byte(`{"errorMessage":"m","errorType":"T","stackTrace":[]}`))
	f.Add("Runtime.Z", []byte("plain"))
	f.Add("", []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, typ string, body []byte) {
		out, gotType := errorBody(typ, body)
		if gotType == "" {
			t.Errorf("errorBody(%q, %q) gave an empty type", typ, body)
		}
		if !json.Valid(out) {
			t.Errorf("errorBody(%q, %q) = %q, not JSON", typ, body, out)
		}
		if len(errorMessage(out)) > maxMessage+3 {
			t.Errorf("errorMessage longer than the bound")
		}
	})
}

// collect is a lineWriter sink for tests.
type collect struct {
	mu    sync.Mutex
	out   bytes.Buffer
	lines []string
}

func (c *collect) Write(p []byte) (int, error) { return c.out.Write(p) }

func TestLineWriter(t *testing.T) {
	tests := []struct {
		give []string // successive writes
		want []string
	}{
		{give: []string{"a\nb\n"}, want: []string{"a", "b"}},
		{give: []string{"par", "tial\n", "rest"}, want: []string{"partial", "rest"}},
		{give: []string{"crlf\r\n"}, want: []string{"crlf"}},
		{give: []string{"\n\n"}, want: []string{"", ""}},
	}
	for _, tt := range tests {
		c := &collect{}
		lw := &lineWriter{prefix: "[x] ", w: c, wmu: &c.mu, onLine: func(l string) { c.lines = append(c.lines, l) }}
		for _, w := range tt.give {
			if n, err := lw.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		lw.flush()
		if strings.Join(c.lines, "|") != strings.Join(tt.want, "|") {
			t.Errorf("lines of %q = %q, want %q", tt.give, c.lines, tt.want)
		}
		wantOut := ""
		for _, l := range tt.want {
			wantOut += "[x] " + l + "\n"
		}
		if c.out.String() != wantOut {
			t.Errorf("output of %q = %q, want %q", tt.give, c.out.String(), wantOut)
		}
	}
}

func FuzzLineWriter(f *testing.F) {
	f.Add([]byte("hello\nworld"), 3)
	f.Add([]byte("\r\n\r\n"), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk <= 0 || chunk > len(data)+1 {
			chunk = len(data) + 1
		}
		c := &collect{}
		lw := &lineWriter{prefix: "", w: c, wmu: &c.mu}
		for i := 0; i < len(data); i += chunk {
			if _, err := lw.Write(data[i:min(i+chunk, len(data))]); err != nil {
				t.Fatal(err)
			}
		}
		lw.flush()
		// Every input byte except line terminators reaches the output, in order.
		strip := func(b []byte) []byte {
			return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), nil)
		}
		got, want := strip(c.out.Bytes()), strip(data)
		if !bytes.Equal(bytes.ReplaceAll(got, []byte("\r"), nil), bytes.ReplaceAll(want, []byte("\r"), nil)) {
			t.Errorf("output %q lost bytes of %q", c.out.Bytes(), data)
		}
	})
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		give    string
		wantErr bool
	}{
		{give: "127.0.0.1:0"},
		{give: "localhost:9000"},
		{give: "[::1]:80"},
		{give: "0.0.0.0:9000", wantErr: true},
		{give: ":9000", wantErr: true},
		{give: "10.0.0.1:80", wantErr: true},
		{give: "nonsense", wantErr: true},
	}
	for _, tt := range tests {
		if err := checkLoopback(tt.give); (err != nil) != tt.wantErr {
			t.Errorf("checkLoopback(%q) = %v, want error %v", tt.give, err, tt.wantErr)
		}
	}
}

func TestSubscriberBatches(t *testing.T) {
	// maxItems bounds each batch; a stop flushes what is left.
	var mu sync.Mutex
	var got [][]TelemetryEvent
	sub := subscription{types: []string{"platform"}, maxItems: 3, maxBytes: maxMaxBytes, timeout: time.Hour, target: "http://127.0.0.1:1/"}
	s := &subscriber{sub: sub, wake: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	for i := range 7 {
		s.add(TelemetryEvent{Type: "platform.start", Record: i})
		s.add(TelemetryEvent{Type: "function", Record: "ignored"})
	}
	for {
		b, _ := s.take(false)
		if b == nil {
			break
		}
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
	}
	if len(got) != 2 || len(got[0]) != 3 || len(got[1]) != 3 {
		t.Fatalf("batches before the timeout = %v, want two full batches", got)
	}
	rest, _ := s.take(true)
	if len(rest) != 1 || rest[0].Record != 6 {
		t.Errorf("forced flush = %v, want the last event", rest)
	}
}

func TestSubscriberTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lines := make(chan []string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			lines <- nil
			return
		}
		defer conn.Close()
		var got []string
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		lines <- got
	}()
	sub := subscription{types: []string{"platform", "function"}, maxItems: 1000, maxBytes: maxMaxBytes, timeout: 25 * time.Millisecond, tcp: true, target: ln.Addr().String()}
	s := newSubscriber(sub, []TelemetryEvent{{Time: "t0", Type: "platform.initStart", Record: map[string]any{"phase": "init"}}}, func(Event) {}, nil)
	s.add(TelemetryEvent{Time: "t1", Type: "function", Record: "hello"})
	s.close(context.Background())
	got := <-lines
	want := []string{
		`{"time":"t0","type":"platform.initStart","record":{"phase":"init"}}`,
		`{"time":"t1","type":"function","record":"hello"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("NDJSON lines = %q, want %q", got, want)
	}
}

// newTestSim is a Sim with an environment in its Init phase and no
// processes, for driving the API handlers directly.
func newTestSim(managed bool) *Sim {
	s := &Sim{cfg: Config{ManagedInstances: managed}.withDefaults(), testOnlyNoDelivery: true}
	sb := newSandbox(s, 1)
	sb.byName["ext"] = newExtension("ext", false)
	sb.order = append(sb.order, sb.byName["ext"])
	sb.runtimeStarted = true
	s.current = sb
	return s
}

func FuzzAPIRequests(f *testing.F) {
	paths := []string{
		"POST /2020-01-01/extension/register",
		"GET /2020-01-01/extension/event/next",
		"POST /2020-01-01/extension/init/error",
		"POST /2020-01-01/extension/exit/error",
		"PUT /2022-07-01/telemetry",
		"GET /2018-06-01/runtime/invocation/next",
		"POST /2018-06-01/runtime/invocation/abc/response",
		"POST /2018-06-01/runtime/invocation/abc/error",
		"POST /2018-06-01/runtime/init/error",
		"PUT /2020-08-15/logs",
	}
	f.Add(uint8(0), "ext", "", `{"events":["INVOKE","SHUTDOWN"]}`, false)
	f.Add(uint8(0), "other", "accountId", `{"events":["SHUTDOWN"]}`, true)
	f.Add(uint8(4), "ext", "", `{"schemaVersion":"2025-01-29","types":["platform"],"destination":{"protocol":"TCP","port":7}}`, true)
	f.Add(uint8(7), "", "Runtime.X", `{"errorMessage":"m"}`, false)
	f.Add(uint8(8), "", "", `not json`, false)
	f.Fuzz(func(t *testing.T, which uint8, name, extra, body string, managed bool) {
		s := newTestSim(managed)
		h := s.apiHandler()
		// Register first so identifier-based calls can succeed.
		reg := httptest.NewRequest(http.MethodPost, "/2020-01-01/extension/register", strings.NewReader(`{"events":["SHUTDOWN"]}`))
		reg.Header.Set(HeaderExtensionName, "ext")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, reg)
		id := rec.Header().Get(HeaderExtensionID)

		method, path, _ := strings.Cut(paths[int(which)%len(paths)], " ")
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // blocking calls return at once
		req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(body))
		req.Header.Set(HeaderExtensionName, name)
		req.Header.Set(HeaderAcceptFeature, extra)
		req.Header.Set(HeaderFunctionErrorType, extra)
		req.Header.Set(HeaderExtensionErrorType, extra)
		if name != "" {
			req.Header.Set(HeaderExtensionID, id)
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 202, 400, 403, 404, 405, 413:
		default:
			t.Errorf("%s %s = %d", method, path, rec.Code)
		}
		if b := rec.Body.Bytes(); len(b) > 0 && rec.Code != 404 && rec.Code != 405 && !json.Valid(b) {
			t.Errorf("%s %s body %q is not JSON", method, path, b)
		}
		if rec.Code == 200 && path == "/2020-01-01/extension/register" && (!strings.Contains(rec.Body.String(), `"functionName"`) || rec.Header().Get(HeaderExtensionID) == "") {
			t.Errorf("register 200 without body or id: %s", rec.Body.String())
		}
		for _, sub := range s.current.subs {
			sub.close(context.Background())
		}
	})
}
