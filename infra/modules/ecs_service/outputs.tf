output "service_name" {
  description = "Name of the service."
  value       = aws_ecs_service.this.name
}

output "service_id" {
  description = "ARN of the service."
  value       = aws_ecs_service.this.id
}

output "autoscaling_resource_id" {
  description = "Application Auto Scaling resource id of the service."
  value       = aws_appautoscaling_target.this.resource_id
}
