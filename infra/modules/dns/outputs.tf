output "certificate_arn" {
  description = "ARN of the validated certificate (the HTTPS listener waits for validation through it)."
  value       = aws_acm_certificate_validation.this.certificate_arn
}

output "fqdn" {
  description = "The public name."
  value       = var.domain_name
}

output "zone_id" {
  description = "Hosted zone id."
  value       = local.zone_id
}

output "name_servers" {
  description = "Name servers of the hosted zone (set these at the registrar when create_zone is true)."
  value       = local.name_servers
}
