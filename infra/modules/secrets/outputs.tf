output "secret_arn" {
  description = "ARN of the JSON secret."
  value       = aws_secretsmanager_secret.this.arn
}

output "value_from" {
  description = "ECS valueFrom reference by field name (ARN:FIELD::); available once the secret has its first value."
  value       = { for k in concat(var.generated_keys, var.extra_fields) : k => "${aws_secretsmanager_secret.this.arn}:${k}::" }
  # A task definition that references the keys before they exist would start tasks that fail.
  depends_on = [terraform_data.seed]
}
