package export

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/encoding/protowire"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testFamilies builds a registry with the project's metric shapes.
func testFamilies(t testing.TB) []*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	det := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lambda_rasp_detections_total", Help: "Detections."}, []string{"rule", "category", "action", "source"})
	insp := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lambda_rasp_inspections_total", Help: "Inspections."}, []string{"decision"})
	dur := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lambda_rasp_inspection_duration_seconds", Help: "Duration.", Buckets: []float64{0.00001, 0.0001, 0.001}})
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lambda_rasp_policy_info", Help: "Policy."}, []string{"name", "version"})
	reg.MustRegister(det, insp, dur, info)
	det.WithLabelValues("sqli", "sqli", "block", "body").Add(3)
	det.WithLabelValues("xss", "xss", "monitor", "query").Inc()
	insp.WithLabelValues("allow").Add(10)
	insp.WithLabelValues("block").Add(3)
	dur.Observe(0.00002)
	dur.Observe(0.0005)
	info.WithLabelValues("default", "1").Set(1)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		give    map[string]string
		want    Config
		wantVar string
	}{
		{name: "none", give: nil, want: Config{FlushInterval: DefaultFlushInterval, Timeout: DefaultTimeout}},
		{name: "all", give: map[string]string{
			EnvRemoteWriteURL: "https://aps.example/api/v1/remote_write", EnvRemoteWriteSigV4: "on", EnvRegion: "eu-west-1",
			EnvPushgatewayURL: "http://127.0.0.1:9091", EnvEMF: "on", EnvMetricsAddr: "127.0.0.1:9464",
			EnvFlushInterval: "30s", EnvExportTimeout: "200ms",
		}, want: Config{RemoteWriteURL: "https://aps.example/api/v1/remote_write", SigV4: true, Region: "eu-west-1",
			PushgatewayURL: "http://127.0.0.1:9091", EMF: true, MetricsAddr: "127.0.0.1:9464",
			FlushInterval: 30 * time.Second, Timeout: 200 * time.Millisecond}},
		{name: "localhost and ipv6", give: map[string]string{EnvMetricsAddr: "[::1]:0"}, want: Config{MetricsAddr: "[::1]:0", FlushInterval: DefaultFlushInterval, Timeout: DefaultTimeout}},
		{name: "bad remote write scheme", give: map[string]string{EnvRemoteWriteURL: "ftp://x"}, wantVar: EnvRemoteWriteURL},
		{name: "remote write no host", give: map[string]string{EnvRemoteWriteURL: "http://"}, wantVar: EnvRemoteWriteURL},
		{name: "bad sigv4", give: map[string]string{EnvRemoteWriteSigV4: "maybe"}, wantVar: EnvRemoteWriteSigV4},
		{name: "sigv4 without region", give: map[string]string{EnvRemoteWriteSigV4: "on"}, wantVar: EnvRegion},
		{name: "bad pushgateway", give: map[string]string{EnvPushgatewayURL: "::nope"}, wantVar: EnvPushgatewayURL},
		{name: "bad emf", give: map[string]string{EnvEMF: "yes please"}, wantVar: EnvEMF},
		{name: "public metrics addr", give: map[string]string{EnvMetricsAddr: "0.0.0.0:9464"}, wantVar: EnvMetricsAddr},
		{name: "metrics addr no port", give: map[string]string{EnvMetricsAddr: "127.0.0.1"}, wantVar: EnvMetricsAddr},
		{name: "bad flush", give: map[string]string{EnvFlushInterval: "soon"}, wantVar: EnvFlushInterval},
		{name: "negative timeout", give: map[string]string{EnvExportTimeout: "-1s"}, wantVar: EnvExportTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(func(k string) string { return tt.give[k] })
			if tt.wantVar != "" {
				var ee *EnvError
				if !errors.As(err, &ee) || ee.Var != tt.wantVar {
					t.Fatalf("FromEnv() error = %v, want *EnvError for %s", err, tt.wantVar)
				}
				if !strings.Contains(err.Error(), tt.wantVar) {
					t.Errorf("error %q does not name %s", err, tt.wantVar)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("FromEnv() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzFromEnv(f *testing.F) {
	f.Add("http://127.0.0.1:9091", "10s", "127.0.0.1:9464")
	f.Add("::", "-3", "0.0.0.0:1")
	f.Fuzz(func(t *testing.T, u, d, addr string) {
		env := map[string]string{EnvPushgatewayURL: u, EnvRemoteWriteURL: u, EnvFlushInterval: d, EnvExportTimeout: d, EnvMetricsAddr: addr}
		cfg, err := FromEnv(func(k string) string { return env[k] })
		if err != nil {
			return
		}
		if cfg.Timeout <= 0 || cfg.FlushInterval <= 0 {
			t.Errorf("non-positive durations accepted: %+v", cfg)
		}
		if cfg.MetricsAddr != "" && checkLoopback(cfg.MetricsAddr) != nil {
			t.Errorf("non-loopback address accepted: %q", cfg.MetricsAddr)
		}
	})
}

func TestNew(t *testing.T) {
	exps, err := New(Config{}, "fn", "i", io.Discard, nil)
	if err != nil || len(exps) != 0 {
		t.Fatalf("New(empty) = %v, %v, want none", exps, err)
	}
	exps, err = New(Config{RemoteWriteURL: "http://x", PushgatewayURL: "http://y", EMF: true}, "fn", "i", io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range exps {
		got = append(got, e.Name())
	}
	if want := []string{"remote_write", "pushgateway", "emf"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
	if _, err := New(Config{RemoteWriteURL: "http://x", SigV4: true, Region: "eu-west-1"}, "fn", "i", io.Discard, func(string) string { return "" }); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("New(sigv4 without credentials) error = %v, want ErrNoCredentials", err)
	}
}

func TestServe(t *testing.T) {
	ctx := context.Background()
	if s, err := Serve(ctx, "0.0.0.0:0", prometheus.NewRegistry()); err == nil || !errors.Is(err, ErrNotLoopback) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Serve(0.0.0.0:0) error = %v, want ErrNotLoopback", err)
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "lambda_rasp_invocations_total", Help: "x"})
	reg.MustRegister(c)
	c.Add(2)
	s, err := Serve(ctx, "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "lambda_rasp_invocations_total 2") {
		t.Errorf("body = %q, want the counter", body)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
}

func TestPushgateway(t *testing.T) {
	var gotMethod, gotPath string
	var gotFamilies map[string]*dto.MetricFamily
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotMethod, gotPath = r.Method, r.URL.Path
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		gotFamilies = map[string]*dto.MetricFamily{}
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				break
			}
			gotFamilies[mf.GetName()] = &mf
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	p := &Pushgateway{URL: srv.URL, Client: srv.Client(), Function: "orders", Instance: "2026/11/23/[$LATEST]abc"}
	if err := p.Export(context.Background(), testFamilies(t)); err != nil {
		t.Fatal(err)
	}
	if gotMethod != http.MethodPut {
		t.Errorf("method = %s, want PUT", gotMethod)
	}
	// The client orders grouping labels as it likes; both must be there.
	inst := "/instance@base64/" + base64.RawURLEncoding.EncodeToString([]byte("2026/11/23/[$LATEST]abc"))
	if !strings.HasPrefix(gotPath, "/metrics/job/lambda-rasp/") || !strings.Contains(gotPath, "/function/orders") || !strings.Contains(gotPath, inst) {
		t.Errorf("path = %s, want job, function and instance (%s) in the grouping key", gotPath, inst)
	}
	mf := gotFamilies["lambda_rasp_detections_total"]
	if mf == nil || len(mf.GetMetric()) != 2 {
		t.Fatalf("pushed families = %v, want detections with 2 series", gotFamilies)
	}

	// Series labelled with the grouping key's function (as the
	// extension's are) are pushed without it; the Pushgateway adds it.
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lambda_rasp_inspections_total", Help: "x"}, []string{"function", "decision"})
	reg.MustRegister(c)
	c.WithLabelValues("orders", "block").Add(2)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Export(context.Background(), mfs); err != nil {
		t.Fatalf("Export() of series with a function label = %v", err)
	}
	got := gotFamilies["lambda_rasp_inspections_total"].GetMetric()
	if len(got) != 1 || len(got[0].GetLabel()) != 1 || got[0].GetLabel()[0].GetName() != "decision" || got[0].GetCounter().GetValue() != 2 {
		t.Errorf("pushed %v, want one series labelled decision only", got)
	}
	if len(mfs[0].GetMetric()[0].GetLabel()) != 2 {
		t.Error("Export modified its input")
	}
}

// decodeWriteRequest is an independent protobuf reader for the test.
func decodeWriteRequest(t *testing.T, b []byte) []TimeSeries {
	t.Helper()
	var out []TimeSeries
	next := func(b []byte) (protowire.Number, protowire.Type, []byte, uint64, []byte) {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag")
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				t.Fatalf("bad bytes")
			}
			return num, typ, v, 0, b[n:]
		case protowire.Fixed64Type:
			v, n := protowire.ConsumeFixed64(b)
			return num, typ, nil, v, b[n:]
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			return num, typ, nil, v, b[n:]
		}
		t.Fatalf("unexpected wire type %v", typ)
		return 0, 0, nil, 0, nil
	}
	for len(b) > 0 {
		num, _, tsb, _, rest := next(b)
		b = rest
		if num != 1 {
			t.Fatalf("WriteRequest field %d, want 1", num)
		}
		var ts TimeSeries
		for len(tsb) > 0 {
			num, _, v, _, rest := next(tsb)
			tsb = rest
			switch num {
			case 1:
				var l Label
				for len(v) > 0 {
					n, _, s, _, r := next(v)
					v = r
					if n == 1 {
						l.Name = string(s)
					} else {
						l.Value = string(s)
					}
				}
				ts.Labels = append(ts.Labels, l)
			case 2:
				for len(v) > 0 {
					n, _, _, x, r := next(v)
					v = r
					if n == 1 {
						ts.Value = math.Float64frombits(x)
					} else {
						ts.TimestampMs = int64(x)
					}
				}
			}
		}
		out = append(out, ts)
	}
	return out
}

func TestRemoteWriteRoundTrip(t *testing.T) {
	var body []byte
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr = r.Header
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	rw := &RemoteWrite{URL: srv.URL, Client: srv.Client(), Function: "orders", Instance: "i-1", Now: func() time.Time { return at }}
	mfs := testFamilies(t)
	if err := rw.Export(context.Background(), mfs); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf", "X-Prometheus-Remote-Write-Version": "0.1.0"} {
		if got := hdr.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeWriteRequest(t, raw)
	want := Series(mfs, []Label{{"function", "orders"}, {"instance", "i-1"}, {"job", Job}}, at.UnixMilli())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded series = %v, want %v", got, want)
	}
	// 2 detections + 2 inspections + 1 info + histogram (3 buckets, +Inf, sum, count).
	if len(got) != 11 {
		t.Errorf("len(series) = %d, want 11", len(got))
	}
	find := func(name string, kv ...string) *TimeSeries {
		for i := range got {
			m := map[string]string{}
			for _, l := range got[i].Labels {
				m[l.Name] = l.Value
			}
			ok := m["__name__"] == name
			for j := 0; ok && j+1 < len(kv); j += 2 {
				ok = m[kv[j]] == kv[j+1]
			}
			if ok {
				return &got[i]
			}
		}
		return nil
	}
	if s := find("lambda_rasp_detections_total", "rule", "sqli", "job", Job, "function", "orders"); s == nil || s.Value != 3 || s.TimestampMs != at.UnixMilli() {
		t.Errorf("sqli detections = %+v, want 3 at %d", s, at.UnixMilli())
	}
	if s := find("lambda_rasp_inspection_duration_seconds_bucket", "le", "0.0001"); s == nil || s.Value != 1 {
		t.Errorf("bucket le=0.0001 = %+v, want 1", s)
	}
	if s := find("lambda_rasp_inspection_duration_seconds_bucket", "le", "+Inf"); s == nil || s.Value != 2 {
		t.Errorf("bucket le=+Inf = %+v, want 2", s)
	}
	for _, s := range got {
		for i := 1; i < len(s.Labels); i++ {
			if s.Labels[i-1].Name >= s.Labels[i].Name {
				t.Errorf("labels not sorted: %v", s.Labels)
			}
		}
	}
}

func TestRemoteWriteStatus(t *testing.T) {
	tests := []struct {
		name      string
		give      int
		wantCalls int
	}{
		{name: "4xx not retried", give: http.StatusBadRequest, wantCalls: 1},
		{name: "5xx retried", give: http.StatusServiceUnavailable, wantCalls: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.WriteHeader(tt.give)
				io.WriteString(w, strings.Repeat("e", 4096))
			}))
			defer srv.Close()
			rw := &RemoteWrite{URL: srv.URL, Client: srv.Client(), Function: "f", Instance: "i"}
			err := rw.Export(context.Background(), testFamilies(t))
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tt.give {
				t.Fatalf("Export() error = %v, want *StatusError %d", err, tt.give)
			}
			if len(se.Body) > 256 {
				t.Errorf("len(body) = %d, want truncated to 256", len(se.Body))
			}
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
		})
	}
}

// blackHole accepts connections and never answers.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

func TestBlackHoleTimesOut(t *testing.T) {
	url := blackHole(t)
	exps, err := New(Config{RemoteWriteURL: url, PushgatewayURL: url, Timeout: 100 * time.Millisecond}, "f", "i", io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exps {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := e.Export(ctx, testFamilies(t))
		cancel()
		if err == nil {
			t.Errorf("%s: Export() to a black hole succeeded", e.Name())
		}
	}
}

func TestEMFGolden(t *testing.T) {
	var buf bytes.Buffer
	e := NewEMF(&buf, "orders")
	e.Now = func() time.Time { return time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC) }
	mfs := testFamilies(t)
	if err := e.Export(context.Background(), mfs); err != nil {
		t.Fatal(err)
	}
	if err := e.Export(context.Background(), mfs); err != nil { // no new counts: deltas are 0
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "emf.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != string(want) {
		t.Errorf("EMF output =\n%s\nwant\n%s", got, want)
	}
}

// TestPushgatewayCredentialsStayOutOfErrors: credentials in the
// Pushgateway URL are sent as basic auth and never appear in an error,
// which the extension logs.
func TestPushgatewayCredentialsStayOutOfErrors(t *testing.T) {
	var gotUser, gotPass string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	u := strings.Replace(srv.URL, "http://", "http://ops:s3cret@", 1)
	p := &Pushgateway{URL: u, Client: srv.Client(), Function: "orders", Instance: "i"}
	err := p.Export(context.Background(), testFamilies(t))
	if err == nil {
		t.Fatal("Export() = nil, want the 401")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "ops:") {
		t.Errorf("error carries the credentials: %v", err)
	}
	if gotUser != "ops" || gotPass != "s3cret" {
		t.Errorf("basic auth = %q/%q, want ops/s3cret", gotUser, gotPass)
	}
}
