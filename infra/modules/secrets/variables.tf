variable "name" {
  type        = string
  description = "Name prefix of the secret (the secret is NAME/keys)."
}

variable "generated_keys" {
  type        = list(string)
  description = "Fields seed_keys.sh fills with a random key on the first apply (the HS256 Mercure keys)."
  default     = ["MERCURE_PUBLISHER_JWT_KEY", "MERCURE_SUBSCRIBER_JWT_KEY"]
}

variable "extra_fields" {
  type        = list(string)
  description = "Further fields an operator adds to the secret by hand with put-secret-value (for example an OpenAI-compatible API key); value_from names them too. Their values never pass through Terraform."
  default     = []
}

variable "key_length" {
  type        = number
  description = "Length of each generated key in characters (letters and digits)."
  default     = 64

  validation {
    condition     = var.key_length >= 32
    error_message = "key_length must be at least 32 characters for an HS256 key."
  }
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored (0 deletes at once)."
  default     = 7
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the secret; null uses the AWS-managed aws/secretsmanager key."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
