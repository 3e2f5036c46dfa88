// Package logging builds the extension's two zap loggers: the operational
// log (start, registration, shutdown, export errors; level from
// LAMBDA_RASP_LOG_LEVEL) and the security log (one line per security
// event, logger name "security"). Both write JSON lines with an ISO-8601
// UTC "ts", which Lambda forwards to the function's log stream.
package logging
