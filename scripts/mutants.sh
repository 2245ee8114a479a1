#!/usr/bin/env bash
# Mutation check: do the C++ tests catch a broken model? Applies each mutant in
# scripts/mutants/*.sed to the source, one at a time, rebuilds the test binary
# in a separate build directory, runs the C++ suite and checks that it fails;
# then restores the source. Run on demand (slow: one rebuild per mutant), not in CI.
#   scripts/mutants.sh                          # every mutant
#   scripts/mutants.sh click_price_not_divided  # only these (file names without .sed)
# Environment: ADSIM_MUTANTS_BUILD_DIR (default build-mutants), ADSIM_JOBS
# (default 2), ADSIM_MUTANTS_FILTER (gtest filter, default '*': the whole suite).
#
# A mutant is a sed script: a first comment line describing it, one or more
# '#file: path ...' lines naming the files it edits (each must change), and
# the substitutions. The source is edited in place and restored on exit,
# Ctrl-C included; a run killed harder leaves backups in the build directory,
# which the next run restores first. Don't build in build/ while it runs.
# Exit status: 0 if the suite passes unmutated and fails for every mutant.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${ADSIM_MUTANTS_BUILD_DIR:-$root/build-mutants}
jobs=${ADSIM_JOBS:-2}
filter=${ADSIM_MUTANTS_FILTER:-*}
mutants_dir=$root/scripts/mutants
backup=$build/mutant-backup

if [ $# -gt 0 ]; then
  mutants=()
  for name in "$@"; do
    [ -f "$mutants_dir/$name.sed" ] || { echo "mutants: no mutant $mutants_dir/$name.sed" >&2; exit 2; }
    mutants+=("$mutants_dir/$name.sed")
  done
else
  mutants=("$mutants_dir"/*.sed)
fi

# Puts back every file saved in $backup (a plain copy, so the file gets a new
# modification time and the next build recompiles it).
restore() {
  [ -d "$backup" ] || return 0
  while IFS= read -r -d '' saved; do
    cp "$saved" "$root/${saved#"$backup"/}"
  done < <(find "$backup" -type f -print0)
  rm -rf "$backup"
}
trap restore EXIT
trap 'restore; exit 130' INT
trap 'restore; exit 143' TERM
restore  # left over from a run that was killed

# A new build directory is configured for the C++ tests only; an existing one
# (ADSIM_MUTANTS_BUILD_DIR=build) is used as it is configured.
if [ ! -f "$build/CMakeCache.txt" ]; then
  mkdir -p "$build"
  launcher=()
  if command -v ccache > /dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DADSIM_BUILD_PYTHON=OFF -DADSIM_BUILD_BENCH=OFF \
    "${launcher[@]}" > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
fi

# Builds and runs the suite; sets $outcome (pass, fail or build-failed) and $first_failure.
run_suite() {
  local log=$1
  first_failure=""
  if ! cmake --build "$build" -j "$jobs" --target adsim_tests adsim_cli > "$log.build" 2>&1; then
    outcome=build-failed
    return
  fi
  if (cd "$build" && tests/adsim_tests --gtest_fail_fast --gtest_filter="$filter" > "$log" 2>&1); then
    outcome=pass
  else
    outcome=fail
    first_failure=$(sed -n 's/^\[  FAILED  \] \([A-Za-z0-9_/.]*\).*/\1/p' "$log" | head -n 1)
    [ -n "$first_failure" ] || first_failure="(crashed: see $log)"
  fi
}

echo "mutants: baseline (unmutated) build and suite, filter '$filter'"
start=$SECONDS
run_suite "$build/baseline.log"
if [ "$outcome" != pass ]; then
  echo "mutants: the unmutated suite does not pass ($outcome, $first_failure); see $build/baseline.log*" >&2
  exit 1
fi
echo "mutants: baseline passes ($((SECONDS - start)) s)"

rows=()
status=0
for m in "${mutants[@]}"; do
  name=$(basename "$m" .sed)
  description=$(sed -n '1s/^# *//p' "$m")
  read -r -a files <<< "$(sed -n 's/^#file: *//p' "$m" | tr '\n' ' ')"
  start=$SECONDS
  applied=yes
  mkdir -p "$backup"
  for f in "${files[@]}"; do
    mkdir -p "$backup/$(dirname "$f")"
    cp "$root/$f" "$backup/$f"
    sed -i -f "$m" "$root/$f"
    cmp -s "$root/$f" "$backup/$f" && applied=no
  done
  if [ "$applied" = no ]; then
    result="NOT APPLIED (a substitution matched nothing: update $m)"
    status=1
  else
    run_suite "$build/$name.log"
    case $outcome in
      fail) result="killed by $first_failure" ;;
      pass) result="SURVIVED"; status=1 ;;
      build-failed) result="BUILD FAILED (see $build/$name.log.build)"; status=1 ;;
    esac
  fi
  restore
  rows+=("$(printf '%-28s %-s (%d s)' "$name" "$result" $((SECONDS - start)))")
  echo "mutants: $name: $description -> $result"
done

echo
printf '%-28s %s\n' "mutant" "result"
printf '%s\n' "${rows[@]}"
exit $status
