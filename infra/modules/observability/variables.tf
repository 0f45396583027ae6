variable "name" {
  type        = string
  description = "Name of the environment, used in log group names."
}

variable "containers" {
  type        = list(string)
  description = "Container names, one log group each."
  default     = ["app", "agent", "sse_hub"]
}

variable "retention_days" {
  type        = number
  description = "Days CloudWatch keeps log events."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.retention_days)
    error_message = "retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key to encrypt the log groups; null uses CloudWatch's own encryption."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
