# CloudWatch alarms on the EMF metrics the extension writes
# (LAMBDA_RASP_EMF=on; namespace LambdaRASP, README "CloudWatch EMF").

locals {
  alarm_actions = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "blocked_attacks" {
  alarm_name          = "${var.function_name}-lambda-rasp-blocked-attacks"
  alarm_description   = "lambda-rasp blocked an attack (input or sink guard). Runbook https://github.com/lambda-rasp/lambda-rasp/blob/main/README.md#blocked-attacks-alarm"
  namespace           = "LambdaRASP"
  metric_name         = "lambda_rasp_detections_total"
  dimensions          = { function = aws_lambda_function.protected.function_name, action = "block" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "incomplete_inspections" {
  alarm_name          = "${var.function_name}-lambda-rasp-incomplete-inspections"
  alarm_description   = "lambda-rasp inspections did not cover every input and were decided by on_error. Runbook https://github.com/lambda-rasp/lambda-rasp/blob/main/README.md#lambdaraspincompleteinspections"
  namespace           = "LambdaRASP"
  metric_name         = "lambda_rasp_incomplete_inspections_total"
  dimensions          = { function = aws_lambda_function.protected.function_name }
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dropped_events" {
  alarm_name          = "${var.function_name}-lambda-rasp-dropped-events"
  alarm_description   = "lambda-rasp security events were dropped between the wrapper and the extension. Runbook https://github.com/lambda-rasp/lambda-rasp/blob/main/README.md#lambdarasptelemetrydropped"
  namespace           = "LambdaRASP"
  metric_name         = "lambda_rasp_events_dropped_total"
  dimensions          = { function = aws_lambda_function.protected.function_name }
  statistic           = "Sum"
  period              = 600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}
