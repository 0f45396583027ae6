variable "name" {
  type        = string
  description = "Name prefix for the VPC and its parts."
}

variable "cidr_block" {
  type        = string
  description = "IPv4 range of the VPC; split into 16 subnets (public from index 0, private from index 8)."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0))
    error_message = "cidr_block must be an IPv4 CIDR such as 10.40.0.0/16."
  }
}

variable "az_count" {
  type        = number
  description = "How many availability zones to spread subnets over (the ALB needs at least 2)."
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be between 2 and 6."
  }
}

variable "nat_gateway_per_az" {
  type        = bool
  description = "One NAT gateway per AZ (survives an AZ outage) instead of one shared NAT gateway (cheaper)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
