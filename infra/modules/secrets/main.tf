# The keys the three containers share, kept in Secrets Manager as one JSON secret whose fields
# are named like the environment variables that receive them (ECS injects each field with
# valueFrom "ARN:FIELD::").
#
# Terraform creates the secret but never writes its value, so no key ever sits in the Terraform
# state (which the plan role of every pull request reads): on the first apply, seed_keys.sh runs
# with the apply's own AWS credentials, asks Secrets Manager for random keys and stores them as
# the first version. It does nothing when the secret already has a current value, so a rotation
# done with put-secret-value is kept, and Terraform has no secret version to refresh (the plan
# role needs no secretsmanager:GetSecretValue).
#
# Environments that ran an older version of this module, which kept the first value in
# aws_secretsmanager_secret_version.initial: the next apply removes that resource from the
# state, and Secrets Manager keeps the value (the AWSCURRENT version cannot be deleted on its
# own). Older state files in the versioned bucket still hold it: rotate the keys afterwards.

data "aws_region" "current" {}

resource "aws_secretsmanager_secret" "this" {
  name                    = "${var.name}/keys"
  description             = "Keys shared by app, agent and sse_hub (${join(", ", var.generated_keys)})."
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "terraform_data" "seed" {
  # Once per secret: a replaced secret (new ARN) is seeded again.
  triggers_replace = [aws_secretsmanager_secret.this.arn]

  provisioner "local-exec" {
    command = "bash ${path.module}/seed_keys.sh"
    environment = {
      SEED_SECRET_ID  = aws_secretsmanager_secret.this.arn
      SEED_REGION     = data.aws_region.current.name
      SEED_FIELDS     = join(",", var.generated_keys)
      SEED_KEY_LENGTH = tostring(var.key_length)
    }
  }
}
