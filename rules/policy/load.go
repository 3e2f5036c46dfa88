package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"time"
)

// The environment variables read by [Load]; their names are part of
// the product's contract.
const (
	// EnvPolicyURL is an HTTP URL the policy is fetched from at init, for
	// example the AWS AppConfig agent on http://localhost:2772/....
	EnvPolicyURL = "LAMBDA_RASP_POLICY_URL"
	// EnvPolicy is the path of a policy file.
	EnvPolicy = "LAMBDA_RASP_POLICY"
	// EnvMode forces the global mode: block, monitor or off.
	EnvMode = "LAMBDA_RASP_MODE"
	// LayerPolicyPath is where a policy shipped in a layer is found when
	// neither variable is set.
	LayerPolicyPath = "/opt/lambda-rasp/policy.yaml"
	// fetchTimeout bounds the policy fetch from EnvPolicyURL.
	fetchTimeout = 2 * time.Second
)

// Load loads the policy the environment selects, for the in-process
// wrapper and the extension alike, without compiling it:
//
//  1. LAMBDA_RASP_POLICY_URL: fetched with an HTTP GET (2 s timeout, at
//     most [MaxPolicyBytes]); a failure is a [*FetchError].
//  2. else LAMBDA_RASP_POLICY: a file path; an error if it is missing.
//  3. else /opt/lambda-rasp/policy.yaml, if it exists.
//  4. else the embedded default policy.
//
// LAMBDA_RASP_MODE, if set, is parsed with [ParseMode] (an invalid value
// is an error) and recorded as the policy's ForcedMode, which the engine
// applies once, when it compiles the policy: "monitor" makes every rule
// monitor-only, "off" disables inspection, "block" sets the global mode
// while rules that explicitly ask for monitor or off keep it. The
// policy's Origin tells where it came from. getenv is usually
// [os.Getenv], which a nil getenv stands for.
func Load(ctx context.Context, getenv func(string) string) (*Policy, error) {
	return load(ctx, getenv, LayerPolicyPath, http.DefaultTransport)
}

func load(ctx context.Context, getenv func(string) string, layerPath string, rt http.RoundTripper) (*Policy, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var force *Mode
	if s := getenv(EnvMode); s != "" {
		m, err := ParseMode(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMode, err)
		}
		force = &m
	}
	var (
		p      *Policy
		origin string
		err    error
	)
	switch {
	case getenv(EnvPolicyURL) != "":
		raw := getenv(EnvPolicyURL)
		var data []byte
		data, err = fetchPolicy(ctx, raw, rt)
		if err != nil {
			return nil, err
		}
		shown := redactURL(raw)
		p, err = Parse(shown, data)
		origin = "url " + shown
	case getenv(EnvPolicy) != "":
		path := getenv(EnvPolicy)
		p, err = LoadFile(path)
		origin = "file " + path
	default:
		p, err = LoadFile(layerPath)
		origin = "file " + layerPath
		if errors.Is(err, fs.ErrNotExist) {
			p, err = Parse(DefaultFile, defaultYAML)
			origin = "embedded default"
		}
	}
	if err != nil {
		return nil, err
	}
	p.Origin, p.ForcedMode = origin, force
	return p, nil
}

// ParseFetched parses data fetched from LAMBDA_RASP_POLICY_URL exactly as
// [Load] would have: the same Origin, and LAMBDA_RASP_MODE recorded as
// the ForcedMode. A live reload (package live) uses it, so a policy
// polled later gets the version Load would have given it. getenv is
// usually [os.Getenv], which a nil getenv stands for.
func ParseFetched(getenv func(string) string, data []byte) (*Policy, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var force *Mode
	if s := getenv(EnvMode); s != "" {
		m, err := ParseMode(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvMode, err)
		}
		force = &m
	}
	shown := redactURL(getenv(EnvPolicyURL))
	p, err := Parse(shown, data)
	if err != nil {
		return nil, err
	}
	p.Origin, p.ForcedMode = "url "+shown, force
	return p, nil
}

// fetchPolicy GETs the policy at raw, bounded in time and size.
func fetchPolicy(ctx context.Context, raw string, rt http.RoundTripper) ([]byte, error) {
	shown := redactURL(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &FetchError{URL: shown, Err: errors.New("want an http or https URL")}
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, &FetchError{URL: shown, Err: err}
	}
	req.Header.Set("Accept", "application/yaml, text/yaml, text/plain, */*")
	client := &http.Client{Transport: rt, Timeout: fetchTimeout}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &FetchError{URL: shown, Err: stripURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &FetchError{URL: shown, Status: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicyBytes+1))
	if err != nil {
		return nil, &FetchError{URL: shown, Status: resp.StatusCode, Err: err}
	}
	if len(data) > MaxPolicyBytes {
		return nil, &FetchError{URL: shown, Status: resp.StatusCode,
			Err: fmt.Errorf("policy is larger than %d bytes: %w", MaxPolicyBytes, ErrTooLarge)}
	}
	return data, nil
}

// redactURL drops the query, fragment and user info of a URL, which may
// carry tokens.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	return u.String()
}

// stripURLError unwraps a *url.Error, whose message repeats the full URL.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
