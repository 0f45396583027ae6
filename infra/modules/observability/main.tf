# Where logs go: one CloudWatch log group per container (the awslogs driver writes the
# executables' JSON lines there) and one for WAF, whose name AWS requires to start with
# "aws-waf-logs-". Retention is bounded so logs do not grow without limit.

resource "aws_cloudwatch_log_group" "container" {
  for_each = toset(var.containers)

  name              = "/ecs/${var.name}/${each.key}"
  retention_in_days = var.retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name}"
  retention_in_days = var.retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}
