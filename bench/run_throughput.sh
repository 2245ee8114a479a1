#!/usr/bin/env bash
# Measures adsim's end-to-end throughput on bench/scenarios/reference.yaml and
# the bare loop (../shared/bench/bare-loop) in the same sitting, and prints the
# ratio that the engine issue's target is stated in (at least 1/3).
# Usage: bench/run_throughput.sh [BUILD_DIR]   (after scripts/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bare_src=$root/../shared/bench/bare-loop/bare_loop.cpp
[ -f "$bare_src" ] || { echo "bare loop not found at $bare_src" >&2; exit 2; }
[ -x "$build/bench/adsim_throughput" ] || { echo "build first: scripts/setup.sh (missing $build/bench/adsim_throughput)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g++ -O3 -march=native -std=c++17 -o "$tmp/bare_loop" "$bare_src"
echo "== bare loop (K=5, 20M auctions, best of 3)"
bare_ns=$(for i in 1 2 3; do "$tmp/bare_loop" --n 20000000 --k 5; done | tee /dev/stderr |
  sed -n 's/.*ns_per_auction=\([0-9.]*\).*/\1/p' | sort -g | head -1)
echo "== adsim reference scenario (best of 3)"
out=$("$build/bench/adsim_throughput" "$root/bench/scenarios/reference.yaml" 3 | tee /dev/stderr | tail -1)
ours_ns=$(echo "$out" | sed -n 's/.*ns_per_opportunity=\([0-9.]*\).*/\1/p')
ours_rate=$(echo "$out" | sed -n 's/.*opportunities_per_s=\([0-9.e+]*\).*/\1/p')
echo "== result"
awk -v b="$bare_ns" -v o="$ours_ns" -v r="$ours_rate" 'BEGIN {
  printf "bare loop %.1f ns/auction; adsim %.1f ns/opportunity (%.2f M/s); adsim/bare throughput ratio %.2f (target >= 0.33)\n", b, o, r/1e6, b/o }'
