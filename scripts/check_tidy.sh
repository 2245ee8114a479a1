#!/usr/bin/env bash
# clang-tidy, with the checks of .clang-tidy, on the C++ source files a change
# touches: those changed relative to the merge base with the main branch
# (origin/main, else main), or, where that base is HEAD itself (CI on main,
# a clone of one branch), relative to HEAD~1. Needs a configured build
# (compile_commands.json; scripts/setup.sh makes one). Exit status 1 on any
# warning. Works from a clone anywhere.
#   scripts/check_tidy.sh                 # the changed files
#   scripts/check_tidy.sh FILE.cc ...     # these files
# Environment: ADSIM_BUILD_DIR (default build), ADSIM_TIDY_BASE (a commit to
# compare with instead of the merge base), ADSIM_JOBS (default nproc).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${ADSIM_BUILD_DIR:-$root/build}
jobs=${ADSIM_JOBS:-$(nproc)}
clang_tidy=${CLANG_TIDY:-clang-tidy}
command -v "$clang_tidy" > /dev/null || { echo "check_tidy: $clang_tidy not found (scripts/setup.sh installs it)"; exit 1; }
[ -f "$build/compile_commands.json" ] ||
  { echo "check_tidy: $build/compile_commands.json not found: configure first (scripts/setup.sh)"; exit 1; }

if [ $# -gt 0 ]; then
  files=("$@")
  what="the files given"
else
  base=${ADSIM_TIDY_BASE:-}
  if [ -z "$base" ]; then
    for ref in origin/main main; do
      if git rev-parse --verify -q "$ref" > /dev/null; then
        candidate=$(git merge-base HEAD "$ref" 2> /dev/null) || continue
        if [ "$candidate" != "$(git rev-parse HEAD)" ]; then base=$candidate; fi
        break
      fi
    done
  fi
  if [ -z "$base" ]; then
    if git rev-parse --verify -q HEAD~1 > /dev/null; then
      base=$(git rev-parse HEAD~1)
    else
      echo "check_tidy: no main branch and no parent commit to compare with (a shallow clone?): nothing checked"
      exit 0
    fi
  fi
  mapfile -t files < <(git diff --name-only --diff-filter=d "$base" -- core simulators strategies python tests bench |
    grep -E '\.(cc|cpp|cxx)$' || true)
  what="C++ sources changed since $(git rev-parse --short "$base")"
fi
# Only files of the build (fuzz targets and others not configured are skipped).
checked=()
for f in "${files[@]}"; do
  if grep -q "\"file\": \"$root/$f\"\|\"file\": \"$f\"" "$build/compile_commands.json"; then
    checked+=("$f")
  else
    echo "check_tidy: skipping $f (not in $build/compile_commands.json)"
  fi
done
if [ ${#checked[@]} -eq 0 ]; then
  echo "check_tidy: no C++ source to check ($what)"
  exit 0
fi
echo "check_tidy: ${#checked[@]} file(s), $what"
# Headers of the project are checked through the sources that include them;
# the filter is absolute so that system headers (boost/core/...) never match.
filter="^$root/(core|simulators|strategies|python|tests|bench)/"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%s\n' "${checked[@]}" |
  xargs -P "$jobs" -I{} sh -c '"$0" -p "$1" --quiet --header-filter="$2" "$3" 2>&1 || echo "check_tidy: FAILED $3"' \
    "$clang_tidy" "$build" "$filter" {} > "$log"
if grep -qE 'warning:|error:|check_tidy: FAILED' "$log"; then
  grep -vE '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' "$log"
  echo "check_tidy: clang-tidy found problems (checks: .clang-tidy)"
  exit 1
fi
echo "check_tidy: ${#checked[@]} file(s) clean"
