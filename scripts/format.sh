#!/usr/bin/env bash
# Formats every tracked C++ file (.cpp, .h) with clang-format and the root .clang-format.
#   scripts/format.sh           rewrite the files in place
#   scripts/format.sh --check   change nothing; list the files that are not formatted and exit 1
#                               if there are any (the format_check test runs this)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=fix
case "${1:-}" in
  "") ;;
  --check) mode=check ;;
  *) echo "format.sh: unknown option $1 (use --check or nothing)" >&2; exit 2 ;;
esac

if ! command -v clang-format >/dev/null; then
  echo "format.sh: clang-format is not installed (scripts/setup.sh installs it)" >&2
  exit 2
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "format.sh: needs a git checkout (the files are the tracked ones)" >&2
  exit 2
fi

mapfile -d '' files < <(git ls-files -z -- '*.cpp' '*.h')
if [ ${#files[@]} -eq 0 ]; then
  echo "format.sh: no tracked C++ files" >&2
  exit 2
fi

if [ "$mode" = fix ]; then
  printf '%s\0' "${files[@]}" | xargs -0 -n 50 clang-format -i --style=file
  echo "format.sh: formatted ${#files[@]} files"
  exit 0
fi

# One clang-format run per batch of files; each unformatted spot is reported as
# "FILE:LINE:COL: error: code should be clang-formatted".
report=$(printf '%s\0' "${files[@]}" |
  xargs -0 -n 100 clang-format --dry-run --Werror --ferror-limit=1 --style=file 2>&1 >/dev/null || true)
mapfile -t unformatted < <(printf '%s\n' "$report" |
  sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
if [ ${#unformatted[@]} -gt 0 ]; then
  printf 'not formatted: %s\n' "${unformatted[@]}"
  echo "format.sh: ${#unformatted[@]} of ${#files[@]} files are not formatted; run scripts/format.sh"
  exit 1
fi
if printf '%s\n' "$report" | grep -q 'error'; then
  printf '%s\n' "$report" >&2
  echo "format.sh: clang-format failed" >&2
  exit 2
fi
echo "format.sh: all ${#files[@]} files are formatted"
