#!/usr/bin/env bash
# Fuzzes the scenario reader (YAML and JSON) under AddressSanitizer and
# UndefinedBehaviorSanitizer for a fixed wall-time budget. Not part of CI.
#   bench/fuzz/run.sh [seconds]        # default 1200 (20 minutes)
# Environment: ADSIM_FUZZ_BUILD_DIR (default build-fuzz), ADSIM_JOBS (default 2),
# ADSIM_FUZZ_WORK (default /tmp/adsim-fuzz: the grown corpus and any crash files).
# Needs clang with libFuzzer (Debian: apt-get install clang). Exit status:
# 0 when the budget ran out with no finding, libFuzzer's non-zero status otherwise
# (the input that failed is written to $ADSIM_FUZZ_WORK/crash-* / leak-* / timeout-*).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-1200}
build=${ADSIM_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${ADSIM_JOBS:-2}
work=${ADSIM_FUZZ_WORK:-/tmp/adsim-fuzz}

mkdir -p "$work/corpus"
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DADSIM_SANITIZE=address,undefined -DADSIM_BUILD_FUZZ=ON \
  -DADSIM_BUILD_TESTS=OFF -DADSIM_BUILD_BENCH=OFF -DADSIM_BUILD_PYTHON=OFF > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$build" -j "$jobs" --target adsim_scenario_fuzz

# The committed seeds stay as they are; what libFuzzer adds goes to $work/corpus.
cd "$work"
echo "fuzz: ${seconds}s on $(nproc) cores, corpus $work/corpus + $root/bench/fuzz/corpus"
# -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a scenario
# the reader turns into gigabytes is a finding, not a machine brought down.
# -max_len: scenario files up to 64 KiB (the largest seed is a few KiB).
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
"$build/bench/fuzz/adsim_scenario_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/" \
  "$work/corpus" "$root/bench/fuzz/corpus"
