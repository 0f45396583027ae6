#!/usr/bin/env bash
# The benchmark command: installs the peers (nginx + nchan, pushpin) if missing, builds sse_hub,
# app, agent, the fake Bedrock (for token-latency) and the sse_load generator in Release, then
# runs every scenario against our programs and the peers side by side and prints the results table.
#
#   bench/run.sh            full run (about 35 minutes on a busy 2-core machine)
#   bench/run.sh --quick    one repetition, 5k subscribers, shorter phases (~8 minutes there)
#   extra arguments go to bench/run.py (--only broadcast,chat --servers hub,nchan --repeats N;
#   --only token-latency runs just the token path through the agent)
#
# BENCH_BUILD_DIR (default build-bench) is the build folder; BENCH_NICE see below. Never part of
# ctest.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BENCH_BUILD_DIR:-$root/build-bench}"

peer_packages=(nginx libnginx-mod-nchan pushpin python3)
missing=()
for package in "${peer_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The packaged services are not used (each benchmark starts private instances); keep them from
# holding ports or CPU during the run.
for service in nginx pushpin; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
    echo "bench: note: the system $service service is running; it is left alone" >&2
  fi
done

# -Wno-error=restrict: GCC 12 at -O3 reports a bogus -Wrestrict inside std::string (GCC bug
# 105329) in libshared's SigV4 code; the warning stays visible, it just does not stop a Release build.
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSUITE_BUILD_BENCHMARKS=ON \
  -DSUITE_BUILD_TESTS=OFF -DCMAKE_CXX_FLAGS="-Wno-error=restrict" >/dev/null
# Targets that do not build yet are measured as "did not start" rather than stopping the run.
ninja -C "$build_dir" -j"${BENCH_BUILD_JOBS:-2}" sse_load >&2
for target in sse_hub app agent fake_bedrock; do
  ninja -C "$build_dir" -j"${BENCH_BUILD_JOBS:-2}" "$target" >&2 || echo "bench: $target did not build; its rows will say so" >&2
done

# BENCH_NICE=-10 (root only) runs the servers and the generator ahead of other work on a shared
# machine; the report states the value used. 0 by default: measure the machine as it is.
nice_value="${BENCH_NICE:-0}"
command_text="bench/run.sh $*"
[[ "$nice_value" == 0 ]] || command_text="BENCH_NICE=$nice_value $command_text"
exec nice -n "$nice_value" python3 "$root/bench/run.py" --build-dir "$build_dir" --command "$command_text" "$@"
