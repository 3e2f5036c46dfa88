// Command lambda-rasp is lambda-rasp's external Lambda extension, shipped
// in the layer as /opt/extensions/lambda-rasp.
//
// It registers under its executable's base name, validates the policy at
// Init (an invalid policy fails the deployment with init/error), counts
// the in-process wrapper's security events from a unix datagram socket,
// writes one security log line per detection or sink refusal, and exports
// metrics before the sandbox freezes and at SHUTDOWN. See package
// internal/lifecycle for the loop and the README for the configuration.
package main
