package export

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
)

// Pushgateway replaces the group job="lambda-rasp", function (and
// instance, when set) on a Prometheus Pushgateway with every Export (HTTP
// PUT). Without instance, the execution environments of one function share
// one group: the last push wins, so the counters are those of one
// environment, correct only while a function runs one at a time.
type Pushgateway struct {
	// URL is the Pushgateway base URL.
	URL string
	// Client sends the request; its Timeout bounds one push.
	Client *http.Client
	// Function and Instance name the grouping key; an empty Instance is
	// left out of it.
	Function, Instance string
}

// Name returns "pushgateway".
func (p *Pushgateway) Name() string { return "pushgateway" }

// Export pushes mfs, replacing the group.
func (p *Pushgateway) Export(ctx context.Context, mfs []*dto.MetricFamily) error {
	client := p.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	mfs = withoutLabels(mfs, map[string]string{"function": p.Function, "instance": p.Instance, "job": Job})
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
	// Credentials in the URL go as basic auth, not in the URL: the push
	// client repeats its URL in error messages, which get logged.
	base, user := p.URL, (*url.Userinfo)(nil)
	if u, err := url.Parse(p.URL); err == nil && u.User != nil {
		user, u.User = u.User, nil
		base = u.String()
	}
	pusher := push.New(base, Job).
		Grouping("function", p.Function).
		Client(client).
		Gatherer(g)
	if p.Instance != "" {
		pusher = pusher.Grouping("instance", p.Instance)
	}
	if user != nil {
		pw, _ := user.Password()
		pusher = pusher.BasicAuth(user.Username(), pw)
	}
	if err := pusher.PushContext(ctx); err != nil {
		return fmt.Errorf("export: pushgateway: %w", err)
	}
	return nil
}

// withoutLabels returns mfs without the labels of group whose value is the
// group's: the push client refuses series that carry a grouping label, and
// the Pushgateway adds the grouping labels back to every series it serves.
// mfs is not modified; families without such labels are shared.
func withoutLabels(mfs []*dto.MetricFamily, group map[string]string) []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(mfs))
	for _, mf := range mfs {
		if !hasGroupLabel(mf, group) {
			out = append(out, mf)
			continue
		}
		c := &dto.MetricFamily{Name: mf.Name, Help: mf.Help, Type: mf.Type, Unit: mf.Unit}
		for _, m := range mf.GetMetric() {
			cm := &dto.Metric{Gauge: m.Gauge, Counter: m.Counter, Summary: m.Summary, Untyped: m.Untyped,
				Histogram: m.Histogram, TimestampMs: m.TimestampMs}
			for _, lp := range m.GetLabel() {
				if v, ok := group[lp.GetName()]; ok && v == lp.GetValue() {
					continue
				}
				cm.Label = append(cm.Label, lp)
			}
			c.Metric = append(c.Metric, cm)
		}
		out = append(out, c)
	}
	return out
}

func hasGroupLabel(mf *dto.MetricFamily, group map[string]string) bool {
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if v, ok := group[lp.GetName()]; ok && v == lp.GetValue() {
				return true
			}
		}
	}
	return false
}
