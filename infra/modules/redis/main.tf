# The Redis the hubs share (HUB_REDIS_URL): with more than one task, the agent on one task
# publishes to its own hub, and a browser may be subscribed to the hub of another; Redis pub/sub
# carries each update to every hub and a Redis stream keeps the history a reconnecting browser
# resumes from. A primary with a replica in another AZ and automatic failover; reachable only
# from the tasks' security group. The hub speaks plain redis:// (no TLS client), so transit
# encryption is off and the traffic stays inside the VPC; data at rest is encrypted.

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis for the hubs: only from the ECS tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-redis" })
}

resource "aws_vpc_security_group_ingress_rule" "from_tasks" {
  security_group_id            = aws_security_group.this.id
  description                  = "Redis from the ECS tasks"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = var.task_security_group_id
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_redis" {
  security_group_id            = var.task_security_group_id
  description                  = "To the hubs' Redis"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "Mercure hub fan-out and history for ${var.name}"
  engine                     = "redis"
  engine_version             = var.engine_version
  node_type                  = var.node_type
  port                       = var.port
  num_cache_clusters         = var.replicas + 1
  automatic_failover_enabled = var.replicas > 0
  multi_az_enabled           = var.replicas > 0
  subnet_group_name          = aws_elasticache_subnet_group.this.name
  security_group_ids         = [aws_security_group.this.id]
  at_rest_encryption_enabled = true
  transit_encryption_enabled = false
  snapshot_retention_limit   = 0
  apply_immediately          = false
  tags                       = var.tags
}
