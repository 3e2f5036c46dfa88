// Package ocsf writes the security log as OCSF 1.3 Detection Findings
// (class_uid 2004), one JSON object per line, for SIEMs and Amazon
// Security Lake. It is selected with LAMBDA_RASP_LOG_FORMAT=ocsf; the
// default security log format is unchanged.
package ocsf
