variable "layer_zip" {
  description = "Path to dist/lambda-rasp-<version>-<arch>.zip built by `make layer`."
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
  description = "Lambda architecture; must match the layer zip."
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

variable "alarm_topic_arn" {
  description = "Optional SNS topic ARN notified by the lambda-rasp CloudWatch alarms."
  type        = string
  default     = ""
}
