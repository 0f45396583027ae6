# Network access, least privilege: the internet reaches only the ALB on 80/443; the ALB reaches
# only the two container ports (app 8080, sse_hub 3701); the agent's 8000 is never reachable
# from outside the task (it listens on 127.0.0.1). Tasks may open HTTPS to AWS APIs, ECR and the
# model provider; any other egress port must be listed.

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "ALB: HTTP and HTTPS from the allowed ranges, to the task ports only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_security_group" "task" {
  name        = "${var.name}-task"
  description = "ECS task: container ports from the ALB only, HTTPS out"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-task" })
}

locals {
  listener_ports = toset(["80", "443"])
  ingress = {
    for pair in setproduct(tolist(local.listener_ports), var.allowed_ingress_cidrs) :
    "${pair[0]}-${pair[1]}" => { port = tonumber(pair[0]), cidr = pair[1] }
  }
  task_ports = { for name, port in var.task_ports : name => port }
}

resource "aws_vpc_security_group_ingress_rule" "alb_listener" {
  for_each = local.ingress

  security_group_id = aws_security_group.alb.id
  description       = "Listener ${each.value.port}"
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
  cidr_ipv4         = strcontains(each.value.cidr, ":") ? null : each.value.cidr
  cidr_ipv6         = strcontains(each.value.cidr, ":") ? each.value.cidr : null
}

resource "aws_vpc_security_group_egress_rule" "alb_to_task" {
  for_each = local.task_ports

  security_group_id            = aws_security_group.alb.id
  description                  = "To the ${each.key} container"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.task.id
}

# With OIDC sign-in the ALB itself calls the identity provider's token and user-info endpoints.
resource "aws_vpc_security_group_egress_rule" "alb_to_idp" {
  count = var.alb_oidc_egress ? 1 : 0

  security_group_id = aws_security_group.alb.id
  description       = "HTTPS to the OIDC identity provider"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "task_from_alb" {
  for_each = local.task_ports

  security_group_id            = aws_security_group.task.id
  description                  = "${each.key} from the ALB"
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
  referenced_security_group_id = aws_security_group.alb.id
}

resource "aws_vpc_security_group_egress_rule" "task_out" {
  for_each = toset([for p in var.task_egress_ports : tostring(p)])

  security_group_id = aws_security_group.task.id
  description       = "Outbound TCP ${each.key}"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
  cidr_ipv4         = "0.0.0.0/0"
}
