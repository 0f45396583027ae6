variable "table_name" {
  type        = string
  description = "Name of the table (the agent's AGENT_DYNAMODB_TABLE)."
}

variable "hash_key" {
  type        = string
  description = "Partition key attribute name (string) of the agent's single-table design."
  default     = "pk"
}

variable "range_key" {
  type        = string
  description = "Sort key attribute name (string) of the agent's single-table design."
  default     = "sk"
}

variable "ttl_attribute" {
  type        = string
  description = "Attribute holding an item's expiry (epoch seconds); empty disables TTL."
  default     = "expires_at"
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the table (turn off before destroying the environment)."
  default     = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for encryption at rest; null uses the AWS-owned key."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
