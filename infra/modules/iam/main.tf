# Who may do what.
#  - execution role: what ECS itself needs to start the task (pull images, write logs, read the
#    one secret it injects into the containers).
#  - task role: what the running containers may call, scoped to the one table (and its indexes),
#    the configured Bedrock models and inference profiles, and the one secret.
#  - GitHub OIDC roles: a read-only plan role for pull requests, and for the main branch a
#    deploy role (push images, roll out task definitions) and a Terraform apply role. No
#    long-lived AWS keys are stored in GitHub.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  # Foundation models are regional and account-less; cross-region inference profiles live in the
  # account and route to the model in several regions.
  bedrock_resources = flatten([
    for id in var.bedrock_model_ids : [
      "arn:${local.partition}:bedrock:*::foundation-model/${replace(id, "/^(us|eu|apac|global)\\./", "")}",
      "arn:${local.partition}:bedrock:${local.region}:${local.account_id}:inference-profile/${id}",
    ]
  ])
}

data "aws_iam_policy_document" "ecs_tasks_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- execution role --------------------------------------------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution_managed" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    sid       = "InjectSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }
  dynamic "statement" {
    for_each = var.kms_key_arns
    content {
      sid       = "DecryptSecrets${statement.key}"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

# --- task role -------------------------------------------------------------------------------

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "SessionStore"
    # Exactly the operations the agent's DynamoDB store calls (tests/infra checks this against
    # the code); Terraform owns the table, so no CreateTable or UpdateTimeToLive. Query on
    # .../index/* is the recovery sweep over the locks_by_lease index; no Scan.
    actions = [
      "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
      "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable",
    ]
    resources = [var.dynamodb_table_arn, "${var.dynamodb_table_arn}/index/*"]
  }

  statement {
    sid       = "Model"
    actions   = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    resources = local.bedrock_resources
  }

  statement {
    sid       = "Keys"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.secret_arns
  }

  dynamic "statement" {
    for_each = var.kms_key_arns
    content {
      sid       = "DecryptKeys${statement.key}"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }

  # ECS Exec (aws ecs execute-command) for operators, only when enabled on the service.
  dynamic "statement" {
    for_each = var.enable_execute_command ? [1] : []
    content {
      sid = "EcsExec"
      actions = [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "agent-suite"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# --- GitHub Actions through OIDC -------------------------------------------------------------

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = var.github_oidc_thumbprints
  tags            = var.tags
}

data "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 0 : 1
  url   = "https://token.actions.githubusercontent.com"
}

locals {
  github_provider_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : data.aws_iam_openid_connect_provider.github[0].arn
  # Workflows on main, or jobs bound to the deployment environment, may deploy and apply.
  github_main_subjects = [
    "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}",
    "repo:${var.github_repository}:environment:${var.github_environment}",
  ]
  github_plan_subjects = concat(local.github_main_subjects, ["repo:${var.github_repository}:pull_request"])
}

data "aws_iam_policy_document" "github_trust" {
  for_each = {
    plan   = local.github_plan_subjects
    deploy = local.github_main_subjects
    apply  = local.github_main_subjects
  }

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.github_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = each.value
    }
  }
}

resource "aws_iam_role" "github" {
  for_each = data.aws_iam_policy_document.github_trust

  name                 = "${var.name}-github-${each.key}"
  assume_role_policy   = each.value.json
  max_session_duration = 3600
  tags                 = var.tags
}

# deploy: push images to the three repositories, register task definitions of this family (with
# the tags the previous revision carries), roll the one service, pass only the two task roles, and
# read the one parameter that names these resources. It never reads the Terraform state: the state
# holds the OIDC client secret of the ALB listener.
data "aws_iam_policy_document" "github_deploy" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload",
      "ecr:DescribeImages", "ecr:DescribeImageScanFindings", "ecr:InitiateLayerUpload",
      "ecr:PutImage", "ecr:UploadLayerPart",
    ]
    resources = var.ecr_repository_arns
  }
  statement {
    sid       = "TaskDefinitions"
    actions   = ["ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition", "ecs:ListTaskDefinitions"]
    resources = ["*"] # these actions do not support resource-level permissions
  }
  # RegisterTaskDefinition with tags (deploy.sh copies the previous revision's, and the provider's
  # default_tags make sure there are some) is also authorized as ecs:TagResource; the condition
  # allows it only as part of registering, never on an existing resource.
  statement {
    sid       = "TagNewTaskDefinitions"
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${var.task_family}:*"]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }
  statement {
    sid       = "Rollout"
    actions   = ["ecs:UpdateService", "ecs:DescribeServices"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${var.ecs_cluster_name}/${var.ecs_service_name}"]
  }
  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid       = "ReadDeployParameter"
    actions   = ["ssm:GetParameter"]
    resources = [var.deploy_parameter_arn]
  }
}

resource "aws_iam_role_policy" "github_deploy" {
  name   = "deploy"
  role   = aws_iam_role.github["deploy"].id
  policy = data.aws_iam_policy_document.github_deploy.json
}

# plan: ReadOnlyAccess, the state bucket and lock table Terraform needs to plan, two tag reads
# that older versions of ReadOnlyAccess lack (the provider reads the tags of every tagged
# resource while refreshing, and default_tags tag them all), and no access to the users' data.
# Nothing planned here needs a secret value: no resource keeps one in the state (modules/secrets
# stores the keys outside Terraform), so there is no secretsmanager:GetSecretValue or
# GetRandomPassword.
data "aws_iam_policy_document" "github_state" {
  statement {
    sid       = "State"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.state_bucket_arn}/*"]
  }
  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = [var.state_bucket_arn]
  }
  statement {
    sid       = "Lock"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = [var.state_lock_table_arn]
  }
  statement {
    sid       = "RefreshTags"
    actions   = ["application-autoscaling:ListTagsForResource", "logs:ListTagsForResource"]
    resources = ["*"]
  }
  # ReadOnlyAccess includes dynamodb:GetItem, Query and Scan on every table; a pull request's
  # plan has no business reading the conversations.
  statement {
    sid    = "NoSessionData"
    effect = "Deny"
    actions = [
      "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
      "dynamodb:PartiQLSelect", "dynamodb:GetRecords", "dynamodb:ExportTableToPointInTime",
    ]
    resources = [var.dynamodb_table_arn, "${var.dynamodb_table_arn}/*"]
  }
}

resource "aws_iam_role_policy" "github_plan_state" {
  name   = "terraform-state"
  role   = aws_iam_role.github["plan"].id
  policy = data.aws_iam_policy_document.github_state.json
}

resource "aws_iam_role_policy_attachment" "github_plan_read" {
  role       = aws_iam_role.github["plan"].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

# apply: manages every resource of the environment (including IAM), so it gets the policies the
# operator chooses (AdministratorAccess by default) and is reachable only from main.
resource "aws_iam_role_policy_attachment" "github_apply" {
  for_each   = toset(var.terraform_apply_policy_arns)
  role       = aws_iam_role.github["apply"].name
  policy_arn = each.value
}
