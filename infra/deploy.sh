#!/usr/bin/env bash
# Builds the three images, pushes them to ECR, registers a new revision of the task definition
# with the new image tag (everything else copied from the latest revision, which Terraform owns),
# points the service at it, and waits until the service is stable on that revision. A deployment
# the circuit breaker rolls back makes this script fail.
#
#   infra/deploy.sh [--env prod] [--parameter NAME] [--tag TAG] [--skip-build] [--timeout SECONDS]
#
# Names come from the environment when set (ECR_REPOSITORY_APP, ECR_REPOSITORY_AGENT,
# ECR_REPOSITORY_SSE_HUB, ECS_CLUSTER, ECS_SERVICE, TASK_FAMILY, AWS_REGION), else from the SSM
# parameter Terraform writes (--parameter /agent-suite-prod/deploy, or $DEPLOY_PARAMETER; what the
# GitHub deploy role reads, as it may not read the Terraform state), else from `terraform output`
# of infra/envs/<env>.
# Needs: docker with buildx, aws CLI v2, jq, git; terraform only for the last way.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"

env_name="prod"
tag=""
parameter="${DEPLOY_PARAMETER:-}"
skip_build=""
timeout_s=1200

while [ $# -gt 0 ]; do
  case "$1" in
    --env) env_name="$2"; shift 2 ;;
    --parameter) parameter="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "deploy: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "deploy: $*" >&2; }
die() { log "$*"; exit 1; }
for tool in aws jq git; do command -v "$tool" >/dev/null || die "$tool is required"; done

# An image tag names one commit; a dirty tree would make the tag lie.
if [ -z "$tag" ]; then
  if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
    die "the working tree has uncommitted changes; commit them or pass --tag"
  fi
  tag="$(git -C "$root" rev-parse --short=12 HEAD)"
fi

# The names as one JSON object shaped like the SSM parameter: {ecr_repository_urls: {app, agent,
# sse_hub}, ecs_cluster_name, ecs_service_name, task_family, region}.
names=""
load_names() {
  [ -z "$names" ] || return 0
  if [ -n "$parameter" ]; then
    local where="${AWS_REGION:-$(aws configure get region || true)}"
    [ -n "$where" ] || die "set AWS_REGION to read the parameter $parameter"
    names="$(aws --region "$where" --cli-read-timeout 60 --cli-connect-timeout 10 ssm get-parameter \
      --name "$parameter" --query Parameter.Value --output text)" || die "cannot read the SSM parameter $parameter"
  else
    command -v terraform >/dev/null || die "terraform is required to read the names (or pass --parameter, or set them in the environment)"
    names="$(terraform -chdir="envs/$env_name" output -json | jq '
      {ecr_repository_urls: .ecr_repository_urls.value, ecs_cluster_name: .ecs_cluster_name.value,
       ecs_service_name: .ecs_service_name.value, task_family: .task_family.value}')"
  fi
}
name_of() {
  local value
  value="$(jq -r "$1 // empty" <<<"$names")"
  [ -n "$value" ] || die "no $1 in the environment's names"
  printf '%s\n' "$value"
}

# Loaded once here (name_of runs in subshells), and only when the environment lacks a name.
if [ -z "${ECR_REPOSITORY_APP:-}" ] || [ -z "${ECR_REPOSITORY_AGENT:-}" ] || [ -z "${ECR_REPOSITORY_SSE_HUB:-}" ] \
  || [ -z "${ECS_CLUSTER:-}" ] || [ -z "${ECS_SERVICE:-}" ] || [ -z "${TASK_FAMILY:-}" ]; then
  load_names
fi
repo_app="${ECR_REPOSITORY_APP:-$(name_of '.ecr_repository_urls.app')}"
repo_agent="${ECR_REPOSITORY_AGENT:-$(name_of '.ecr_repository_urls.agent')}"
repo_hub="${ECR_REPOSITORY_SSE_HUB:-$(name_of '.ecr_repository_urls.sse_hub')}"
cluster="${ECS_CLUSTER:-$(name_of '.ecs_cluster_name')}"
service="${ECS_SERVICE:-$(name_of '.ecs_service_name')}"
family="${TASK_FAMILY:-$(name_of '.task_family')}"
region="${AWS_REGION:-$(jq -r '.region // empty' <<<"${names:-{\}}")}"
region="${region:-$(aws configure get region || true)}"
[ -n "$region" ] || die "set AWS_REGION"

aws_() { aws --region "$region" --cli-read-timeout 60 --cli-connect-timeout 10 "$@"; }

declare -A repos=([app]="$repo_app" [agent]="$repo_agent" [sse_hub]="$repo_hub")
registry="${repo_app%%/*}"
log "tag $tag, cluster $cluster, service $service, family $family, registry $registry"

if [ -z "$skip_build" ]; then
  command -v docker >/dev/null || die "docker is required"
  aws_ ecr get-login-password | docker login --username AWS --password-stdin "$registry" >/dev/null
  for target in app agent sse_hub; do
    repo="${repos[$target]}"
    repo_name="${repo#*/}"
    # Tags are immutable: an image already pushed for this commit is reused, not rebuilt.
    if aws_ ecr describe-images --repository-name "$repo_name" --image-ids "imageTag=$tag" >/dev/null 2>&1; then
      log "$target: $repo:$tag already in ECR"
      continue
    fi
    log "$target: building and pushing"
    docker buildx build --platform linux/amd64 --target "$target" \
      --label "org.opencontainers.image.revision=$(git -C "$root" rev-parse HEAD)" \
      --tag "$repo:$tag" --push "$root"
  done
fi

# The latest revision carries Terraform's settings; only the images change.
current="$(aws_ ecs describe-task-definition --task-definition "$family" --include TAGS --output json)"
images="$(jq -n --arg app "$repo_app:$tag" --arg agent "$repo_agent:$tag" --arg hub "$repo_hub:$tag" \
  '{app: $app, agent: $agent, sse_hub: $hub}')"
input="$(jq --argjson images "$images" '
  .tags as $tags
  | .taskDefinition
  | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
        .registeredAt, .registeredBy, .deregisteredAt)
  | .containerDefinitions |= map(.image = ($images[.name] // error("no image for container \(.name)")))
  | if ($tags | length) > 0 then .tags = $tags else . end' <<<"$current")"

new_arn="$(aws_ ecs register-task-definition --cli-input-json "$input" \
  --query taskDefinition.taskDefinitionArn --output text)"
log "registered $new_arn"

aws_ ecs update-service --cluster "$cluster" --service "$service" --task-definition "$new_arn" \
  --query service.serviceName --output text >/dev/null
log "rolling out; waiting up to ${timeout_s}s for the service to be stable"

deadline=$(( $(date +%s) + timeout_s ))
while :; do
  state="$(aws_ ecs describe-services --cluster "$cluster" --services "$service" --output json \
    | jq -r --arg arn "$new_arn" '
        .services[0] as $s
        | ($s.deployments | map(select(.status == "PRIMARY")) | .[0]) as $p
        | if $p.taskDefinition != $arn then "rolled-back"
          elif $p.rolloutState == "FAILED" then "failed"
          elif $p.rolloutState == "COMPLETED" and ($s.deployments | length) == 1
               and $p.runningCount == $p.desiredCount then "stable"
          else "in-progress \($p.runningCount)/\($p.desiredCount) running" end')"
  case "$state" in
    stable) log "service stable on $new_arn"; break ;;
    rolled-back|failed) die "deployment $state: the circuit breaker returned to the previous revision; see the service events" ;;
  esac
  [ "$(date +%s)" -lt "$deadline" ] || die "not stable after ${timeout_s}s ($state)"
  log "$state"
  sleep 15
done
