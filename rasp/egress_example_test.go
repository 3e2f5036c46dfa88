package rasp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/lambda-rasp/lambda-rasp/rasp"
)

// A client whose connections are decided by the egress policy on the
// address actually dialled. The instance metadata service is always
// refused, whatever its spelling, and no packet leaves.
func ExampleHTTPClient() {
	client := rasp.HTTPClient()
	// With the AWS SDK for Go v2:
	//
	//	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(rasp.HTTPClient()))
	_, err := client.Get("http://[::ffff:169.254.169.254]/latest/meta-data/iam/security-credentials/")
	var be *rasp.BlockedError
	fmt.Println(errors.As(err, &be), be.Sink, be.Dest)
	// Output: true egress [::ffff:169.254.169.254]:80
}

// Wrapping an existing transport keeps its settings (timeouts, TLS,
// proxy); its dials go through the guard.
func ExampleTransport() {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 32
	client := &http.Client{Transport: rasp.Transport(base)}
	// The AWS SDK for Go v2 takes any *http.Client:
	//
	//	config.LoadDefaultConfig(ctx, config.WithHTTPClient(client))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://169.254.170.2/v2/credentials", nil)
	_, err := client.Do(req)
	var be *rasp.BlockedError
	fmt.Println(errors.As(err, &be), be.Dest)
	// Output: true 169.254.170.2:80
}

// Protect guards http.Get, http.DefaultClient, &http.Client{} and
// clones of http.DefaultTransport for the whole process, while the Lambda
// runtime client keeps reaching the Runtime API. Call it first in main.
func ExampleProtect() {
	rasp.Protect()
	handler := func(ctx context.Context, url string) (int, error) {
		resp, err := http.Get(url) // refused when the policy denies the destination
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		return resp.StatusCode, nil
	}
	rasp.Start(handler)
}

// Database drivers, gRPC and other clients that take a dial function or a
// *net.Dialer get the same check.
func ExampleDialContext() {
	_, err := rasp.DialContext(context.Background(), "tcp", "0.0.0.0:5432")
	fmt.Println(errors.As(err, new(*rasp.BlockedError)))

	d := rasp.Dialer(&net.Dialer{})
	_, err = d.DialContext(context.Background(), "tcp", "[fe80::1]:22")
	fmt.Println(errors.As(err, new(*rasp.BlockedError)))
	// Output:
	// true
	// true
}
