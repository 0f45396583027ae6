output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster."
  value       = aws_ecs_cluster.this.arn
}

output "task_definition_arn" {
  description = "ARN of the task definition revision Terraform registered."
  value       = aws_ecs_task_definition.this.arn
}

output "task_family" {
  description = "Task definition family (infra/deploy.sh registers new revisions of it)."
  value       = aws_ecs_task_definition.this.family
}

output "load_balanced_containers" {
  description = "Container name and port the ALB target groups forward to, by target."
  value = {
    app     = { container_name = "app", container_port = 8080 }
    sse_hub = { container_name = "sse_hub", container_port = 3701 }
  }
}
