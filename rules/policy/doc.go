// Package policy is lambda-rasp's policy file format: the [Policy] data,
// its strict parser, the loader that finds the policy the environment
// selects, and the embedded default policy. It only reads and validates
// policies; the rules package compiles them into an engine. Programs that
// only need to validate a policy or read its rule ids (the extension,
// raspctl lint) link this package alone, without the detectors.
//
// # Loading
//
// A policy is one YAML file (version 1). [Parse] and [LoadFile] validate
// it strictly: unknown keys, wrong types, bad regular expressions, CIDRs,
// ports or globs, duplicate or unknown rule ids and unknown detectors are
// all reported at once as [Errors], each an [*Error] naming the file,
// line, column and rule. [Load] picks the policy from the environment
// (LAMBDA_RASP_POLICY_URL, LAMBDA_RASP_POLICY, /opt/lambda-rasp/policy.yaml,
// else [Default]) and records LAMBDA_RASP_MODE, which the engine applies
// when it compiles the policy.
package policy
