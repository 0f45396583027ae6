output "url" {
  description = "Where the service answers."
  value       = "https://${module.dns.fqdn}"
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
