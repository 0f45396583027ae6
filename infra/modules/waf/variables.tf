variable "name" {
  type        = string
  description = "Name of the web ACL and prefix of its metrics."
}

variable "alb_arn" {
  type        = string
  description = "ALB the web ACL protects."
}

variable "log_group_arn" {
  type        = string
  description = "CloudWatch log group for WAF logs (its name must start with aws-waf-logs-)."
}

variable "rate_limit" {
  type        = number
  description = "Requests one address may send in any 5-minute window before it is blocked."
  default     = 2000

  validation {
    condition     = var.rate_limit >= 100
    error_message = "rate_limit must be at least 100 (the WAF minimum)."
  }
}

variable "common_rules_to_count" {
  type        = list(string)
  description = "Rules of AWSManagedRulesCommonRuleSet that only count instead of block."
  default     = ["SizeRestrictions_BODY"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
