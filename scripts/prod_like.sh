#!/usr/bin/env bash
# Starts the production-like stack in the foreground: app, agent and sse_hub in one fresh network
# namespace (as one ECS task), dynalite as the store, the fake Bedrock as the model, and nginx with
# ModSecurity and the OWASP CRS in front as the ALB + WAF. Prints the edge URL; Ctrl-C or SIGTERM
# stops everything and removes the namespace. The e2e tests use the same harness
# (tests/e2e/lib/production_like_stack.mjs).
#
# Needs root (ip netns), the Debian packages from scripts/setup.sh, the root node_modules
# (npm ci) and a build: --bin-dir DIR, or $SUITE_BIN_DIR, or ./build. --help lists the options.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ "$(id -u)" != 0 ]]; then
  echo "prod_like: needs root to create a network namespace (ip netns); try: sudo $0 $*" >&2
  exit 2
fi
for tool in ip nginx openssl curl node; do
  if ! command -v "$tool" >/dev/null; then
    echo "prod_like: '$tool' is missing; run scripts/setup.sh" >&2
    exit 2
  fi
done
if [[ ! -f node_modules/dynalite/cli.js ]]; then
  echo "prod_like: node_modules is missing dynalite; run: npm ci --no-audit --no-fund" >&2
  exit 2
fi

export SUITE_SOURCE_DIR="$root"
exec node scripts/prod_like/serve.mjs "$@"
