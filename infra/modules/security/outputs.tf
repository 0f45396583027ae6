output "alb_security_group_id" {
  description = "Security group of the ALB."
  value       = aws_security_group.alb.id
}

output "task_security_group_id" {
  description = "Security group of the ECS tasks."
  value       = aws_security_group.task.id
}
