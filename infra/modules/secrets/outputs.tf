output "secret_arn" {
  description = "ARN of the JSON secret."
  value       = aws_secretsmanager_secret.this.arn
}

output "value_from" {
  description = "ECS valueFrom reference by field name (ARN:FIELD::)."
  value       = { for k in concat(var.generated_keys, keys(nonsensitive(var.extra_values))) : k => "${aws_secretsmanager_secret.this.arn}:${k}::" }
}
