# The production environment: every module wired together. One ECS task per replica runs app,
# agent and sse_hub sharing localhost; the ALB (behind WAF) sends /.well-known/mercure* to the
# hub and everything else to the app.

locals {
  name = "${var.project}-${var.environment}"
  tags = merge(var.tags, { Project = var.project, Environment = var.environment, ManagedBy = "terraform" })

  # Must match the containers of infra/modules/ecs and the services of compose.yaml.
  containers = ["app", "agent", "sse_hub"]

  # The one thing the GitHub deploy role reads (infra/deploy.sh --parameter): the names of what it
  # rolls out. A parameter ARN drops the name's leading slash after "parameter".
  deploy_parameter     = "/${local.name}/deploy"
  deploy_parameter_arn = "arn:aws:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.deploy_parameter}"
}

data "aws_caller_identity" "current" {}

module "network" {
  source = "../../modules/network"

  name               = local.name
  cidr_block         = var.vpc_cidr
  az_count           = var.az_count
  nat_gateway_per_az = var.nat_gateway_per_az
  tags               = local.tags
}

module "dynamodb" {
  source = "../../modules/dynamodb"

  table_name          = local.name
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "ecr" {
  source = "../../modules/ecr"

  name_prefix  = var.project
  repositories = local.containers
  tags         = local.tags
}

module "observability" {
  source = "../../modules/observability"

  name           = local.name
  containers     = local.containers
  retention_days = var.log_retention_days
  tags           = local.tags
}

module "secrets" {
  source = "../../modules/secrets"

  name = local.name
  tags = local.tags
}

module "security" {
  source = "../../modules/security"

  name                  = local.name
  vpc_id                = module.network.vpc_id
  allowed_ingress_cidrs = var.allowed_ingress_cidrs
  alb_oidc_egress       = var.app_auth == "alb-oidc"
  tags                  = local.tags
}

module "redis" {
  source = "../../modules/redis"
  count  = var.hub_redis ? 1 : 0

  name                   = local.name
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  task_security_group_id = module.security.task_security_group_id
  node_type              = var.redis_node_type
  tags                   = local.tags
}

module "iam" {
  source = "../../modules/iam"

  name                        = local.name
  dynamodb_table_arn          = module.dynamodb.table_arn
  bedrock_model_ids           = [var.bedrock_model_id]
  secret_arns                 = [module.secrets.secret_arn]
  enable_execute_command      = var.enable_execute_command
  create_github_oidc_provider = var.create_github_oidc_provider
  github_repository           = var.github_repository
  ecr_repository_arns         = values(module.ecr.repository_arns)
  ecs_cluster_name            = local.name
  ecs_service_name            = local.name
  task_family                 = local.name
  deploy_parameter_arn        = local.deploy_parameter_arn
  state_bucket_arn            = "arn:aws:s3:::${var.state_bucket}"
  state_lock_table_arn        = "arn:aws:dynamodb:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.state_lock_table}"
  tags                        = local.tags
}

module "ecs" {
  source = "../../modules/ecs"

  name                = local.name
  images              = module.ecr.repository_urls
  image_tag           = var.image_tag
  cpu                 = var.task_cpu
  memory              = var.task_memory
  execution_role_arn  = module.iam.execution_role_arn
  task_role_arn       = module.iam.task_role_arn
  log_groups          = module.observability.container_log_groups
  secret_value_from   = module.secrets.value_from
  dynamodb_table_name = module.dynamodb.table_name
  model_provider      = var.model_provider
  bedrock_model_id    = var.bedrock_model_id
  app_auth            = var.app_auth
  alb_arn             = module.alb.alb_arn
  extra_environment   = var.extra_environment
  hub_redis_url       = var.hub_redis ? module.redis[0].url : ""
  tags                = local.tags
}

module "dns" {
  source = "../../modules/dns"

  zone_name    = var.zone_name
  create_zone  = var.create_zone
  domain_name  = var.domain_name
  alb_dns_name = module.alb.dns_name
  alb_zone_id  = module.alb.zone_id
  tags         = local.tags
}

module "alb" {
  source = "../../modules/alb"

  name                = local.name
  vpc_id              = module.network.vpc_id
  public_subnet_ids   = module.network.public_subnet_ids
  security_group_id   = module.security.alb_security_group_id
  certificate_arn     = module.dns.certificate_arn
  oidc                = var.oidc
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "ecs_service" {
  source = "../../modules/ecs_service"

  name                = local.name
  cluster_arn         = module.ecs.cluster_arn
  cluster_name        = module.ecs.cluster_name
  task_definition_arn = module.ecs.task_definition_arn
  private_subnet_ids  = module.network.private_subnet_ids
  security_group_id   = module.security.task_security_group_id
  load_balancers = [
    for target, c in module.ecs.load_balanced_containers : {
      target_group_arn = module.alb.target_group_arns[target]
      container_name   = c.container_name
      container_port   = c.container_port
    }
  ]
  alb_arn_suffix                        = module.alb.alb_arn_suffix
  request_count_target_group_arn_suffix = module.alb.target_group_arn_suffixes["app"]
  min_tasks                             = var.min_tasks
  max_tasks                             = var.max_tasks
  enable_execute_command                = var.enable_execute_command
  tags                                  = local.tags

  # ECS refuses a target group that no listener uses yet.
  depends_on = [module.alb]
}

module "waf" {
  source = "../../modules/waf"

  name          = local.name
  alb_arn       = module.alb.alb_arn
  log_group_arn = module.observability.waf_log_group_arn
  rate_limit    = var.waf_rate_limit
  tags          = local.tags
}

module "alarms" {
  source = "../../modules/alarms"

  name                      = local.name
  alarm_emails              = var.alarm_emails
  alb_arn_suffix            = module.alb.alb_arn_suffix
  target_group_arn_suffixes = module.alb.target_group_arn_suffixes
  cluster_name              = module.ecs.cluster_name
  service_name              = module.ecs_service.service_name
  min_running_tasks         = var.min_tasks
  tags                      = local.tags
}

# What infra/deploy.sh needs from this environment, readable without the Terraform state (which
# holds the ALB's OIDC client secret): the deploy role may read this parameter and nothing else
# of Terraform's.
resource "aws_ssm_parameter" "deploy" {
  name        = local.deploy_parameter
  description = "Names infra/deploy.sh rolls out to (written by Terraform)."
  type        = "String"
  value = jsonencode({
    region              = var.region
    ecr_repository_urls = module.ecr.repository_urls
    ecs_cluster_name    = module.ecs.cluster_name
    ecs_service_name    = module.ecs_service.service_name
    task_family         = module.ecs.task_family
  })
  tags = local.tags
}
