# The agent's session and message store: one table, single-table design (the agent writes the
# items; AGENT_DYNAMODB_TABLE names it). On-demand billing because chat traffic is bursty;
# point-in-time recovery and encryption at rest are on; expired items go by TTL. The index over
# turn locks is sparse (only lock items carry lock_bucket): crash recovery queries the locks
# whose lease ran out (lease_until < now) instead of scanning the table. Its name and keys are
# fixed by the agent (agent/src/store/dynamodb_items.h; tests/infra checks they agree).

resource "aws_dynamodb_table" "this" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.hash_key
  range_key                   = var.range_key
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = var.hash_key
    type = "S"
  }

  attribute {
    name = var.range_key
    type = "S"
  }

  attribute {
    name = "lock_bucket"
    type = "S"
  }

  attribute {
    name = "lease_until"
    type = "N"
  }

  global_secondary_index {
    name            = "locks_by_lease"
    hash_key        = "lock_bucket"
    range_key       = "lease_until"
    projection_type = "ALL"
  }

  ttl {
    enabled        = var.ttl_attribute != ""
    attribute_name = var.ttl_attribute
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
