#!/usr/bin/env bash
# README command 1: set up, build, and run app, agent and sse_hub on this machine with the
# embedded defaults (SQLite store; the offline demo model unless AWS credentials are set).
#   scripts/run.sh             release build, all three in the foreground, Ctrl-C stops them
#   scripts/run.sh --debug     debug build
#   scripts/run.sh --prod-like [OPTIONS]
#                              the production-like stack: a network namespace behind an
#                              nginx + ModSecurity edge, with the fake Bedrock (see README,
#                              End-to-end tests); every option after --prod-like goes to
#                              scripts/prod_like.sh (--auth, --model, --publish, --origin)
#   scripts/run.sh --no-build --build-dir DIR
#                              start what DIR already holds (no set-up, no build; the tests do this)
#   scripts/run.sh --state-dir DIR
#                              keys, data and logs in DIR instead of .local/
# APP_LISTEN, AGENT_LISTEN and HUB_LISTEN move the three; the addresses they use to reach each
# other follow unless APP_AGENT_URL, APP_HUB_UPSTREAM or AGENT_HUB_URL are set.
# Data and logs go to .local/ (AGENT_SQLITE_PATH=.local/agent.db, .local/logs/).
set -euo pipefail
cd "$(dirname "$0")/.."

build_type=Release
build=""
no_build=""
prod_like=""
prod_like_args=()
state=.local
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) build_type=Debug ;;
    --release) build_type=Release ;;
    --prod-like) prod_like=1; shift; prod_like_args=("$@"); break ;;
    --no-build) no_build=1 ;;
    --build-dir) [ $# -ge 2 ] || { echo "run.sh: --build-dir needs a folder" >&2; exit 2; }; build=$2; shift ;;
    --state-dir) [ $# -ge 2 ] || { echo "run.sh: --state-dir needs a folder" >&2; exit 2; }; state=$2; shift ;;
    *) echo "run.sh: unknown option $1 (use --debug, --release, --no-build, --build-dir DIR, --state-dir DIR, or --prod-like [prod_like.sh options])" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$build" ] || build="build/$(echo "$build_type" | tr 'A-Z' 'a-z')"

: "${HUB_LISTEN:=0.0.0.0:3701}" "${AGENT_LISTEN:=127.0.0.1:8000}" "${APP_LISTEN:=0.0.0.0:8080}"
export HUB_LISTEN AGENT_LISTEN APP_LISTEN
: "${AGENT_HUB_URL:=http://127.0.0.1:${HUB_LISTEN##*:}/.well-known/mercure}"
: "${APP_AGENT_URL:=http://127.0.0.1:${AGENT_LISTEN##*:}}"
: "${APP_HUB_UPSTREAM:=http://127.0.0.1:${HUB_LISTEN##*:}}"
export AGENT_HUB_URL APP_AGENT_URL APP_HUB_UPSTREAM

if [ -z "$no_build" ]; then
  bash scripts/setup.sh
  launcher=()
  if command -v ccache >/dev/null; then
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  if [ -n "$prod_like" ]; then
    # The fake Bedrock (the production-like stack's model) is defined with the tests; only it is
    # built of them, not the tests themselves.
    cmake -S . -B "$build" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE="$build_type" -DSUITE_BUILD_TESTS=ON >/dev/null
    ninja -C "$build" app agent sse_hub fake_bedrock
  else
    cmake -S . -B "$build" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE="$build_type" -DSUITE_BUILD_TESTS=OFF >/dev/null
    ninja -C "$build" app agent sse_hub
  fi
fi
for name in app agent sse_hub; do
  if [ ! -x "$build/$name/$name" ]; then
    echo "run.sh: $build/$name/$name is missing (build it, or drop --no-build)" >&2
    exit 1
  fi
done

if [ -n "$prod_like" ]; then
  exec bash scripts/prod_like.sh --build "$build" "${prod_like_args[@]}"
fi

mkdir -p "$state/logs"
state=$(cd "$state" && pwd)
# Keys are made once and kept, so that browser cookies survive a restart.
if [ ! -f "$state/keys.env" ]; then
  (
    umask 077
    {
      echo "MERCURE_PUBLISHER_JWT_KEY=$(openssl rand -hex 32)"
      echo "MERCURE_SUBSCRIBER_JWT_KEY=$(openssl rand -hex 32)"
    } > "$state/keys.env"
  )
fi
set -a
# shellcheck disable=SC1091
. "$state/keys.env"
set +a
export AGENT_SQLITE_PATH="${AGENT_SQLITE_PATH:-$state/agent.db}"
if [ -z "${AGENT_MODEL_PROVIDER:-}" ]; then
  if [ -n "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" ]; then
    export AGENT_MODEL_PROVIDER=bedrock
  else
    export AGENT_MODEL_PROVIDER=demo
  fi
fi
export LOG_FORMAT="${LOG_FORMAT:-text}"

pids=()
stopping=""
stop_all() {
  trap - INT TERM EXIT
  stopping=1
  echo "run.sh: stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all INT TERM EXIT

start() {
  local name=$1
  "$build/$name/$name" >>"$state/logs/$name.log" 2>&1 &
  pids+=($!)
}
wait_healthy() {
  local name=$1 url=$2
  for _ in $(seq 1 300); do
    if curl -fs -o /dev/null "$url"; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run.sh: $name did not become healthy; last log lines:" >&2
  tail -n 20 "$state/logs/$name.log" >&2
  exit 1
}

start sse_hub; wait_healthy sse_hub "http://127.0.0.1:${HUB_LISTEN##*:}/healthz"
start agent;   wait_healthy agent "http://127.0.0.1:${AGENT_LISTEN##*:}/healthz"
start app;     wait_healthy app "http://127.0.0.1:${APP_LISTEN##*:}/healthz"

echo
echo "Agent Suite is running (model: $AGENT_MODEL_PROVIDER, store: ${AGENT_STORE:-sqlite})."
echo "Open http://localhost:${APP_LISTEN##*:}/"
echo "Logs: $state/logs/. Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
if [ -z "$stopping" ]; then
  echo "run.sh: a process exited on its own; see $state/logs/" >&2
  exit 1
fi
