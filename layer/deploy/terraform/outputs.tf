output "layer_arns" {
  description = "ARNs of the published lambda-rasp layer versions, by architecture."
  value       = { for arch, layer in aws_lambda_layer_version.lambda_rasp : arch => layer.arn }
}

output "signing_profile_version_arn" {
  description = "Version ARN of the signing profile to sign the zips with (when code_signing is on)."
  value       = var.code_signing ? aws_signer_signing_profile.lambda_rasp[0].version_arn : null
}

output "function_arn" {
  description = "ARN of the protected function."
  value       = aws_lambda_function.protected.arn
}
