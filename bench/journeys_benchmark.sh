#!/usr/bin/env bash
# The cost of journeys (issue 10, docs/journeys.md "Cost"): the reference
# week with 10 million users and 3 channels (bench/scenarios/reference_journeys.yaml)
# with its `journeys:` block and without it (the same file cut at the
# block), alternated ROUNDS times in one sitting. Prints, per run,
# opportunities per second (wall, of the whole run and of the loop alone:
# between the first and the last control cycle, without setting up the
# rings), the whole process's CPU seconds, peak memory (max RSS) and the run
# loop's heap allocations per won slot, which
# adsim_journeys_cost checks (journeys must not allocate on the hot path:
# it exits 1 above 0.1 allocations per won slot); then the best of each,
# and the allocations journeys add to the loop (with minus without: the
# reference week's campaigns win the same slots either way), which must stay
# below 0.01 per won slot (exit 1 otherwise; one per touch would be 1).
# Usage: bench/journeys_benchmark.sh [BUILD_DIR]   (after scripts/setup.sh)
# Environment: ROUNDS (default 2), DURATION (default 7d, e.g. 1d for a quick look).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-2}
duration=${DURATION:-7d}
cost=$build/bench/adsim_journeys_cost
[ -x "$cost" ] || { echo "build first: scripts/setup.sh (missing $cost)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s/^duration: .*/duration: $duration/" "$root/bench/scenarios/reference_journeys.yaml" > "$tmp/journeys_on.yaml"
sed '/^# Everything below is cut/,$d' "$tmp/journeys_on.yaml" > "$tmp/journeys_off.yaml"
grep -q '^journeys:' "$tmp/journeys_off.yaml" && { echo "could not cut the journeys block" >&2; exit 2; }
for round in $(seq 1 "$rounds"); do
  for mode in off on; do
    "$cost" "$tmp/journeys_$mode.yaml" | tee -a "$tmp/results"
  done
done
echo "== best of $rounds (duration $duration)"
awk '
  { for (i = 1; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
    m = v["journeys"]
    if (!(m in rate) || v["opportunities_per_s"] > rate[m]) rate[m] = v["opportunities_per_s"]
    if (!(m in loop) || v["loop_opportunities_per_s"] > loop[m]) loop[m] = v["loop_opportunities_per_s"]
    if (!(m in cpu) || v["cpu_secs"] < cpu[m]) cpu[m] = v["cpu_secs"]
    rss[m] = v["peak_rss_mb"]; apw[m] = v["allocations_per_win"]; opp[m] = v["opportunities"]
    alloc[m] = v["loop_allocations"]; wins[m] = v["wins"]; conv[m] = v["journey_conversions"] }
  END {
    for (m in rate)
      printf "journeys %-3s %.3g opportunities/s (wall, whole run), %.3g in the loop, %.1f ns CPU per opportunity (whole process), peak RSS %s MB, %s loop allocations per won slot\n",
        m, rate[m], loop[m], 1e9 * cpu[m] / opp[m], rss[m], apw[m]
    added = alloc["on"] - alloc["off"]
    printf "journeys add %d loop allocations: %.2e per won slot (%d wins without, %d with), %.2f per journey conversion (%d)\n",
      added, added / wins["on"], wins["off"], wins["on"], (conv["on"] > 0 ? added / conv["on"] : 0), conv["on"]
    if (added / wins["on"] > 0.01) { print "journeys allocate on the hot path (more than 0.01 per won slot)"; exit 1 }
  }' "$tmp/results"
