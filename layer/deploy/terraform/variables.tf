variable "layer_zip_x86_64" {
  description = "Path to dist/lambda-rasp-<version>-x86_64.zip built by `make release` (signed when code_signing is on)."
  type        = string
}

variable "layer_zip_arm64" {
  description = "Path to dist/lambda-rasp-<version>-arm64.zip built by `make release` (signed when code_signing is on)."
  type        = string
}

variable "function_zip" {
  description = "Path to the function zip: a `bootstrap` built with GOOS=linux CGO_ENABLED=0 -tags lambda.norpc."
  type        = string
}

variable "function_name" {
  description = "Name of the protected function."
  type        = string
  default     = "rasp-protected-api"
}

variable "architecture" {
  description = "Lambda architecture of the function; it gets the layer of the same architecture."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "The architecture must be arm64 or x86_64."
  }
}

variable "rasp_mode" {
  description = "LAMBDA_RASP_MODE: block, monitor or off."
  type        = string
  default     = "block"
  validation {
    condition     = contains(["block", "monitor", "off"], var.rasp_mode)
    error_message = "The rasp_mode must be block, monitor or off."
  }
}

variable "pushgateway_url" {
  description = "Optional Pushgateway URL for security metrics."
  type        = string
  default     = ""
}

variable "code_signing" {
  description = "Create an AWS Signer profile and a code signing configuration for the function and its layers."
  type        = bool
  default     = false
}

variable "untrusted_artifact_on_deployment" {
  description = "What Lambda does with unsigned or wrongly signed code: Enforce or Warn."
  type        = string
  default     = "Enforce"
  validation {
    condition     = contains(["Enforce", "Warn"], var.untrusted_artifact_on_deployment)
    error_message = "The untrusted_artifact_on_deployment must be Enforce or Warn."
  }
}

variable "amp_workspace_arn" {
  description = "Optional Amazon Managed Prometheus workspace ARN: remote write with SigV4, and aps:RemoteWrite on it."
  type        = string
  default     = ""
}

variable "amp_remote_write_url" {
  description = "The workspace's remote-write endpoint (.../workspaces/ws-.../api/v1/remote_write)."
  type        = string
  default     = ""
}

variable "appconfig_agent_layer_arn" {
  description = "ARN of the AWS AppConfig Lambda extension layer for this Region and architecture; with it the policy is read from AppConfig."
  type        = string
  default     = ""
}

variable "appconfig_application_id" {
  description = "AppConfig application id serving the policy."
  type        = string
  default     = ""
}

variable "appconfig_environment_id" {
  description = "AppConfig environment id."
  type        = string
  default     = ""
}

variable "appconfig_profile_id" {
  description = "AppConfig configuration profile id."
  type        = string
  default     = ""
}

variable "alarm_topic_arn" {
  description = "Optional SNS topic ARN notified by the lambda-rasp CloudWatch alarms."
  type        = string
  default     = ""
}
