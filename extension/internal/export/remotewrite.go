package export

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/golang/snappy"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protowire"
)

// RemoteWrite sends metric families with Prometheus remote write v1
// (protobuf WriteRequest, snappy block compression).
type RemoteWrite struct {
	// URL is the remote write endpoint.
	URL string
	// Client sends the request; its Timeout bounds one attempt.
	Client *http.Client
	// Function and Instance label every series, with job="lambda-rasp";
	// an empty Instance is left out.
	Function, Instance string
	// Now returns the sample timestamp; nil means time.Now.
	Now func() time.Time
	// Signer, when set, signs each request (SigV4 for Amazon Managed
	// Prometheus) after its headers are set.
	Signer interface {
		Sign(req *http.Request, payload []byte) error
	}
}

// StatusError is a non-2xx answer from a remote endpoint.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Body is the start of the response body.
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("status %d: %s", e.Code, e.Body)
}

// Name returns "remote_write".
func (r *RemoteWrite) Name() string { return "remote_write" }

// Export encodes mfs and posts them. A 5xx answer or a transport error is
// retried while ctx allows; a 4xx answer is not retried.
func (r *RemoteWrite) Export(ctx context.Context, mfs []*dto.MetricFamily) error {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	extra := []Label{{"function", r.Function}, {"instance", r.Instance}, {"job", Job}}
	body := snappy.Encode(nil, EncodeWriteRequest(nil, Series(mfs, extra, now().UnixMilli())))
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		last = r.post(ctx, client, body)
		if last == nil {
			return nil
		}
		if se, ok := last.(*StatusError); ok && se.Code < 500 {
			break
		}
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("export: remote write: %w", last)
}

func (r *RemoteWrite) post(ctx context.Context, client *http.Client, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	if r.Signer != nil {
		if err := r.Signer.Sign(req, body); err != nil {
			return fmt.Errorf("sign: %w", err)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	return &StatusError{Code: resp.StatusCode, Body: string(b)}
}

// Label is one name/value pair of a series.
type Label struct {
	Name, Value string
}

// TimeSeries is one remote write series with a single sample.
type TimeSeries struct {
	// Labels are sorted by name and include __name__.
	Labels []Label
	// Value is the sample value.
	Value float64
	// TimestampMs is the sample time in Unix milliseconds.
	TimestampMs int64
}

// Series converts counters, gauges, untyped metrics and histograms
// (_bucket{le}, _sum, _count) to series labelled with extra and sorted by
// label name. Summaries are skipped. Labels in extra do not override a
// metric's own labels of the same name.
func Series(mfs []*dto.MetricFamily, extra []Label, tsMs int64) []TimeSeries {
	var out []TimeSeries
	for _, mf := range mfs {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			base := make([]Label, 0, len(m.GetLabel())+len(extra)+2)
			for _, lp := range m.GetLabel() {
				base = append(base, Label{lp.GetName(), lp.GetValue()})
			}
			add := func(suffix string, v float64, more ...Label) {
				ls := make([]Label, 0, len(base)+len(extra)+1+len(more))
				ls = append(ls, Label{"__name__", name + suffix})
				ls = append(ls, base...)
				ls = append(ls, more...)
				for _, e := range extra {
					if !hasLabel(ls, e.Name) && e.Value != "" {
						ls = append(ls, e)
					}
				}
				sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
				out = append(out, TimeSeries{Labels: ls, Value: v, TimestampMs: tsMs})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add("", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				add("", m.GetGauge().GetValue())
			case dto.MetricType_UNTYPED:
				add("", m.GetUntyped().GetValue())
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					ub := b.GetUpperBound()
					inf = inf || math.IsInf(ub, 1)
					add("_bucket", float64(b.GetCumulativeCount()), Label{"le", formatLE(ub)})
				}
				if !inf {
					add("_bucket", float64(h.GetSampleCount()), Label{"le", "+Inf"})
				}
				add("_sum", h.GetSampleSum())
				add("_count", float64(h.GetSampleCount()))
			}
		}
	}
	return out
}

func hasLabel(ls []Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

func formatLE(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// EncodeWriteRequest appends the protobuf encoding of a remote write v1
// WriteRequest holding series to dst.
func EncodeWriteRequest(dst []byte, series []TimeSeries) []byte {
	var ts, lb []byte
	for _, s := range series {
		ts = ts[:0]
		for _, l := range s.Labels {
			lb = lb[:0]
			lb = protowire.AppendTag(lb, 1, protowire.BytesType)
			lb = protowire.AppendString(lb, l.Name)
			lb = protowire.AppendTag(lb, 2, protowire.BytesType)
			lb = protowire.AppendString(lb, l.Value)
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendBytes(ts, lb)
		}
		lb = lb[:0]
		lb = protowire.AppendTag(lb, 1, protowire.Fixed64Type)
		lb = protowire.AppendFixed64(lb, math.Float64bits(s.Value))
		lb = protowire.AppendTag(lb, 2, protowire.VarintType)
		lb = protowire.AppendVarint(lb, uint64(s.TimestampMs))
		ts = protowire.AppendTag(ts, 2, protowire.BytesType)
		ts = protowire.AppendBytes(ts, lb)
		dst = protowire.AppendTag(dst, 1, protowire.BytesType)
		dst = protowire.AppendBytes(dst, ts)
	}
	return dst
}
