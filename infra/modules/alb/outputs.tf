output "alb_arn" {
  description = "ARN of the load balancer (WAF attaches to it)."
  value       = aws_lb.this.arn
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "zone_id" {
  description = "Route53 zone id of the load balancer (for alias records)."
  value       = aws_lb.this.zone_id
}

output "target_group_arns" {
  description = "Target group ARN by target (app, sse_hub)."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn }
}

output "target_group_arn_suffixes" {
  description = "Target group ARN suffix by target (CloudWatch dimension, request-count scaling)."
  value       = { for k, tg in aws_lb_target_group.this : k => tg.arn_suffix }
}

output "https_listener_arn" {
  description = "ARN of the HTTPS listener."
  value       = aws_lb_listener.https.arn
}
