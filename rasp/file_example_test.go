package rasp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambda-rasp/lambda-rasp/rasp"
)

func ExampleReadFile() {
	assets, err := os.MkdirTemp("", "assets")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(assets)
	if err := os.WriteFile(filepath.Join(assets, "guide.md"), []byte("# Guide"), 0o644); err != nil {
		panic(err)
	}

	// A handler that joins a caller-supplied name to its assets directory.
	doc := func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		data, err := rasp.ReadFile(ctx, assets+"/"+req.QueryStringParameters["name"])
		var blocked *rasp.BlockedError
		switch {
		case errors.As(err, &blocked):
			return events.APIGatewayV2HTTPResponse{StatusCode: 403, Body: fmt.Sprint(blocked.RuleIDs, " ", blocked.Reason)}, nil
		case errors.Is(err, fs.ErrNotExist):
			return events.APIGatewayV2HTTPResponse{StatusCode: 404}, nil
		case err != nil:
			return events.APIGatewayV2HTTPResponse{}, err
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(data)}, nil
	}
	h := rasp.Wrap(lambda.NewHandler(doc), sinkExampleOptions()...)

	for _, name := range []string{"guide.md", "missing.md", "../../../../../../proc/self/environ"} {
		out, err := h.Invoke(invokeCtx("req-1"), sinkExampleEvent("/docs", "name", name))
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
	// 200 "# Guide"
	// 404 ""
	// 403 "[traversal-sink] input escapes the base directory"
}
