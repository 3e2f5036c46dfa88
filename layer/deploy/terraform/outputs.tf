output "layer_arn" {
  description = "ARN of the published lambda-rasp layer version."
  value       = aws_lambda_layer_version.lambda_rasp.arn
}

output "function_arn" {
  description = "ARN of the protected function."
  value       = aws_lambda_function.protected.arn
}
