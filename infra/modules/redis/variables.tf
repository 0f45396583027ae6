variable "name" {
  type        = string
  description = "Name of the replication group and its parts (at most 40 characters)."

  validation {
    condition     = length(var.name) <= 40
    error_message = "An ElastiCache replication group id is at most 40 characters."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the security group."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the cache nodes."
}

variable "task_security_group_id" {
  type        = string
  description = "Security group of the ECS tasks, the only clients."
}

variable "node_type" {
  type        = string
  description = "Cache node type."
  default     = "cache.t4g.small"
}

variable "engine_version" {
  type        = string
  description = "Redis engine version."
  default     = "7.1"
}

variable "replicas" {
  type        = number
  description = "Read replicas besides the primary (1 or more enables automatic failover across AZs)."
  default     = 1

  validation {
    condition     = var.replicas >= 0 && var.replicas <= 5
    error_message = "replicas must be between 0 and 5."
  }
}

variable "port" {
  type        = number
  description = "Redis port."
  default     = 6379
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
