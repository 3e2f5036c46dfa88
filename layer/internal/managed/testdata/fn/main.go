// Command fn is the function the managed-instances tests invoke
// concurrently: every response carries something only its own request
// has (a token from the event, the Lambda request id), so a response that
// reached the wrong caller shows.
//
// API Gateway HTTP API routes: GET /echo answers the token query
// parameter; GET /file reads the file named by the name query parameter
// from $FN_DATA_DIR through rasp.ReadFile (403 when the file guard
// refuses). An SQS batch is answered with the message ids it processed
// (partial batch responses on: a blocked record is reported failed by the
// wrapper).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/lambda-rasp/lambda-rasp/rasp"
)

// BatchResult is the response to an SQS batch.
type BatchResult struct {
	BatchItemFailures []events.SQSBatchItemFailure `json:"batchItemFailures"`
	Processed         []string                     `json:"processed"`
}

// Body is the JSON body of an HTTP response.
type Body struct {
	RequestID string `json:"requestId"`
	Tenant    string `json:"tenant,omitempty"`
	Token     string `json:"token,omitempty"`
	File      string `json:"file,omitempty"`
	Error     string `json:"error,omitempty"`
}

func handle(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	v, err := answer(ctx, raw)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// handleAny is handle for a function declared to return any: rasp.Start
// hands such functions' responses to the runtime loop as readers.
func handleAny(ctx context.Context, raw json.RawMessage) (any, error) { return answer(ctx, raw) }

func answer(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []events.SQSMessage `json:"Records"`
		RawPath string              `json:"rawPath"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	if probe.Records != nil {
		res := BatchResult{BatchItemFailures: []events.SQSBatchItemFailure{}, Processed: []string{}}
		for _, m := range probe.Records {
			res.Processed = append(res.Processed, m.MessageId)
		}
		return res, nil
	}
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	lc, _ := lambdacontext.FromContext(ctx)
	body := Body{RequestID: lc.AwsRequestID, Tenant: lc.TenantID}
	status := 200
	switch req.RawPath {
	case "/echo":
		body.Token = req.QueryStringParameters["token"]
	case "/file":
		b, err := rasp.ReadFile(ctx, filepath.Join(os.Getenv("FN_DATA_DIR"), req.QueryStringParameters["name"]))
		var be *rasp.BlockedError
		switch {
		case errors.As(err, &be):
			status, body.Error = 403, "refused"
		case err != nil:
			status, body.Error = 404, "not found"
		default:
			body.File = string(b)
		}
	default:
		status, body.Error = 404, "no route"
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"content-type": "application/json"}, Body: string(b)}, nil
}

// stream answers a Function URL request with a response stream whose
// second chunk waits until the file named by the release query parameter
// exists in $FN_DATA_DIR: the caller creates it once it has read the
// first chunk, which it can only do if the response streams.
func stream(ctx context.Context, req *events.LambdaFunctionURLRequest) (*events.LambdaFunctionURLStreamingResponse, error) {
	lc, _ := lambdacontext.FromContext(ctx)
	release := filepath.Join(os.Getenv("FN_DATA_DIR"), filepath.Base(req.QueryStringParameters["release"]))
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("first chunk of " + lc.AwsRequestID + "\n"))
		for range 3000 {
			if _, err := os.Stat(release); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		_, _ = pw.Write([]byte("second chunk of " + lc.AwsRequestID + "\n"))
		_ = pw.Close()
	}()
	return &events.LambdaFunctionURLStreamingResponse{StatusCode: 201, Headers: map[string]string{"content-type": "text/plain"}, Body: pr}, nil
}

func main() {
	if os.Getenv("FN_RETURN") == "stream" {
		rasp.Start(stream)
	}
	if os.Getenv("FN_RETURN") == "any" {
		rasp.Start(handleAny, rasp.WithPartialBatch(true))
	}
	rasp.Start(handle, rasp.WithPartialBatch(true))
}
