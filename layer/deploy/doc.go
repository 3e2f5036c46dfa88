// Package deploy holds the deployment examples for the lambda-rasp layer
// and a wrapped Go function on provided.al2023: an AWS SAM template
// (sam/template.yaml), plain CloudFormation (cloudformation/template.yaml)
// and a Terraform module (terraform/). Its tests parse each one and check
// that every reference resolves.
package deploy
