package export

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSigV4KnownAnswer signs the GET Object example of the Amazon S3 API
// reference ("Signature Calculations for the Authorization Header",
// example "GET Object"), whose canonical request, string to sign and
// signature are published.
func TestSigV4KnownAnswer(t *testing.T) {
	req, err := http.NewRequest(http.MethodGet, "https://examplebucket.s3.amazonaws.com/test.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", "bytes=0-9")
	s := &SigV4{
		Credentials: Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		Region:      "us-east-1",
		Service:     "s3",
		Now:         func() time.Time { return time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC) },
	}
	if err := s.Sign(req, nil); err != nil {
		t.Fatal(err)
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
		"Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization =\n%s\nwant\n%s", got, want)
	}
	if got := req.Header.Get("X-Amz-Content-Sha256"); got != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("X-Amz-Content-Sha256 = %s", got)
	}
}

func TestSigV4SessionTokenAndErrors(t *testing.T) {
	req, _ := http.NewRequest(http.MethodPost, "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write?a=b c&A=1", nil)
	s := &SigV4{Credentials: Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret", SessionToken: "tok"}, Region: "eu-west-1", Service: "aps"}
	if err := s.Sign(req, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	if req.Header.Get("X-Amz-Security-Token") != "tok" || !strings.Contains(auth, "x-amz-security-token") || !strings.Contains(auth, "/eu-west-1/aps/aws4_request") {
		t.Errorf("session token not signed: %s", auth)
	}
	if canonicalQuery(req.URL) != "A=1&a=b%20c" {
		t.Errorf("canonicalQuery = %s", canonicalQuery(req.URL))
	}
	for _, bad := range []*SigV4{{Region: "r", Service: "aps"}, {Credentials: Credentials{AccessKeyID: "a", SecretAccessKey: "b"}, Service: "aps"}} {
		if err := bad.Sign(req, nil); err == nil {
			t.Errorf("Sign(%+v) = nil, want an error", bad)
		}
	}
	if _, err := CredentialsFromEnv(func(string) string { return "" }); err != ErrNoCredentials {
		t.Errorf("CredentialsFromEnv(empty) = %v, want ErrNoCredentials", err)
	}
}

// TestRemoteWriteSigned checks that New with SigV4 on signs each remote
// write with the environment's credentials, and that the receiver can
// verify the signature by recomputing it over what it received.
func TestRemoteWriteSigned(t *testing.T) {
	env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token"}
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		// Recompute the signature over the received request.
		check, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		for _, h := range []string{"Content-Encoding", "Content-Type", "X-Prometheus-Remote-Write-Version", "X-Amz-Security-Token"} {
			check.Header.Set(h, r.Header.Get(h))
		}
		ts, _ := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		s := &SigV4{Credentials: Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "token"},
			Region: "eu-west-1", Service: "aps", Now: func() time.Time { return ts }}
		if err := s.Sign(check, body); err != nil || check.Header.Get("Authorization") != auth {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		got = append(got, auth)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	exps, err := New(Config{RemoteWriteURL: srv.URL + "/workspaces/ws-1/api/v1/remote_write", SigV4: true, Region: "eu-west-1"},
		"fn", "i", io.Discard, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := exps[0].Export(context.Background(), testFamilies(t)); err != nil {
		t.Fatalf("Export() = %v", err)
	}
	if len(got) != 1 || !strings.HasPrefix(got[0], "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") {
		t.Errorf("signed requests = %v", got)
	}
}
