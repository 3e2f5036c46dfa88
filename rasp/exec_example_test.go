package rasp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambda-rasp/lambda-rasp/rasp"
)

func ExampleCommand() {
	// A handler that builds a shell command by concatenation.
	greet := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		cmd, err := rasp.Command(ctx, "sh", "-c", "echo hello "+req.QueryStringParameters["name"])
		var blocked *rasp.BlockedError
		if errors.As(err, &blocked) {
			// The command was never started.
			return events.APIGatewayV2HTTPResponse{StatusCode: 403, Body: fmt.Sprint(blocked.RuleIDs, " ", blocked.Reason)}, nil
		}
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		out, err := cmd.Output()
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(out)}, err
	}
	h := rasp.Wrap(lambda.NewHandler(greet), sinkExampleOptions()...)

	for _, name := range []string{"world", "world; cat /etc/passwd", "$(id)"} {
		out, err := h.Invoke(invokeCtx("req-1"), sinkExampleEvent("/greet", "name", name))
		if err != nil {
			panic(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			panic(err)
		}
		fmt.Printf("%d %q\n", resp.StatusCode, resp.Body)
	}
	// Output:
	// 200 "hello world\n"
	// 403 "[cmdi-sink] input spans shell tokens"
	// 403 "[cmdi-sink] input spans shell tokens"
}
