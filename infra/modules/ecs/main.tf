# The cluster and the task definition: one Fargate task, three containers sharing localhost
# (awsvpc), mirroring compose.yaml service for service: the same images, ports, variables and
# health checks. The app is essential and first; sse_hub starts with it; the agent waits for a
# healthy hub, as in compose. Secrets come from Secrets Manager, never from plain variables.

data "aws_region" "current" {}

resource "aws_ecs_cluster" "this" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

locals {
  region = data.aws_region.current.name

  # Container settings by name: what each executable reads (DESIGN §3). tests/infra checks these
  # against compose.yaml and against the settings the C++ code reads.
  app_environment_defaults = {
    APP_LISTEN       = "0.0.0.0:8080"
    APP_AGENT_URL    = "http://127.0.0.1:8000"
    APP_HUB_UPSTREAM = "http://127.0.0.1:3701"
    APP_AUTH         = var.app_auth
    # Behind the ALB's HTTPS: Secure cookies and HSTS. With APP_AUTH=alb-oidc the app verifies
    # the ALB's x-amzn-oidc-data JWT: signed by this ALB, keys from the region's ELB key server.
    APP_COOKIE_SECURE   = "1"
    APP_HSTS            = "1"
    APP_OIDC_SIGNER_ARN = var.app_auth == "alb-oidc" ? var.alb_arn : ""
    APP_OIDC_KEYS_URL   = var.app_auth == "alb-oidc" ? "https://public-keys.auth.elb.${local.region}.amazonaws.com" : ""
    LOG_LEVEL           = var.log_level
    LOG_FORMAT          = "json"
  }
  app_environment = merge(local.app_environment_defaults, lookup(var.extra_environment, "app", {}))

  app_secrets = {
    MERCURE_SUBSCRIBER_JWT_KEY = var.secret_value_from["MERCURE_SUBSCRIBER_JWT_KEY"]
  }

  hub_environment_defaults = {
    HUB_LISTEN        = "0.0.0.0:3701"
    MERCURE_ANONYMOUS = "0"
    # Several tasks, several hubs: they share updates and history through Redis.
    HUB_REDIS_URL = var.hub_redis_url
    LOG_LEVEL     = var.log_level
    LOG_FORMAT    = "json"
  }
  hub_environment = merge(local.hub_environment_defaults, lookup(var.extra_environment, "sse_hub", {}))

  hub_secrets = {
    MERCURE_PUBLISHER_JWT_KEY  = var.secret_value_from["MERCURE_PUBLISHER_JWT_KEY"]
    MERCURE_SUBSCRIBER_JWT_KEY = var.secret_value_from["MERCURE_SUBSCRIBER_JWT_KEY"]
  }

  agent_environment_defaults = {
    AGENT_LISTEN         = "127.0.0.1:8000"
    AGENT_MODEL_PROVIDER = var.model_provider
    BEDROCK_MODEL_ID     = var.bedrock_model_id
    AGENT_STORE          = "dynamodb"
    AGENT_DYNAMODB_TABLE = var.dynamodb_table_name
    AGENT_HUB_URL        = "http://127.0.0.1:3701/.well-known/mercure"
    AWS_REGION           = local.region
    LOG_LEVEL            = var.log_level
    LOG_FORMAT           = "json"
  }
  agent_environment = merge(local.agent_environment_defaults, lookup(var.extra_environment, "agent", {}))

  agent_secrets = {
    MERCURE_PUBLISHER_JWT_KEY = var.secret_value_from["MERCURE_PUBLISHER_JWT_KEY"]
  }

  # The same probes as compose.yaml: curl inside the container against its own /healthz.
  health_check = {
    interval    = 10
    timeout     = 3
    retries     = 3
    startPeriod = 10
  }

  log_configuration = {
    for name in ["app", "sse_hub", "agent"] : name => {
      logDriver = "awslogs"
      options = {
        awslogs-group         = var.log_groups[name]
        awslogs-region        = local.region
        awslogs-stream-prefix = name
        mode                  = "non-blocking"
        max-buffer-size       = "4m"
      }
    }
  }

  containers = [
    {
      name                   = "app"
      image                  = "${var.images["app"]}:${var.image_tag}"
      essential              = true
      readonlyRootFilesystem = true
      stopTimeout            = var.stop_timeout
      portMappings           = [{ name = "app", containerPort = 8080, protocol = "tcp", appProtocol = "http" }]
      environment            = [for k, v in local.app_environment : { name = k, value = v }]
      secrets                = [for k, v in local.app_secrets : { name = k, valueFrom = v }]
      healthCheck = merge(local.health_check, {
        command = ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
      })
      linuxParameters  = { initProcessEnabled = true }
      logConfiguration = local.log_configuration["app"]
    },
    {
      name                   = "sse_hub"
      image                  = "${var.images["sse_hub"]}:${var.image_tag}"
      essential              = true
      readonlyRootFilesystem = true
      stopTimeout            = var.stop_timeout
      portMappings           = [{ name = "sse_hub", containerPort = 3701, protocol = "tcp", appProtocol = "http" }]
      environment            = [for k, v in local.hub_environment : { name = k, value = v }]
      secrets                = [for k, v in local.hub_secrets : { name = k, valueFrom = v }]
      healthCheck = merge(local.health_check, {
        command = ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:3701/healthz"]
      })
      dependsOn        = [{ containerName = "app", condition = "START" }]
      linuxParameters  = { initProcessEnabled = true }
      logConfiguration = local.log_configuration["sse_hub"]
      ulimits          = [{ name = "nofile", softLimit = var.hub_nofile_limit, hardLimit = var.hub_nofile_limit }]
    },
    {
      name                   = "agent"
      image                  = "${var.images["agent"]}:${var.image_tag}"
      essential              = true
      readonlyRootFilesystem = true
      stopTimeout            = var.stop_timeout
      # No port mapping: the agent listens on 127.0.0.1 and only the app reaches it.
      portMappings = []
      environment  = [for k, v in local.agent_environment : { name = k, value = v }]
      secrets      = [for k, v in local.agent_secrets : { name = k, valueFrom = v }]
      healthCheck = merge(local.health_check, {
        command = ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8000/healthz"]
      })
      dependsOn = [
        { containerName = "app", condition = "START" },
        { containerName = "sse_hub", condition = "HEALTHY" },
      ]
      linuxParameters  = { initProcessEnabled = true }
      logConfiguration = local.log_configuration["agent"]
    },
  ]
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn
  container_definitions    = jsonencode(local.containers)

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  tags = var.tags
}
