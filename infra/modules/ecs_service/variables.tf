variable "name" {
  type        = string
  description = "Name of the service."
}

variable "cluster_arn" {
  type        = string
  description = "Cluster the service runs in."
}

variable "cluster_name" {
  type        = string
  description = "Name of that cluster (for the autoscaling resource id)."
}

variable "task_definition_arn" {
  type        = string
  description = "First task definition revision; later revisions come from infra/deploy.sh."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets the tasks run in."
}

variable "security_group_id" {
  type        = string
  description = "Security group of the tasks."
}

variable "load_balancers" {
  type = list(object({
    target_group_arn = string
    container_name   = string
    container_port   = number
  }))
  description = "Target groups and the container name and port each forwards to."
}

variable "alb_arn_suffix" {
  type        = string
  description = "ARN suffix of the ALB (for request-count scaling)."
}

variable "request_count_target_group_arn_suffix" {
  type        = string
  description = "ARN suffix of the target group whose requests per target drive scaling (the app's)."
}

variable "min_tasks" {
  type        = number
  description = "Fewest running tasks (also the initial count)."
  default     = 2
}

variable "max_tasks" {
  type        = number
  description = "Most running tasks."
  default     = 10

  validation {
    condition     = var.max_tasks >= 1
    error_message = "max_tasks must be at least 1."
  }
}

variable "cpu_target_percent" {
  type        = number
  description = "Average CPU utilisation the service scales to hold."
  default     = 60
}

variable "requests_per_target" {
  type        = number
  description = "ALB requests per task per minute the service scales to hold."
  default     = 1000
}

variable "health_check_grace_seconds" {
  type        = number
  description = "Seconds after a task starts before failing ALB health checks count."
  default     = 60
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec into the containers."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
