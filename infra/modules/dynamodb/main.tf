# The agent's session and message store: one table, single-table design (the agent writes the
# items; AGENT_DYNAMODB_TABLE names it). On-demand billing because chat traffic is bursty;
# point-in-time recovery and encryption at rest are on; expired items go by TTL.

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
