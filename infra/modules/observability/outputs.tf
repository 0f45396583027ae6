output "container_log_groups" {
  description = "Log group name by container name."
  value       = { for k, g in aws_cloudwatch_log_group.container : k => g.name }
}

output "container_log_group_arns" {
  description = "Log group ARN by container name."
  value       = { for k, g in aws_cloudwatch_log_group.container : k => g.arn }
}

output "waf_log_group_arn" {
  description = "ARN of the WAF log group."
  value       = aws_cloudwatch_log_group.waf.arn
}
