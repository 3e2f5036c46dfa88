// Command fn is a test function for the extension's end-to-end tests: a
// handler wrapped with rasp.Start (the input guard reports to the
// extension's socket) that, when the event says {"emit": [...]}, also
// writes the named raw datagrams to the socket, standing in for sink
// guards and for broken or hostile senders. {"fail": "msg"} returns an
// error and {"sleepMs": n} sleeps first.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lambda-rasp/lambda-rasp/rasp"
	"github.com/lambda-rasp/lambda-rasp/rasp/wire"
)

// datagrams are raw wire datagrams by name; "REQ" is replaced with the
// request id.
var datagrams = map[string]string{
	"sql":          `{"v":1,"kind":"sink","req":"REQ","src":"json","sink":"sql","action":"block","rule":"sqli-sink","cat":"sqli","source":"body","path":"body.name","excerpt":"' OR 1=1--","reason":"input spans tokens","policy":"test@1"}`,
	"egress-deny":  `{"v":1,"kind":"egress","req":"REQ","sink":"egress","action":"block","rule":"egress-deny","cat":"egress","dest":"169.254.169.254:80","class":"metadata","reason":"metadata address","policy":"test@1"}`,
	"egress-allow": `{"v":1,"kind":"egress","req":"REQ","sink":"egress","action":"allow","class":"public","dest":"example.com:443"}`,
	"dropped":      `{"v":1,"kind":"sink","req":"REQ","sink":"file","action":"allow","dropped":4}`,
	"long-excerpt": `{"v":1,"kind":"detection","req":"REQ","src":"json","action":"monitor","rule":"not-in-policy","cat":"xss","source":"body","path":"body.c","excerpt":"` + strings.Repeat("<", 1000) + `"}`,
	"malformed":    `{"v":1,`,
	"version":      `{"v":9,"kind":"sink"}`,
	"oversized":    `{"v":1,"kind":"sink","reason":"` + strings.Repeat("x", wire.MaxDatagram) + `"}`,
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var req struct {
		Emit    []string `json:"emit"`
		Fail    string   `json:"fail"`
		SleepMs int      `json:"sleepMs"`
	}
	_ = json.Unmarshal(raw, &req)
	if req.Fail != "" {
		return nil, errors.New(req.Fail)
	}
	if req.SleepMs > 0 {
		time.Sleep(time.Duration(req.SleepMs) * time.Millisecond)
	}
	if len(req.Emit) > 0 {
		id := ""
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			id = lc.AwsRequestID
		}
		path := os.Getenv("LAMBDA_RASP_SOCKET")
		if path == "" {
			path = wire.DefaultSocket
		}
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
		if err != nil {
			return nil, err
		}
		defer c.Close()
		for _, name := range req.Emit {
			if _, err := c.Write([]byte(strings.ReplaceAll(datagrams[name], "REQ", id))); err != nil {
				return nil, err
			}
		}
	}
	return map[string]any{"statusCode": 200, "body": "ok"}, nil
}

func main() { rasp.Start(handle) }
