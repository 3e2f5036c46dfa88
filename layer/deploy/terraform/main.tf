# lambda-rasp layers (x86_64 and arm64) and a Go function protected by one,
# with Lambda code signing (AWS Signer) and the IAM permissions of the
# exporters and the AWS AppConfig agent.

locals {
  layer_zips = {
    x86_64 = var.layer_zip_x86_64
    arm64  = var.layer_zip_arm64
  }
}

# One layer version per architecture: the extension is a native binary.
resource "aws_lambda_layer_version" "lambda_rasp" {
  for_each                 = local.layer_zips
  layer_name               = "lambda-rasp-${each.key}"
  description              = "lambda-rasp runtime self-protection extension and default policy (${each.key})"
  filename                 = each.value
  source_code_hash         = filebase64sha256(each.value)
  compatible_runtimes      = ["provided.al2023", "provided.al2"]
  compatible_architectures = [each.key]
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

# Lambda code signing: the signing profile signs the layer and function
# zips (aws signer start-signing-job, see the README); with the code
# signing config Lambda refuses anything it did not sign.
resource "aws_signer_signing_profile" "lambda_rasp" {
  count       = var.code_signing ? 1 : 0
  name_prefix = "lambda_rasp_"
  platform_id = "AWSLambda-SHA384-ECDSA"
}

resource "aws_lambda_code_signing_config" "lambda_rasp" {
  count       = var.code_signing ? 1 : 0
  description = "Layers and functions signed by the lambda-rasp signing profile"
  allowed_publishers {
    signing_profile_version_arns = [aws_signer_signing_profile.lambda_rasp[0].version_arn]
  }
  policies {
    untrusted_artifact_on_deployment = var.untrusted_artifact_on_deployment
  }
}

# Remote write to Amazon Managed Prometheus, signed with the function's
# credentials (LAMBDA_RASP_REMOTE_WRITE_SIGV4=on).
data "aws_iam_policy_document" "amp_remote_write" {
  count = var.amp_workspace_arn == "" ? 0 : 1
  statement {
    actions   = ["aps:RemoteWrite"]
    resources = [var.amp_workspace_arn]
  }
}

resource "aws_iam_role_policy" "amp_remote_write" {
  count  = var.amp_workspace_arn == "" ? 0 : 1
  name   = "lambda-rasp-amp-remote-write"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.amp_remote_write[0].json
}

# The AWS AppConfig agent fetches the policy for LAMBDA_RASP_POLICY_URL.
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  appconfig      = var.appconfig_agent_layer_arn != ""
  appconfig_path = "/applications/${var.appconfig_application_id}/environments/${var.appconfig_environment_id}/configurations/${var.appconfig_profile_id}"
}

data "aws_iam_policy_document" "appconfig" {
  count = local.appconfig ? 1 : 0
  statement {
    actions = ["appconfig:StartConfigurationSession", "appconfig:GetLatestConfiguration"]
    resources = [
      "arn:${data.aws_partition.current.partition}:appconfig:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:application/${var.appconfig_application_id}/environment/${var.appconfig_environment_id}/configuration/${var.appconfig_profile_id}",
    ]
  }
}

resource "aws_iam_role_policy" "appconfig" {
  count  = local.appconfig ? 1 : 0
  name   = "lambda-rasp-appconfig-policy"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.appconfig[0].json
}

locals {
  rasp_env = merge(
    {
      LAMBDA_RASP_MODE = var.rasp_mode
      LAMBDA_RASP_EMF  = "on"
    },
    var.pushgateway_url == "" ? {} : { LAMBDA_RASP_PUSHGATEWAY_URL = var.pushgateway_url },
    var.amp_workspace_arn == "" ? {} : {
      LAMBDA_RASP_REMOTE_WRITE_URL   = var.amp_remote_write_url
      LAMBDA_RASP_REMOTE_WRITE_SIGV4 = "on"
    },
    local.appconfig ? {
      LAMBDA_RASP_POLICY_URL                = "http://localhost:2772${local.appconfig_path}"
      AWS_APPCONFIG_EXTENSION_PREFETCH_LIST = local.appconfig_path
    } : {},
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
  layers = concat(
    [aws_lambda_layer_version.lambda_rasp[var.architecture].arn],
    local.appconfig ? [var.appconfig_agent_layer_arn] : [],
  )
  code_signing_config_arn = var.code_signing ? aws_lambda_code_signing_config.lambda_rasp[0].arn : null

  environment {
    variables = local.rasp_env
  }

  depends_on = [aws_iam_role_policy_attachment.logs]
}
