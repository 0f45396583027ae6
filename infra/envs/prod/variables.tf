variable "project" {
  type        = string
  description = "Project name; prefixes every resource and the image repositories (PROJECT/app ...)."
  default     = "agent-suite"
}

variable "environment" {
  type        = string
  description = "Environment name, appended to the project name (agent-suite-prod)."
  default     = "prod"
}

variable "region" {
  type        = string
  description = "AWS region to deploy into (Bedrock must offer the model there)."
  default     = "us-east-1"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource."
  default     = {}
}

variable "state_bucket" {
  type        = string
  description = "S3 bucket holding the Terraform state (created by infra/bootstrap.sh)."
}

variable "state_lock_table" {
  type        = string
  description = "DynamoDB table locking the Terraform state (created by infra/bootstrap.sh)."
  default     = "agent-suite-terraform-lock"
}

variable "zone_name" {
  type        = string
  description = "Public Route53 hosted zone, e.g. example.com."
}

variable "create_zone" {
  type        = bool
  description = "Create the hosted zone here (then set its name servers at the registrar)."
  default     = false
}

variable "domain_name" {
  type        = string
  description = "Name users open, inside zone_name, e.g. chat.example.com."
}

variable "vpc_cidr" {
  type        = string
  description = "IPv4 range of the VPC."
  default     = "10.40.0.0/16"
}

variable "az_count" {
  type        = number
  description = "Availability zones to use (at least 2)."
  default     = 2
}

variable "nat_gateway_per_az" {
  type        = bool
  description = "One NAT gateway per AZ instead of one shared."
  default     = false
}

variable "allowed_ingress_cidrs" {
  type        = list(string)
  description = "Address ranges allowed to reach the ALB."
  default     = ["0.0.0.0/0", "::/0"]
}

variable "image_tag" {
  type        = string
  description = "Image tag of the first task definition; infra/deploy.sh rolls out later tags."
  default     = "latest"
}

variable "task_cpu" {
  type        = number
  description = "Task CPU units (1024 = 1 vCPU)."
  default     = 1024
}

variable "task_memory" {
  type        = number
  description = "Task memory in MiB."
  default     = 2048
}

variable "min_tasks" {
  type        = number
  description = "Fewest running tasks."
  default     = 2
}

variable "max_tasks" {
  type        = number
  description = "Most running tasks."
  default     = 10
}

variable "model_provider" {
  type        = string
  description = "AGENT_MODEL_PROVIDER: bedrock, openai or demo."
  default     = "bedrock"
}

variable "bedrock_model_id" {
  type        = string
  description = "BEDROCK_MODEL_ID (enable access to it in the Bedrock console first)."
  default     = "anthropic.claude-3-5-sonnet-20240620-v1:0"
}

variable "app_auth" {
  type        = string
  description = "APP_AUTH: alb-oidc (needs oidc), none (one shared user, for trying it out) or token (needs a token file in your own image)."
  default     = "alb-oidc"

  validation {
    condition     = contains(["alb-oidc", "none", "token"], var.app_auth)
    error_message = "app_auth must be alb-oidc, none or token."
  }
}

variable "oidc" {
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
    client_secret          = string
  })
  description = "OpenID Connect provider the ALB signs users in with; required for app_auth = alb-oidc."
  default     = null
  sensitive   = true

  validation {
    # A conditional, not ||: Terraform before 1.12 evaluates both sides of || (var.oidc.issuer of
    # a null oidc is an error).
    condition = var.oidc == null ? true : alltrue([
      for url in [var.oidc.issuer, var.oidc.authorization_endpoint, var.oidc.token_endpoint, var.oidc.user_info_endpoint] :
      startswith(url, "https://")
    ])
    error_message = "oidc: issuer, authorization_endpoint, token_endpoint and user_info_endpoint must be https:// URLs."
  }
  validation {
    condition     = var.oidc == null ? true : !anytrue([for v in [var.oidc.client_id, var.oidc.client_secret] : v == "" || strcontains(v, "REPLACE")])
    error_message = "oidc: client_id and client_secret are empty or still the example's REPLACE placeholders."
  }
}

variable "extra_environment" {
  type        = map(map(string))
  description = "Further plain settings by container name (app, agent, sse_hub)."
  default     = { app = {}, agent = {}, sse_hub = {} }
}

variable "hub_redis" {
  type        = bool
  description = "Run a Redis (ElastiCache) the hubs share; needed whenever more than one task runs."
  default     = true
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type of the hubs' Redis."
  default     = "cache.t4g.small"
}

variable "waf_rate_limit" {
  type        = number
  description = "Requests per address per 5 minutes before WAF blocks it."
  default     = 2000
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep container and WAF logs."
  default     = 30
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses that receive alarm notifications."
  default     = []
}

variable "github_repository" {
  type        = string
  description = "GitHub repository (OWNER/NAME) whose workflows may plan, apply and deploy."
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub OIDC provider (false if it exists already)."
  default     = true
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec into the containers."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the table and the ALB from deletion."
  default     = true
}
