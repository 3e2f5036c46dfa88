package rasp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"go.uber.org/zap"
	_ "modernc.org/sqlite"

	"github.com/lambda-rasp/lambda-rasp/rasp"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// sinkExamplePolicy turns the sink guards on and has no input rules, so
// that the examples show what the sink guards alone catch.
const sinkExamplePolicy = `
version: 1
mode: block
sinks:
  sql: block
  exec: block
  files: {mode: block, deny: [/proc/self/environ, /proc/*/environ]}
`

func sinkExampleOptions() []rasp.Option {
	p, err := policy.Parse("sinks.yaml", []byte(sinkExamplePolicy))
	if err != nil {
		panic(err)
	}
	e, err := rules.Compile(p)
	if err != nil {
		panic(err)
	}
	return []rasp.Option{
		rasp.WithEngine(e),
		rasp.WithSocket("/nonexistent/events.sock"),
		rasp.WithSecurityLog(zap.NewNop()),
	}
}

// sinkExampleEvent is an HTTP API request for path with one query
// parameter.
func sinkExampleEvent(path, param, value string) []byte {
	req := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              "GET " + path,
		RawPath:               path,
		RawQueryString:        param + "=" + url.QueryEscape(value),
		QueryStringParameters: map[string]string{param: value},
	}
	req.RequestContext.HTTP.Method = "GET"
	b, err := json.Marshal(req)
	if err != nil {
		panic(err)
	}
	return b
}

func ExampleOpenDB() {
	db, err := rasp.OpenDB("sqlite", "file:example-opendb?mode=memory&cache=shared")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	// Statements without a request context (init) are not checked.
	if _, err := db.Exec(`CREATE TABLE products (name TEXT, secret TEXT);
		INSERT INTO products VALUES ('grinder', 's1'), ('milk jug', 's2')`); err != nil {
		panic(err)
	}

	// A handler that builds SQL by concatenation.
	products := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		q := "SELECT name FROM products WHERE name = '" + req.QueryStringParameters["name"] + "'"
		rows, err := db.QueryContext(ctx, q)
		var blocked *rasp.BlockedError
		if errors.As(err, &blocked) {
			return events.APIGatewayV2HTTPResponse{StatusCode: 403, Body: blocked.Error()}, nil
		}
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		defer rows.Close()
		body := ""
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				return events.APIGatewayV2HTTPResponse{}, err
			}
			body += name + ";"
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: body}, rows.Err()
	}
	h := rasp.Wrap(lambda.NewHandler(products), sinkExampleOptions()...)

	for _, name := range []string{"grinder", "x' OR '1'='1"} {
		out, err := h.Invoke(invokeCtx("req-1"), sinkExampleEvent("/products", "name", name))
		if err != nil {
			panic(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			panic(err)
		}
		fmt.Println(resp.StatusCode, resp.Body)
	}
	// Output:
	// 200 grinder;
	// 403 lambda-rasp: sql call blocked (sqlite): rules sqli-sink at query.name: input spans SQL tokens
}
