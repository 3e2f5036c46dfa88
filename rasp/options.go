package rasp

import (
	"go.uber.org/zap"

	"github.com/lambda-rasp/lambda-rasp/rules"
)

// Option configures [New], [Wrap], [WrapFunc] and [Start].
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// options is the configuration of a Protector.
type options struct {
	engine       *rules.Engine
	partialBatch bool
	status       int
	bodyTemplate string
	logger       *zap.Logger
	securityLog  *zap.Logger
	socket       string
	function     string
	getenv       func(string) string
	// keepDefaultTransport keeps [Start] from calling [Protect].
	keepDefaultTransport bool
}

// DefaultBlockBody is the body of a block response; {{requestId}} is
// replaced with the Lambda request id.
const DefaultBlockBody = `{"message":"Forbidden","requestId":"{{requestId}}"}`

// WithEngine uses e instead of loading the policy the environment selects.
func WithEngine(e *rules.Engine) Option {
	return optionFunc(func(o *options) { o.engine = e })
}

// WithPartialBatch enables partial batch responses for SQS, Kinesis and
// DynamoDB Streams: offending records are removed from the event the
// handler sees and reported in batchItemFailures, merged with the
// handler's own. Use it only for functions whose event source mapping has
// ReportBatchItemFailures; otherwise blocked batches fail as a whole.
func WithPartialBatch(on bool) Option {
	return optionFunc(func(o *options) { o.partialBatch = on })
}

// WithBlockResponse sets the status code and body of block responses to
// HTTP-shaped events (default 403 and [DefaultBlockBody]). The body is
// sent as application/json; "{{requestId}}" in it is replaced with the
// request id.
func WithBlockResponse(status int, body string) Option {
	return optionFunc(func(o *options) {
		if status >= 100 && status <= 599 {
			o.status = status
		}
		o.bodyTemplate = body
	})
}

// WithLogger sets the logger for the wrapper's own diagnostics (policy
// source, internal errors). The default logs nothing; security events go
// through the reporter.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithSecurityLog sets where security events are logged when the
// extension's socket is absent or full (default: JSON lines on stderr,
// which Lambda sends to the function's log).
func WithSecurityLog(l *zap.Logger) Option {
	return optionFunc(func(o *options) { o.securityLog = l })
}

// WithSocket sets the extension's datagram socket path (default
// LAMBDA_RASP_SOCKET, else wire.DefaultSocket).
func WithSocket(path string) Option {
	return optionFunc(func(o *options) { o.socket = path })
}

// WithFunctionName sets the function name reported in events (default
// AWS_LAMBDA_FUNCTION_NAME).
func WithFunctionName(name string) Option {
	return optionFunc(func(o *options) { o.function = name })
}

// withGetenv replaces os.Getenv, for tests.
func withGetenv(getenv func(string) string) Option {
	return optionFunc(func(o *options) { o.getenv = getenv })
}

// WithDefaultTransport(false) keeps [Start] from installing the egress
// guard in http.DefaultTransport and http.DefaultClient ([Protect]),
// which it does by default. Without it, code that uses the default
// client or transport (http.Get, &http.Client{}, most SDKs) is not
// guarded; see the README's coverage table. [New] and [Wrap] never call
// Protect.
func WithDefaultTransport(guard bool) Option {
	return optionFunc(func(o *options) { o.keepDefaultTransport = !guard })
}
