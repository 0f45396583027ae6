terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }

  # Filled in by `terraform init -backend-config=backend.hcl`; infra/bootstrap.sh writes that
  # file after creating the state bucket and lock table.
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
