package export

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Credentials are AWS credentials for SigV4. In Lambda they are the
// function's role credentials from the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN).
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// ErrNoCredentials is returned when SigV4 signing is asked for but the
// environment holds no AWS credentials.
var ErrNoCredentials = errors.New("export: sigv4: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")

// CredentialsFromEnv reads the Lambda execution role's credentials.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	c := Credentials{
		AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    getenv("AWS_SESSION_TOKEN"),
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, ErrNoCredentials
	}
	return c, nil
}

// SigV4 signs requests with AWS Signature Version 4 (for Amazon Managed
// Prometheus: service "aps"). It signs the host, every header already set
// on the request (except Authorization and User-Agent) and the payload
// hash, and adds X-Amz-Date, X-Amz-Content-Sha256 and, for temporary
// credentials, X-Amz-Security-Token.
type SigV4 struct {
	Credentials Credentials
	Region      string
	Service     string
	// Now returns the signing time; nil means time.Now.
	Now func() time.Time
}

const sigV4Algorithm = "AWS4-HMAC-SHA256"

// Sign adds the SigV4 headers to req, whose body is payload.
func (s *SigV4) Sign(req *http.Request, payload []byte) error {
	if s.Credentials.AccessKeyID == "" || s.Credentials.SecretAccessKey == "" {
		return ErrNoCredentials
	}
	if s.Region == "" || s.Service == "" {
		return errors.New("export: sigv4: region and service are required")
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC()
	amzDate := t.Format("20060102T150405Z")
	day := t.Format("20060102")
	sum := sha256.Sum256(payload)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if s.Credentials.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", s.Credentials.SessionToken)
	}

	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	headers := map[string]string{"host": host}
	for name, values := range req.Header {
		n := strings.ToLower(name)
		if n == "authorization" || n == "user-agent" {
			continue
		}
		vs := make([]string, len(values))
		for i, v := range values {
			vs[i] = strings.Join(strings.Fields(v), " ")
		}
		headers[n] = strings.Join(vs, ",")
	}
	names := make([]string, 0, len(headers))
	for n := range headers {
		names = append(names, n)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, n := range names {
		canonHeaders.WriteString(n)
		canonHeaders.WriteByte(':')
		canonHeaders.WriteString(headers[n])
		canonHeaders.WriteByte('\n')
	}
	signed := strings.Join(names, ";")
	canonical := strings.Join([]string{
		req.Method,
		canonicalPath(req.URL),
		canonicalQuery(req.URL),
		canonHeaders.String(),
		signed,
		payloadHash,
	}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	scope := day + "/" + s.Region + "/" + s.Service + "/aws4_request"
	toSign := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])

	key := hmacSHA256([]byte("AWS4"+s.Credentials.SecretAccessKey), day)
	key = hmacSHA256(key, s.Region)
	key = hmacSHA256(key, s.Service)
	key = hmacSHA256(key, "aws4_request")
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", fmt.Sprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		sigV4Algorithm, s.Credentials.AccessKeyID, scope, signed, sig))
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalPath is the URI-encoded path (each segment encoded once, as
// every service but S3 expects it from an already-escaped path).
func canonicalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if un, err := url.PathUnescape(s); err == nil {
			s = un
		}
		segs[i] = sigV4Escape(s)
	}
	return strings.Join(segs, "/")
}

// canonicalQuery sorts the query by name, then value, SigV4-escaped.
func canonicalQuery(u *url.URL) string {
	q := u.Query()
	if len(q) == 0 {
		return ""
	}
	var pairs []string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, sigV4Escape(k)+"="+sigV4Escape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

// sigV4Escape percent-encodes everything but the unreserved characters
// A-Z a-z 0-9 - _ . ~, as SigV4 requires.
func sigV4Escape(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}
