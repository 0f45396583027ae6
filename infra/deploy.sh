#!/usr/bin/env bash
# Builds the three images, pushes them to ECR, registers a new revision of the task definition
# with the new image tag (everything else copied from the latest revision, which Terraform owns),
# points the service at it, and waits until the service is stable on that revision. A deployment
# the circuit breaker rolls back makes this script fail.
#
#   infra/deploy.sh [--env prod] [--tag TAG] [--skip-build] [--timeout SECONDS]
#
# Names come from `terraform output` of infra/envs/<env> unless set in the environment:
#   ECR_REPOSITORY_APP, ECR_REPOSITORY_AGENT, ECR_REPOSITORY_SSE_HUB, ECS_CLUSTER, ECS_SERVICE,
#   TASK_FAMILY, AWS_REGION.
# Needs: docker with buildx, aws CLI v2, jq, git; terraform unless the names are set.
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd .. && pwd)"

env_name="prod"
tag=""
skip_build=""
timeout_s=1200

while [ $# -gt 0 ]; do
  case "$1" in
    --env) env_name="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
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

outputs=""
tf_output() {
  if [ -z "$outputs" ]; then
    command -v terraform >/dev/null || die "terraform is required to read the names (or set them in the environment)"
    outputs="$(terraform -chdir="envs/$env_name" output -json)"
  fi
  jq -r "$1" <<<"$outputs"
}

repo_app="${ECR_REPOSITORY_APP:-$(tf_output '.ecr_repository_urls.value.app')}"
repo_agent="${ECR_REPOSITORY_AGENT:-$(tf_output '.ecr_repository_urls.value.agent')}"
repo_hub="${ECR_REPOSITORY_SSE_HUB:-$(tf_output '.ecr_repository_urls.value.sse_hub')}"
cluster="${ECS_CLUSTER:-$(tf_output '.ecs_cluster_name.value')}"
service="${ECS_SERVICE:-$(tf_output '.ecs_service_name.value')}"
family="${TASK_FAMILY:-$(tf_output '.task_family.value')}"
region="${AWS_REGION:-$(aws configure get region || true)}"
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
