#!/usr/bin/env bash
# Creates, once per AWS account and region, what Terraform needs before it can run: a versioned,
# encrypted, private S3 bucket for the state and a DynamoDB table for the state lock. Then writes
# envs/<env>/backend.hcl so that `terraform init -backend-config=backend.hcl` uses them.
# Running it again changes nothing.
#
#   infra/bootstrap.sh [--region us-east-1] [--env prod] [--bucket NAME] [--lock-table NAME]
#
# Needs: aws CLI v2 with credentials of an administrator of the account.
set -euo pipefail
cd "$(dirname "$0")"

region="${AWS_REGION:-us-east-1}"
env_name="prod"
bucket=""
lock_table="agent-suite-terraform-lock"

while [ $# -gt 0 ]; do
  case "$1" in
    --region) region="$2"; shift 2 ;;
    --env) env_name="$2"; shift 2 ;;
    --bucket) bucket="$2"; shift 2 ;;
    --lock-table) lock_table="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown argument $1" >&2; exit 2 ;;
  esac
done

[ -d "envs/$env_name" ] || { echo "bootstrap: no environment infra/envs/$env_name" >&2; exit 2; }
command -v aws >/dev/null || { echo "bootstrap: the aws CLI is required" >&2; exit 2; }

# Every AWS call gives up instead of hanging.
aws_() { aws --region "$region" --cli-read-timeout 60 --cli-connect-timeout 10 "$@"; }

account="$(aws_ sts get-caller-identity --query Account --output text)"
# Bucket names are global: the account id and region make this one unique.
bucket="${bucket:-agent-suite-tfstate-${account}-${region}}"
echo "bootstrap: account $account, region $region, bucket $bucket, lock table $lock_table"

if aws_ s3api head-bucket --bucket "$bucket" 2>/dev/null; then
  echo "bootstrap: bucket exists"
else
  if [ "$region" = "us-east-1" ]; then
    aws_ s3api create-bucket --bucket "$bucket" >/dev/null
  else
    aws_ s3api create-bucket --bucket "$bucket" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
  echo "bootstrap: bucket created"
fi
aws_ s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
aws_ s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"},"BucketKeyEnabled":true}]}'
aws_ s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws_ s3api put-bucket-policy --bucket "$bucket" --policy "$(cat <<JSON
{"Version":"2012-10-17","Statement":[{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*",
 "Resource":["arn:aws:s3:::$bucket","arn:aws:s3:::$bucket/*"],
 "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
JSON
)"

if aws_ dynamodb describe-table --table-name "$lock_table" >/dev/null 2>&1; then
  echo "bootstrap: lock table exists"
else
  aws_ dynamodb create-table --table-name "$lock_table" \
    --attribute-definitions AttributeName=LockID,AttributeType=S \
    --key-schema AttributeName=LockID,KeyType=HASH \
    --billing-mode PAY_PER_REQUEST --sse-specification Enabled=true >/dev/null
  aws_ dynamodb wait table-exists --table-name "$lock_table"
  echo "bootstrap: lock table created"
fi

cat > "envs/$env_name/backend.hcl" <<HCL
bucket         = "$bucket"
key            = "agent-suite/$env_name/terraform.tfstate"
region         = "$region"
dynamodb_table = "$lock_table"
encrypt        = true
HCL

echo "bootstrap: wrote infra/envs/$env_name/backend.hcl"
echo "bootstrap: next:"
echo "  cd infra/envs/$env_name"
echo "  cp terraform.tfvars.example terraform.tfvars   # set state_bucket = \"$bucket\" and the rest"
echo "  terraform init -backend-config=backend.hcl"
echo "  terraform apply"
