#!/usr/bin/env bash
# Measures adsim's end-to-end throughput against the bare loop
# (bench/bare_loop/bare_loop.cpp, the speed of light of one auction) in one
# sitting, interleaved, and prints the ratios the targets are stated in
# (docs/performance.md):
#   reference week     bench/scenarios/reference.yaml      vs the bare loop at K = 5
#   three-channel week bench/scenarios/three_channel.yaml  vs the bare loop at K = 20
# The bare loop runs in its two fast modes (--dist zig and --dist os) and the
# faster one counts. Each figure is the best of ROUNDS rounds (default 3);
# a round runs every program once, so a noisy moment hits all of them.
# Ratios are bare ns per auction / adsim ns per opportunity, from wall time
# (as printed by the programs) and from the whole process's CPU time
# (user + sys, which a busy machine disturbs less).
# Usage: bench/run_throughput.sh [BUILD_DIR]   (after scripts/setup.sh)
# Environment: ROUNDS (default 3), BARE_N (auctions per bare run, default 20000000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-3}
bare_n=${BARE_N:-20000000}
bare_src=$root/bench/bare_loop/bare_loop.cpp
throughput=$build/bench/adsim_throughput
[ -x "$throughput" ] || { echo "build first: scripts/setup.sh (missing $throughput)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g++ -O3 -march=native -std=c++17 -o "$tmp/bare_loop" "$bare_src"

# run NAME COUNT_FIELD NS_FIELD COMMAND...: runs COMMAND, appends "NAME wall_ns cpu_ns" to $tmp/results.
run() {
  local name=$1 count_field=$2 ns_field=$3
  shift 3
  local out cpu count ns
  TIMEFORMAT='%U %S'
  { time "$@" > "$tmp/out" 2> "$tmp/err"; } 2> "$tmp/time" || { cat "$tmp/err" >&2; exit 1; }
  out=$(tail -1 "$tmp/out")
  ns=$(sed -n "s/.*$ns_field=\([0-9.]*\).*/\1/p" <<< "$out")
  count=$(grep -oE "(^| )$count_field=[0-9.e+]*" "$tmp/out" | tail -1 | cut -d= -f2)
  cpu=$(awk -v c="$count" '{ printf "%.2f", 1e9 * ($1 + $2) / c }' "$tmp/time")
  printf '%-22s wall %8.2f ns  cpu %8.2f ns  (%s items)\n' "$name" "$ns" "$cpu" "$count"
  echo "$name $ns $cpu" >> "$tmp/results"
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds"
  for dist in zig os; do
    run "bare_k5_$dist" n ns_per_auction "$tmp/bare_loop" --n "$bare_n" --k 5 --dist "$dist"
  done
  run reference opportunities ns_per_opportunity "$throughput" "$root/bench/scenarios/reference.yaml" 1
  for dist in zig os; do
    run "bare_k20_$dist" n ns_per_auction "$tmp/bare_loop" --n "$bare_n" --k 20 --dist "$dist"
  done
  run three_channel opportunities ns_per_opportunity "$throughput" "$root/bench/scenarios/three_channel.yaml" 1
done

echo "== result (best of $rounds; ratio = bare ns per auction / adsim ns per opportunity)"
awk '
  { for (f = 2; f <= 3; ++f) if (!(($1, f) in best) || $f < best[$1, f]) best[$1, f] = $f }
  function bare(k, f,   z, o) { z = best["bare_k" k "_zig", f]; o = best["bare_k" k "_os", f]; return z < o ? z : o }
  function line(label, name, k, target) {
    printf "%-19s wall: adsim %7.2f ns, best bare loop (K=%d) %6.2f ns, ratio %.2f | cpu: %7.2f ns, %6.2f ns, ratio %.2f | target >= %.1f\n",
      label, best[name, 2], k, bare(k, 2), bare(k, 2) / best[name, 2], best[name, 3], bare(k, 3), bare(k, 3) / best[name, 3], target
  }
  END {
    line("reference week", "reference", 5, 0.8)
    line("three-channel week", "three_channel", 20, 0.6)
  }' "$tmp/results"
