variable "name" {
  type        = string
  description = "Name prefix of the roles."
}

variable "dynamodb_table_arn" {
  type        = string
  description = "ARN of the agent's table; the task role may use only it and its indexes."
}

variable "bedrock_model_ids" {
  type        = list(string)
  description = "Bedrock model ids (or inference profile ids such as us.anthropic...) the agent may invoke."
}

variable "secret_arns" {
  type        = list(string)
  description = "Secrets Manager secrets the containers receive (execution role) and read (task role)."
}

variable "kms_key_arns" {
  type        = list(string)
  description = "Customer-managed KMS keys protecting those secrets; empty when AWS-managed keys are used."
  default     = []
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec into the containers (adds the SSM messages permissions)."
  default     = false
}

variable "create_github_oidc_provider" {
  type        = bool
  description = "Create the account's GitHub Actions OIDC provider (false when the account already has one)."
  default     = true
}

variable "github_oidc_thumbprints" {
  type        = list(string)
  description = "Certificate thumbprints for the GitHub OIDC provider (AWS no longer checks them for GitHub, but the API accepts them)."
  default     = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
}

variable "github_repository" {
  type        = string
  description = "GitHub repository allowed to assume the roles, as OWNER/NAME."

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like OWNER/NAME."
  }
}

variable "github_branch" {
  type        = string
  description = "Branch whose workflows may deploy and apply."
  default     = "main"
}

variable "github_environment" {
  type        = string
  description = "GitHub deployment environment whose jobs may deploy and apply."
  default     = "production"
}

variable "ecr_repository_arns" {
  type        = list(string)
  description = "Image repositories the deploy role may push to."
}

variable "ecs_cluster_name" {
  type        = string
  description = "Cluster of the service the deploy role may update."
}

variable "ecs_service_name" {
  type        = string
  description = "The one service the deploy role may update."
}

variable "task_family" {
  type        = string
  description = "Task definition family whose new revisions the deploy role may register and tag."
}

variable "deploy_parameter_arn" {
  type        = string
  description = "ARN of the SSM parameter naming what infra/deploy.sh rolls out (the deploy role reads only it)."
}

variable "state_bucket_arn" {
  type        = string
  description = "ARN of the Terraform state bucket (made by infra/bootstrap.sh); the plan role reads and locks it."
}

variable "state_lock_table_arn" {
  type        = string
  description = "ARN of the Terraform lock table (made by infra/bootstrap.sh)."
}

variable "terraform_apply_policy_arns" {
  type        = list(string)
  description = "Managed policies for the role that runs terraform apply from main."
  default     = ["arn:aws:iam::aws:policy/AdministratorAccess"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
