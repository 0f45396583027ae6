variable "zone_name" {
  type        = string
  description = "Public hosted zone the name lives in, e.g. example.com."
}

variable "create_zone" {
  type        = bool
  description = "Create the hosted zone (then delegate it at the registrar) instead of using an existing one."
  default     = false
}

variable "domain_name" {
  type        = string
  description = "Name users open, e.g. chat.example.com; the certificate is issued for it."
}

variable "alb_dns_name" {
  type        = string
  description = "DNS name of the ALB the name points at."
}

variable "alb_zone_id" {
  type        = string
  description = "Route53 zone id of the ALB (for alias records)."
}

variable "validation_timeout" {
  type        = string
  description = "How long to wait for ACM to validate the certificate through DNS."
  default     = "45m"
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
