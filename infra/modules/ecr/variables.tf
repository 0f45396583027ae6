variable "name_prefix" {
  type        = string
  description = "Repository name prefix; repositories are named PREFIX/IMAGE."
}

variable "repositories" {
  type        = list(string)
  description = "Image names, one repository each (the Dockerfile targets)."
  default     = ["app", "agent", "sse_hub"]
}

variable "keep_images" {
  type        = number
  description = "How many of the newest images each repository keeps; older ones expire."
  default     = 10

  validation {
    condition     = var.keep_images >= 1
    error_message = "keep_images must be at least 1."
  }
}

variable "force_delete" {
  type        = bool
  description = "Allow destroying a repository that still holds images."
  default     = false
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for the images; null uses AES256."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
