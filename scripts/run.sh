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
# Data and logs go to .local/ (AGENT_SQLITE_PATH=.local/agent.db, .local/logs/).
set -euo pipefail
cd "$(dirname "$0")/.."

build_type=Release
prod_like=""
prod_like_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) build_type=Debug ;;
    --release) build_type=Release ;;
    --prod-like) prod_like=1; shift; prod_like_args=("$@"); break ;;
    *) echo "run.sh: unknown option $1 (use --debug, --release, or --prod-like [prod_like.sh options])" >&2; exit 2 ;;
  esac
  shift
done

: "${HUB_LISTEN:=0.0.0.0:3701}" "${AGENT_LISTEN:=127.0.0.1:8000}" "${APP_LISTEN:=0.0.0.0:8080}"
export HUB_LISTEN AGENT_LISTEN APP_LISTEN

bash scripts/setup.sh
build="build/$(echo "$build_type" | tr '[:upper:]' '[:lower:]')"
if [ -n "$prod_like" ]; then
  # The fake Bedrock (the production-like stack's model) is defined with the tests; only it is
  # built of them, not the tests themselves.
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DSUITE_BUILD_TESTS=ON >/dev/null
  ninja -C "$build" app agent sse_hub fake_bedrock
  exec bash scripts/prod_like.sh --build "$build" "${prod_like_args[@]}"
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" -DSUITE_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" app agent sse_hub

mkdir -p .local/logs
# Keys are made once and kept, so that browser cookies survive a restart.
if [ ! -f .local/keys.env ]; then
  umask 077
  {
    echo "MERCURE_PUBLISHER_JWT_KEY=$(openssl rand -hex 32)"
    echo "MERCURE_SUBSCRIBER_JWT_KEY=$(openssl rand -hex 32)"
  } > .local/keys.env
fi
set -a
# shellcheck disable=SC1091
. .local/keys.env
set +a
export AGENT_SQLITE_PATH="${AGENT_SQLITE_PATH:-$PWD/.local/agent.db}"
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
  "$build/$name/$name" >>".local/logs/$name.log" 2>&1 &
  pids+=($!)
}
wait_healthy() {
  local name=$1 url=$2
  for _ in $(seq 1 100); do
    if curl -fs -o /dev/null "$url"; then return 0; fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run.sh: $name did not become healthy; last log lines:" >&2
  tail -n 20 ".local/logs/$name.log" >&2
  exit 1
}

start sse_hub; wait_healthy sse_hub "http://127.0.0.1:${HUB_LISTEN##*:}/healthz"
start agent;   wait_healthy agent "http://127.0.0.1:${AGENT_LISTEN##*:}/healthz"
start app;     wait_healthy app "http://127.0.0.1:${APP_LISTEN##*:}/healthz"

echo
echo "Agent Suite is running (model: $AGENT_MODEL_PROVIDER, store: ${AGENT_STORE:-sqlite})."
echo "Open http://localhost:${APP_LISTEN##*:}/"
echo "Logs: .local/logs/. Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
if [ -z "$stopping" ]; then
  echo "run.sh: a process exited on its own; see .local/logs/" >&2
  exit 1
fi
