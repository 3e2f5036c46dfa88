package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

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

// New builds the exporters that cfg enables, in a fixed order (remote
// write, Pushgateway, EMF). function labels every series; instance labels
// remote write series and the Pushgateway group only when
// cfg.InstanceLabel is set. EMF lines go to stdout. getenv supplies the AWS credentials for SigV4
// (nil means os.Getenv); they are read again for every signature.
// A Config with nothing enabled yields no exporters and no error.
func New(cfg Config, function, instance string, stdout io.Writer, getenv func(string) string) ([]Exporter, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	client := &http.Client{Timeout: cfg.timeout()}
	if !cfg.InstanceLabel {
		instance = ""
	}
	var out []Exporter
	if cfg.RemoteWriteURL != "" {
		rw := &RemoteWrite{URL: cfg.RemoteWriteURL, Client: client, Function: function, Instance: instance}
		if cfg.SigV4 {
			if _, err := CredentialsFromEnv(getenv); err != nil {
				return nil, fmt.Errorf("export: remote write: %w", err)
			}
			rw.Signer = &envSigner{getenv: getenv, region: cfg.Region}
		}
		out = append(out, rw)
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

// envSigner signs with SigV4 for Amazon Managed Prometheus (service
// "aps") using the credentials currently in the environment.
type envSigner struct {
	getenv func(string) string
	region string
}

func (e *envSigner) Sign(req *http.Request, payload []byte) error {
	c, err := CredentialsFromEnv(e.getenv)
	if err != nil {
		return err
	}
	return (&SigV4{Credentials: c, Region: e.region, Service: "aps"}).Sign(req, payload)
}
