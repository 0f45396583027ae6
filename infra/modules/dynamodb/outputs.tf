output "table_name" {
  description = "Name of the table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the table (IAM policies scope to it and its indexes)."
  value       = aws_dynamodb_table.this.arn
}
