# The keys the three containers share, kept in Secrets Manager as one JSON secret whose fields
# are named like the environment variables that receive them (ECS injects each field with
# valueFrom "ARN:FIELD::"). Secrets Manager generates the first values (the data source yields a
# fresh value on every read, so the version ignores later changes); a rotation done outside
# Terraform (put-secret-value) is kept, not reverted, and takes effect on the next deployment.

data "aws_secretsmanager_random_password" "key" {
  for_each = toset(var.generated_keys)

  password_length     = var.key_length
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "this" {
  name                    = "${var.name}/keys"
  description             = "Keys shared by app, agent and sse_hub (${join(", ", var.generated_keys)})."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "initial" {
  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = jsonencode(merge({ for k, p in data.aws_secretsmanager_random_password.key : k => p.random_password }, var.extra_values))

  lifecycle {
    ignore_changes = [secret_string]
  }
}
