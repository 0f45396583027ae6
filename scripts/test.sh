#!/usr/bin/env bash
# README command 2: set up, build under AddressSanitizer + UndefinedBehaviorSanitizer, and run
# every test (unit, integration, browser, end-to-end) with CTest. The benchmark generator is
# built too, so that it keeps compiling and its parser checks run (the benchmarks do not).
#   scripts/test.sh                 everything
#   scripts/test.sh -R hub          only tests whose name matches (any ctest arguments)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

build=build/test
# ccache (installed by setup.sh) makes a rebuild after a branch switch cheap; relative paths
# under this folder let clones in other folders share its cache.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build" -G Ninja "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DSUITE_SANITIZE=ON -DSUITE_BUILD_TESTS=ON -DSUITE_BUILD_BENCHMARKS=ON >/dev/null
ninja -C "$build"

# LeakSanitizer is on: a leak turns a clean exit into exit 23, which fails a test binary and
# every test that checks how an executable exited (the whole suite had no leak report when this
# was turned on).
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build/test-artifacts"
ctest --test-dir "$build" --output-on-failure --timeout 900 -j2 "$@"
