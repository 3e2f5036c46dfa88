package export

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"
)

// Pushgateway replaces the group job="lambda-rasp", function, instance on
// a Prometheus Pushgateway with every Export (HTTP PUT).
type Pushgateway struct {
	// URL is the Pushgateway base URL.
	URL string
	// Client sends the request; its Timeout bounds one push.
	Client *http.Client
	// Function and Instance name the grouping key.
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
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) { return mfs, nil })
	err := push.New(p.URL, Job).
		Grouping("function", p.Function).
		Grouping("instance", p.Instance).
		Client(client).
		Gatherer(g).
		PushContext(ctx)
	if err != nil {
		return fmt.Errorf("export: pushgateway: %w", err)
	}
	return nil
}
