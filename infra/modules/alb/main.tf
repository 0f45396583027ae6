# The public entry: HTTP redirects to HTTPS; HTTPS (TLS 1.2 or 1.3 only) forwards
# /.well-known/mercure* to the hub's target group and everything else to the app's. The idle
# timeout is long because SSE responses stay open for minutes (the hub sends heartbeats well
# within it). Malformed header names are dropped before they reach the containers, which also
# keeps a client from smuggling an x-amzn-oidc-* look-alike header past the app.
# With OIDC configured, the ALB signs users in before the app sees a request and passes the
# x-amzn-oidc-data JWT the app verifies (APP_AUTH=alb-oidc).

resource "aws_lb" "this" {
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [var.security_group_id]
  subnets                    = var.public_subnet_ids
  idle_timeout               = var.idle_timeout
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  enable_http2               = true
  desync_mitigation_mode     = "defensive"

  dynamic "access_logs" {
    for_each = var.access_logs_bucket == null ? [] : [var.access_logs_bucket]
    content {
      bucket  = access_logs.value
      prefix  = var.name
      enabled = true
    }
  }

  tags = var.tags
}

locals {
  # Whether the ALB signs users in. var.oidc is sensitive (it holds the client secret), and so is
  # anything computed from it; Terraform 1.6 to 1.9 refuse a sensitive for_each in a dynamic
  # block ("Invalid dynamic for_each value", hashicorp/terraform#34071), so the dynamic block
  # below iterates over this non-sensitive flag instead of the object. Whether it is null is no
  # secret.
  oidc_enabled = nonsensitive(var.oidc != null)

  # Both targets answer GET /healthz with 200 while they can serve.
  targets = {
    app     = { port = var.app_port, stickiness = true }
    sse_hub = { port = var.hub_port, stickiness = true }
  }
}

resource "aws_lb_target_group" "this" {
  for_each = local.targets

  # Target group names are limited to 32 characters.
  name                 = substr("${var.name}-${replace(each.key, "_", "-")}", 0, 32)
  port                 = each.value.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = var.deregistration_delay

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  # Each target group keeps its own stickiness cookie, so a browser's API calls stay on one
  # task's app and its subscription on one task's hub, not necessarily the same task. That is
  # fine: the hubs of all tasks share delivery and history through Redis (hub_redis), so an update
  # the agent of any task publishes reaches the subscriber on any hub, and a reconnecting
  # EventSource resumes from its last id on whichever hub it lands. Stickiness only keeps a
  # reconnect from moving between hubs (and a user's rate limit on one app) needlessly.
  stickiness {
    type            = "lb_cookie"
    enabled         = each.value.stickiness
    cookie_duration = var.stickiness_seconds
  }

  tags = var.tags
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  dynamic "default_action" {
    for_each = local.oidc_enabled ? [1] : []
    content {
      type  = "authenticate-oidc"
      order = 1
      authenticate_oidc {
        issuer                     = var.oidc.issuer
        authorization_endpoint     = var.oidc.authorization_endpoint
        token_endpoint             = var.oidc.token_endpoint
        user_info_endpoint         = var.oidc.user_info_endpoint
        client_id                  = var.oidc.client_id
        client_secret              = var.oidc.client_secret
        scope                      = "openid email profile"
        on_unauthenticated_request = "authenticate"
        session_timeout            = 43200
      }
    }
  }

  default_action {
    type             = "forward"
    order            = local.oidc_enabled ? 2 : 1
    target_group_arn = aws_lb_target_group.this["app"].arn
  }
}

resource "aws_lb_listener_rule" "hub" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this["sse_hub"].arn
  }

  condition {
    path_pattern {
      values = [var.hub_path_pattern]
    }
  }
}
