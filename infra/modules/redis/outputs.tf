output "url" {
  description = "HUB_REDIS_URL for the hubs (the primary endpoint, which follows failover)."
  value       = "redis://${aws_elasticache_replication_group.this.primary_endpoint_address}:${var.port}"
}

output "security_group_id" {
  description = "Security group of the cache nodes."
  value       = aws_security_group.this.id
}
