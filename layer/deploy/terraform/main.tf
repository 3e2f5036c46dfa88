# lambda-rasp layer and a Go function protected by it.

resource "aws_lambda_layer_version" "lambda_rasp" {
  layer_name               = "lambda-rasp-${var.architecture}"
  description              = "lambda-rasp runtime self-protection extension and default policy"
  filename                 = var.layer_zip
  source_code_hash         = filebase64sha256(var.layer_zip)
  compatible_runtimes      = ["provided.al2023", "provided.al2"]
  compatible_architectures = [var.architecture]
  license_info             = "Apache-2.0"
}

data "aws_iam_policy_document" "assume_lambda" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume_lambda.json
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

locals {
  rasp_env = merge(
    {
      LAMBDA_RASP_MODE = var.rasp_mode
      LAMBDA_RASP_EMF  = "on"
    },
    var.pushgateway_url == "" ? {} : { LAMBDA_RASP_PUSHGATEWAY_URL = var.pushgateway_url },
  )
}

resource "aws_lambda_function" "protected" {
  function_name    = var.function_name
  role             = aws_iam_role.function.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  filename         = var.function_zip
  source_code_hash = filebase64sha256(var.function_zip)
  memory_size      = 256
  timeout          = 10
  layers           = [aws_lambda_layer_version.lambda_rasp.arn]

  environment {
    variables = local.rasp_env
  }

  depends_on = [aws_iam_role_policy_attachment.logs]
}
