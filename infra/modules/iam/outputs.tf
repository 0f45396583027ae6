output "execution_role_arn" {
  description = "ARN of the ECS task execution role."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "ARN of the role the containers run as."
  value       = aws_iam_role.task.arn
}

output "github_role_arns" {
  description = "Roles for GitHub Actions by purpose: plan (pull requests), deploy and apply (main)."
  value       = { for k, r in aws_iam_role.github : k => r.arn }
}
