# A root module that spans two accounts: the transit gateway lives in core-network and is
# shared (AWS RAM) with plat-dev, whose VPC attaches to it.
#
# Each provider names an atmos-auth identity as its AWS profile. Run Terraform through
#
#   atmos-auth exec -- terraform plan
#
# which points AWS_CONFIG_FILE at a generated config where every identity of the active
# profile (ATMOS_PROFILE) is an AWS profile of the same name. The identity names are the same
# in every profile; what they may do differs: github-plan reads both accounts, github-apply
# and devops write both, developers only read core-network's Terraform state (so they cannot
# plan this module, by design).

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "vpc_id" {
  description = "The plat-dev VPC to attach."
  type        = string
}

variable "subnet_ids" {
  description = "One plat-dev subnet per availability zone the attachment should use."
  type        = list(string)
}

provider "aws" {
  alias   = "network"
  region  = var.region
  profile = "core-network/terraform"
}

provider "aws" {
  alias   = "dev"
  region  = var.region
  profile = "plat-dev/terraform"
}

data "aws_caller_identity" "dev" {
  provider = aws.dev
}

resource "aws_ec2_transit_gateway" "this" {
  provider = aws.network

  description                     = "Shared transit gateway"
  auto_accept_shared_attachments  = "enable"
  default_route_table_association = "enable"
  default_route_table_propagation = "enable"
}

resource "aws_ram_resource_share" "transit_gateway" {
  provider = aws.network

  name                      = "transit-gateway"
  allow_external_principals = false
}

resource "aws_ram_resource_association" "transit_gateway" {
  provider = aws.network

  resource_arn       = aws_ec2_transit_gateway.this.arn
  resource_share_arn = aws_ram_resource_share.transit_gateway.arn
}

resource "aws_ram_principal_association" "dev" {
  provider = aws.network

  principal          = data.aws_caller_identity.dev.account_id
  resource_share_arn = aws_ram_resource_share.transit_gateway.arn
}

resource "aws_ec2_transit_gateway_vpc_attachment" "dev" {
  provider = aws.dev

  transit_gateway_id = aws_ec2_transit_gateway.this.id
  vpc_id             = var.vpc_id
  subnet_ids         = var.subnet_ids

  # The share must reach plat-dev before it can see the transit gateway.
  depends_on = [
    aws_ram_resource_association.transit_gateway,
    aws_ram_principal_association.dev,
  ]
}

output "transit_gateway_id" {
  value = aws_ec2_transit_gateway.this.id
}

output "dev_attachment_id" {
  value = aws_ec2_transit_gateway_vpc_attachment.dev.id
}
