package rasp_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rasp"
	"github.com/lambda-rasp/lambda-rasp/rules"
	"github.com/lambda-rasp/lambda-rasp/rules/policy"
)

// examplePolicy blocks a classic SQL tautology in any input.
const examplePolicy = `
version: 1
mode: block
inputs:
  - id: tautology
    match: {regex: "(?i)'\\s*or\\s+1\\s*=\\s*1"}
    targets: [query, body, record]
`

// exampleOptions keeps the examples self-contained: an explicit policy,
// and security events discarded instead of sent to the extension.
func exampleOptions() []rasp.Option {
	p, err := policy.Parse("example.yaml", []byte(examplePolicy))
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

func invokeCtx(id string) context.Context {
	return lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: id})
}

const exampleEvent = `{"version":"2.0","routeKey":"GET /items","rawPath":"/items",` +
	`"rawQueryString":"id=%s","requestContext":{"http":{"method":"GET"}}}`

func ExampleWrap() {
	items := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "item " + req.QueryStringParameters["id"]}, nil
	}
	h := rasp.Wrap(lambda.NewHandler(items), exampleOptions()...)

	out, err := h.Invoke(invokeCtx("req-1"), fmt.Appendf(nil, exampleEvent, "1%27%20OR%201=1"))
	fmt.Println(string(out), err)
	// Output:
	// {"statusCode":403,"headers":{"content-type":"application/json"},"body":"{\"message\":\"Forbidden\",\"requestId\":\"req-1\"}"} <nil>
}

func ExampleWrapFunc() {
	h := rasp.WrapFunc(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		fmt.Println("handled", len(ev.Records), "record(s)")
		return events.SQSEventResponse{}, nil
	}, append(exampleOptions(), rasp.WithPartialBatch(true))...)

	event := `{"Records":[` +
		`{"messageId":"m1","eventSource":"aws:sqs","body":"{\"name\":\"x' or 1=1\"}"},` +
		`{"messageId":"m2","eventSource":"aws:sqs","body":"{\"name\":\"Ada\"}"}]}`
	out, err := h.Invoke(invokeCtx("req-2"), []byte(event))
	fmt.Println(string(out), err)
	// Output:
	// handled 1 record(s)
	// {"batchItemFailures":[{"itemIdentifier":"m1"}]} <nil>
}

func ExampleFromContext() {
	h := rasp.WrapFunc(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (string, error) {
		inv, ok := rasp.FromContext(ctx)
		if !ok {
			return "", fmt.Errorf("not wrapped")
		}
		fmt.Println(inv.RequestID, inv.EventSource, inv.Route, inv.Decision.Action)
		return "ok", nil
	}, exampleOptions()...)

	if _, err := h.Invoke(invokeCtx("req-3"), fmt.Appendf(nil, exampleEvent, "42")); err != nil {
		fmt.Println(err)
	}
	// Output:
	// req-3 apigw-v2 GET /items allow
}

func ExampleStart() {
	// In main: the policy comes from the environment (LAMBDA_RASP_POLICY,
	// ...); an invalid policy stops the function's init with its message.
	rasp.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}, rasp.WithPartialBatch(true))
}
