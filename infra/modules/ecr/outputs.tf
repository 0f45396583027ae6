output "repository_urls" {
  description = "Repository URL by image name (app, agent, sse_hub)."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARN by image name (for the deploy role's push permission)."
  value       = { for k, r in aws_ecr_repository.this : k => r.arn }
}
