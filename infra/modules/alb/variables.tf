variable "name" {
  type        = string
  description = "Name of the load balancer (at most 32 characters)."

  validation {
    condition     = length(var.name) <= 32
    error_message = "An ALB name is at most 32 characters."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the target groups."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets in at least two availability zones."
}

variable "security_group_id" {
  type        = string
  description = "Security group of the ALB."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate of the HTTPS listener."
}

variable "ssl_policy" {
  type        = string
  description = "TLS policy of the HTTPS listener; the default allows TLS 1.2 and 1.3 only."
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "idle_timeout" {
  type        = number
  description = "Seconds a connection may stay idle; SSE subscriptions are long-lived, so this is long."
  default     = 3600

  validation {
    condition     = var.idle_timeout >= 60 && var.idle_timeout <= 4000
    error_message = "idle_timeout must be between 60 and 4000 seconds."
  }
}

variable "app_port" {
  type        = number
  description = "Container port of the app (APP_LISTEN)."
  default     = 8080
}

variable "hub_port" {
  type        = number
  description = "Container port of the hub (HUB_LISTEN)."
  default     = 3701
}

variable "hub_path_pattern" {
  type        = string
  description = "Requests whose path matches go to the hub; all others go to the app."
  default     = "/.well-known/mercure*"
}

variable "health_check_path" {
  type        = string
  description = "Path both target groups probe."
  default     = "/healthz"
}

variable "deregistration_delay" {
  type        = number
  description = "Seconds a draining target keeps its connections (within the containers' stop timeout)."
  default     = 25
}

variable "stickiness_seconds" {
  type        = number
  description = "Lifetime of the ALB stickiness cookie."
  default     = 86400
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
  description = "OpenID Connect provider the ALB signs users in with (for APP_AUTH=alb-oidc); null for none."
  default     = null
  sensitive   = true
}

variable "access_logs_bucket" {
  type        = string
  description = "S3 bucket for ALB access logs (with the ELB log delivery policy); null for none."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the load balancer."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
