// Package lifecycle runs the extension: Init, the event loop and the
// Shutdown phase.
//
// Init validates everything before registering (policy, export
// configuration, the event socket, the /metrics address), binds the socket
// and registers for INVOKE and SHUTDOWN (SHUTDOWN only on Lambda Managed
// Instances, which refuse INVOKE for external extensions). A failure is
// reported with init/error after registering, with the loader's exact
// message, so the deployment fails loudly; Run then returns an
// *InitError. The Telemetry API subscription comes last and may fail
// without failing Init.
//
// On each INVOKE the loop waits for platform.runtimeDone of that request
// (bounded by the invoke deadline and a cap of one second; only with
// telemetry, and no more once a wait ran out without any batch ever
// having been delivered, which means the platform cannot reach the
// listener), drains
// the socket so the invocation's events are counted, exports if the flush
// interval has elapsed (each exporter bounded by the export timeout, all
// in parallel), and only then asks for the next event: after that the
// sandbox may freeze. On SHUTDOWN (or SIGTERM, through the context) it
// drains, always exports within the deadline minus a margin, closes
// everything and returns nil.
package lifecycle
