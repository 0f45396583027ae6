variable "name" {
  type        = string
  description = "Name prefix of the alarms and the SNS topic."
}

variable "alarm_emails" {
  type        = list(string)
  description = "Addresses subscribed to the alarm topic (each must confirm the subscription email)."
  default     = []
}

variable "alb_arn_suffix" {
  type        = string
  description = "ARN suffix of the ALB (CloudWatch dimension)."
}

variable "target_group_arn_suffixes" {
  type        = map(string)
  description = "Target group ARN suffix by target name (app, sse_hub)."
}

variable "cluster_name" {
  type        = string
  description = "ECS cluster name."
}

variable "service_name" {
  type        = string
  description = "ECS service name."
}

variable "max_5xx_per_minute" {
  type        = number
  description = "5xx responses per minute above which the 5xx alarms fire."
  default     = 10
}

variable "cpu_percent" {
  type        = number
  description = "Average service CPU above which the CPU alarm fires."
  default     = 85
}

variable "memory_percent" {
  type        = number
  description = "Average service memory above which the memory alarm fires."
  default     = 85
}

variable "min_running_tasks" {
  type        = number
  description = "Running task count below which the task-count alarm fires."
  default     = 1
}

variable "sns_kms_key_id" {
  type        = string
  description = "KMS key for the SNS topic; null leaves it unencrypted."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
