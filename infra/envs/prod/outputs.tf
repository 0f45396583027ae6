output "url" {
  description = "Where the service answers."
  value       = "https://${module.dns.fqdn}"

  # Settings that would give a URL that answers every request with 401 (or a task that never
  # starts) stop the plan here, with the reason. A precondition rather than a cross-variable
  # validation, which needs Terraform 1.9.
  precondition {
    condition     = var.app_auth != "alb-oidc" || nonsensitive(var.oidc != null)
    error_message = "app_auth = \"alb-oidc\" needs the oidc object (issuer, endpoints, client_id, client_secret): without it the ALB signs nobody in and the app answers every request with 401. Set oidc (in GitHub: the TF_VAR_OIDC secret) or choose app_auth = \"none\" to try it out."
  }
  precondition {
    condition     = var.app_auth != "token" || contains(keys(lookup(var.extra_environment, "app", {})), "APP_TOKEN_FILE")
    error_message = "app_auth = \"token\" needs a token file inside the app container: the images carry none, so set extra_environment.app.APP_TOKEN_FILE to a file your own image adds, or use alb-oidc."
  }
}

output "alb_dns_name" {
  description = "DNS name of the ALB."
  value       = module.alb.dns_name
}

output "name_servers" {
  description = "Name servers of the hosted zone (delegate to them when create_zone is true)."
  value       = module.dns.name_servers
}

output "ecr_repository_urls" {
  description = "Image repository by container name (infra/deploy.sh pushes here)."
  value       = module.ecr.repository_urls
}

output "ecs_cluster_name" {
  description = "ECS cluster."
  value       = module.ecs.cluster_name
}

output "ecs_service_name" {
  description = "ECS service."
  value       = module.ecs_service.service_name
}

output "task_family" {
  description = "Task definition family."
  value       = module.ecs.task_family
}

output "dynamodb_table_name" {
  description = "The agent's table."
  value       = module.dynamodb.table_name
}

output "secret_arn" {
  description = "Secrets Manager secret holding the Mercure keys."
  value       = module.secrets.secret_arn
}

output "github_role_arns" {
  description = "Roles for GitHub Actions: plan (pull requests), apply and deploy (main)."
  value       = module.iam.github_role_arns
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.alarms.sns_topic_arn
}

output "log_groups" {
  description = "Log group by container."
  value       = module.observability.container_log_groups
}

output "deploy_parameter" {
  description = "SSM parameter with the names infra/deploy.sh rolls out to (infra/deploy.sh --parameter)."
  value       = aws_ssm_parameter.deploy.name
}
