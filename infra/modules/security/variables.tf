variable "name" {
  type        = string
  description = "Name prefix of the security groups."
}

variable "vpc_id" {
  type        = string
  description = "VPC the security groups belong to."
}

variable "allowed_ingress_cidrs" {
  type        = list(string)
  description = "Address ranges (IPv4 or IPv6) allowed to reach the ALB on 80 and 443."
  default     = ["0.0.0.0/0", "::/0"]
}

variable "task_ports" {
  type        = map(number)
  description = "Container ports the ALB forwards to, by container name."
  default     = { app = 8080, sse_hub = 3701 }
}

variable "task_egress_ports" {
  type        = list(number)
  description = "TCP ports tasks may connect out to (443: AWS APIs, ECR, Bedrock; add e.g. 6379 for Redis)."
  default     = [443]
}

variable "alb_oidc_egress" {
  type        = bool
  description = "Let the ALB open HTTPS connections out (needed when it signs users in with OIDC)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}
}
