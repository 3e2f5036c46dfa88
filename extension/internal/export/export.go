package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	dto "github.com/prometheus/client_model/go"
)

// Job is the job label value attached to every exported series.
const Job = "lambda-rasp"

// Exporter sends the current value of every metric family somewhere.
// Export must honour ctx's deadline.
type Exporter interface {
	// Name is the label value for lambda_rasp_export_errors_total{exporter}:
	// "remote_write", "pushgateway" or "emf".
	Name() string
	// Export sends mfs and returns once they are delivered or ctx is done.
	Export(ctx context.Context, mfs []*dto.MetricFamily) error
}

// ErrSigV4Unsupported is returned by New when SigV4 signing is requested;
// the signer is not part of this build.
var ErrSigV4Unsupported = errors.New("export: sigv4 signing is not supported by this build")

// New builds the exporters that cfg enables, in a fixed order (remote
// write, Pushgateway, EMF). function and instance label every series; EMF
// lines go to stdout. getenv is reserved for credentials and may be nil.
// A Config with nothing enabled yields no exporters and no error.
func New(cfg Config, function, instance string, stdout io.Writer, getenv func(string) string) ([]Exporter, error) {
	_ = getenv
	client := &http.Client{Timeout: cfg.timeout()}
	var out []Exporter
	if cfg.RemoteWriteURL != "" {
		if cfg.SigV4 {
			return nil, fmt.Errorf("export: remote write: %w", ErrSigV4Unsupported)
		}
		out = append(out, &RemoteWrite{URL: cfg.RemoteWriteURL, Client: client, Function: function, Instance: instance})
	}
	if cfg.PushgatewayURL != "" {
		out = append(out, &Pushgateway{URL: cfg.PushgatewayURL, Client: client, Function: function, Instance: instance})
	}
	if cfg.EMF {
		if stdout == nil {
			return nil, errors.New("export: emf: nil writer")
		}
		out = append(out, NewEMF(stdout, function))
	}
	return out, nil
}
