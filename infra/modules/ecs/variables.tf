variable "name" {
  type        = string
  description = "Name of the cluster and of the task definition family."
}

variable "images" {
  type        = map(string)
  description = "Image repository URL by container name (app, agent, sse_hub)."

  validation {
    condition     = alltrue([for c in ["app", "agent", "sse_hub"] : contains(keys(var.images), c)])
    error_message = "images must name a repository for app, agent and sse_hub."
  }
}

variable "image_tag" {
  type        = string
  description = "Image tag for all three containers (infra/deploy.sh rolls out new tags)."
  default     = "latest"
}

variable "cpu" {
  type        = number
  description = "Task CPU units (1024 = 1 vCPU), shared by the three containers."
  default     = 1024
}

variable "memory" {
  type        = number
  description = "Task memory in MiB, shared by the three containers."
  default     = 2048
}

variable "execution_role_arn" {
  type        = string
  description = "Role ECS uses to pull images, write logs and inject secrets."
}

variable "task_role_arn" {
  type        = string
  description = "Role the containers' AWS calls run as."
}

variable "log_groups" {
  type        = map(string)
  description = "CloudWatch log group name by container name."
}

variable "secret_value_from" {
  type        = map(string)
  description = "Secrets Manager valueFrom by setting name; must include MERCURE_PUBLISHER_JWT_KEY and MERCURE_SUBSCRIBER_JWT_KEY."
}

variable "dynamodb_table_name" {
  type        = string
  description = "Table the agent stores sessions and messages in (AGENT_DYNAMODB_TABLE)."
}

variable "model_provider" {
  type        = string
  description = "AGENT_MODEL_PROVIDER: bedrock, openai or demo."
  default     = "bedrock"

  validation {
    condition     = contains(["bedrock", "openai", "demo"], var.model_provider)
    error_message = "model_provider must be bedrock, openai or demo."
  }
}

variable "bedrock_model_id" {
  type        = string
  description = "BEDROCK_MODEL_ID: the model or inference profile the agent calls."
}

variable "app_auth" {
  type        = string
  description = "APP_AUTH: none, alb-oidc or token."
  default     = "alb-oidc"

  validation {
    condition     = contains(["none", "alb-oidc", "token"], var.app_auth)
    error_message = "app_auth must be none, alb-oidc or token."
  }
}

variable "alb_arn" {
  type        = string
  description = "ARN of the ALB in front of the app; with APP_AUTH=alb-oidc the app accepts only identities this ALB signed."
  default     = ""
}

variable "log_level" {
  type        = string
  description = "LOG_LEVEL for all three containers."
  default     = "info"
}

variable "extra_environment" {
  type        = map(map(string))
  description = "Further plain settings by container name (app, agent, sse_hub), e.g. the OIDC keys for APP_AUTH=alb-oidc."
  default     = { app = {}, agent = {}, sse_hub = {} }
}

variable "hub_redis_url" {
  type        = string
  description = "HUB_REDIS_URL (redis://host:port) the hubs of all tasks share; empty for a single task."
  default     = ""
}

variable "stop_timeout" {
  type        = number
  description = "Seconds between SIGTERM and SIGKILL; longer than the executables' 20 s drain."
  default     = 30
}

variable "hub_nofile_limit" {
  type        = number
  description = "Open-file limit of the hub container (one per subscriber connection)."
  default     = 65535
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
