package policy

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSources(t *testing.T) {
	dir := t.TempDir()
	filePolicy := writeFile(t, dir, "file.yaml", "version: 1\nname: from-file\n")
	layerPolicy := writeFile(t, dir, "layer.yaml", "version: 1\nname: from-layer\n")
	missing := filepath.Join(dir, "missing.yaml")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "s3cret" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		w.Write([]byte("version: 1\nname: from-url\n"))
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		env        map[string]string
		layer      string
		wantName   string
		wantOrigin string
		wantMode   Mode
	}{
		{"url first", map[string]string{EnvPolicyURL: srv.URL + "/p?token=s3cret", EnvPolicy: filePolicy}, layerPolicy, "from-url", "url " + srv.URL + "/p", ModeBlock},
		{"file", map[string]string{EnvPolicy: filePolicy}, layerPolicy, "from-file", "file " + filePolicy, ModeBlock},
		{"layer", map[string]string{}, layerPolicy, "from-layer", "file " + layerPolicy, ModeBlock},
		{"embedded default", map[string]string{}, missing, "default", "embedded default", ModeBlock},
		{"mode forced", map[string]string{EnvMode: "monitor"}, missing, "default", "embedded default", ModeMonitor},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := load(context.Background(), envOf(tt.env), tt.layer, http.DefaultTransport)
			if err != nil {
				t.Fatalf("load() error = %v", err)
			}
			if p.DisplayName() != tt.wantName || p.Origin != tt.wantOrigin || p.EffectiveMode() != tt.wantMode {
				t.Errorf("load() = name %q origin %q mode %v, want %q %q %v", p.DisplayName(), p.Origin, p.EffectiveMode(), tt.wantName, tt.wantOrigin, tt.wantMode)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "version: 1\nmood: block\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte("version: 1\n# " + strings.Repeat("x", MaxPolicyBytes)))
		case "/bad":
			w.Write([]byte("version: 1\nmood: block\n"))
		case "/garbage":
			w.Write([]byte("\x00\xff\xfe<html>\x1b[31m{{{"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/policy.yaml"
	down.Close() // connection refused from now on

	tests := []struct {
		name  string
		ctx   context.Context
		env   map[string]string
		check func(err error) bool
	}{
		{"missing file", context.Background(), map[string]string{EnvPolicy: filepath.Join(dir, "nope.yaml")},
			func(err error) bool { return errors.Is(err, fs.ErrNotExist) }},
		{"invalid file", context.Background(), map[string]string{EnvPolicy: bad},
			func(err error) bool { var pe *Error; return errors.As(err, &pe) && pe.Line == 2 }},
		{"bad mode", context.Background(), map[string]string{EnvMode: "loud"},
			func(err error) bool { return err != nil && strings.Contains(err.Error(), EnvMode) }},
		{"http 404", context.Background(), map[string]string{EnvPolicyURL: srv.URL + "/missing?token=s3cret"},
			func(err error) bool {
				var fe *FetchError
				return errors.As(err, &fe) && fe.Status == 404 && !strings.Contains(err.Error(), "s3cret")
			}},
		{"too large", context.Background(), map[string]string{EnvPolicyURL: srv.URL + "/big"},
			func(err error) bool {
				var fe *FetchError
				return errors.As(err, &fe) && errors.Is(err, ErrTooLarge)
			}},
		{"invalid remote policy", context.Background(), map[string]string{EnvPolicyURL: srv.URL + "/bad"},
			func(err error) bool { var pe *Error; return errors.As(err, &pe) && pe.File == srv.URL+"/bad" }},
		{"server down", context.Background(), map[string]string{EnvPolicyURL: downURL},
			func(err error) bool { var fe *FetchError; return errors.As(err, &fe) }},
		{"garbage bytes", context.Background(), map[string]string{EnvPolicyURL: srv.URL + "/garbage"},
			func(err error) bool { var pe *Error; return errors.As(err, &pe) }},
		{"not http", context.Background(), map[string]string{EnvPolicyURL: "file:///etc/passwd"},
			func(err error) bool { var fe *FetchError; return errors.As(err, &fe) }},
		{"cancelled", cancelled, map[string]string{EnvPolicyURL: srv.URL + "/bad"},
			func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(tt.ctx, envOf(tt.env), filepath.Join(dir, "none.yaml"), http.DefaultTransport)
			if !tt.check(err) {
				t.Errorf("load() error = %v (%T), not the expected one", err, err)
			}
		})
	}
}

func TestLoadDefaultPath(t *testing.T) {
	if _, err := os.Stat(LayerPolicyPath); err == nil {
		t.Skip(LayerPolicyPath + " exists on this machine")
	}
	p, err := Load(context.Background(), envOf(nil))
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if p.Origin != "embedded default" {
		t.Errorf("Origin = %q, want embedded default", p.Origin)
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Default()
	if p.Mode != ModeBlock || p.OnError != ActionBlock || p.OnErrorBy != failClosed() || p.Name != "default" {
		t.Errorf("Default() = mode %v on_error %v name %q", p.Mode, p.OnError, p.Name)
	}
	detectors := map[string]bool{}
	for _, r := range p.Inputs {
		detectors[r.Detector] = true
	}
	for _, want := range []string{"sqli", "xss", "cmdi", "traversal", "ssrf", "jndi", "nosql", "ssti", "proto", "crlf"} {
		if !detectors[want] {
			t.Errorf("default policy lacks detector %q", want)
		}
	}
	if p.Egress.Default != "allow" || len(p.Egress.Deny) == 0 {
		t.Errorf("default egress = %+v, want allow with inward denies", p.Egress)
	}
	if p.Sinks.SQL.Mode != ModeBlock || p.Sinks.Exec.Deny || len(p.Sinks.Files.Deny) != 3 {
		t.Errorf("default sinks = %+v", p.Sinks)
	}
	if len(p.Tests) < 3 {
		t.Errorf("default policy has %d tests, want a few", len(p.Tests))
	}
	for _, tc := range p.Tests {
		if _, err := os.Stat(tc.Event); err != nil {
			t.Errorf("default policy test %q: %v", tc.Name, err)
		}
	}
	// Each call returns an independent copy.
	p.Inputs[0].ID = "changed"
	if Default().Inputs[0].ID == "changed" {
		t.Error("Default() returned shared state")
	}
	if p.DisplayName() != "default" || p.Origin != "embedded default" {
		t.Errorf("Default() name %q origin %q", p.DisplayName(), p.Origin)
	}
}
