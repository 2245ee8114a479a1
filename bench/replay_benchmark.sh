#!/usr/bin/env bash
# Log replay throughput and memory (docs/replay.md, "Benchmark"): generates a
# CSV log of N rows (a week of display requests: lognormal market prices
# around 0.002, a logger bidding 0.003, 2 % clicks, 10 % of them converting),
# replays it with one campaign bidding 0.003 (`adsim run`), and runs the
# synthetic market with the same number of opportunities in expectation and
# the same campaign. Rates are given per second of wall time and per second
# of the process's CPU time (user + sys), which a busy machine disturbs less.
# `replay` is unlogged: model (every row offered, after a
# first pass that fits the model), `skip` is unlogged: skip (one pass; only
# the rows the logger won are offered, rows/s still counts every row read).
# For each it prints rows (opportunities) per second of
# the whole process's wall time and its peak RSS (/usr/bin/time), and the
# machine's load average before and after each size's runs.
# With ROUNDS=R in the environment, the three runs are repeated R times per
# size, alternated (replay, skip, synthetic, replay, ...), so that the ratios
# can be read round by round on a machine whose load changes (default 1).
# Each line also gives the process's user and sys CPU seconds apart (sys is
# the kernel's work: reading the log, and with unlogged: model writing and
# reading back the row cache).
# Usage: [ROUNDS=R] [KEEP=DIR] bench/replay_benchmark.sh [BUILD_DIR] [N ...]   (default N: 10000000)
# The log is written to a temporary folder (about 50 bytes per row) and removed;
# with KEEP=DIR it is written to DIR and kept there with the three scenarios
# (replay.yaml, replay_skip.yaml, synthetic.yaml), for a profiler (docs/replay.md).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
sizes=("${@:-10000000}")
adsim=$build/adsim
[ -x "$adsim" ] || { echo "build first: scripts/setup.sh (missing $adsim)" >&2; exit 2; }
if [ -n "${KEEP:-}" ]; then
  mkdir -p "$KEEP"
  tmp=$(cd "$KEEP" && pwd)
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
fi
hours=168

scenario() {  # scenario TRAFFIC_YAML: the benchmark scenario with the given channel traffic (and competition)
  cat <<EOF
name: replay_benchmark
seed: 3
start: '2026-03-02T00:00:00'
duration: ${hours}h
channels:
  - name: display
    auction: second_price
    floor: 0.0005
$1
segments:
  - {name: a, ctr: 0.02, cvr: 0.1}
  - {name: b, ctr: 0.02, cvr: 0.1}
campaigns:
  - name: one
    bid: 0.003
EOF
}

# measure NAME ROWS FILE: runs adsim on FILE, prints rows/s and peak RSS.
measure() {
  local name=$1 rows=$2 file=$3
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$adsim" run "$file" -o "$tmp/out.h5" > "$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; exit 1; }
  read -r wall user sys rss_kib < "$tmp/time"
  awk -v n="$name" -v r="$rows" -v w="$wall" -v u="$user" -v s="$sys" -v m="$rss_kib" 'BEGIN {
    printf "%-10s %11d rows  wall %7.2f s  %6.2f M rows/s  cpu %7.2f s  %6.2f M rows/cpu-s  (user %6.2f, sys %5.2f)  peak RSS %7.1f MiB\n",
      n, r, w, r / w / 1e6, u + s, r / (u + s) / 1e6, u, s, m / 1024 }'
}

for n in "${sizes[@]}"; do
  # The log: row i at time i * duration / n (plus jitter below the step), in order.
  awk -v n="$n" -v hours="$hours" 'BEGIN {
    srand(11); step = hours * 3600e6 / n
    print "time,channel,segment,user,floor,market_price,won,click,conversion_time,value"
    for (i = 0; i < n; i++) {
      t = int(i * step + rand() * step * 0.5)
      z = sqrt(-2 * log(1 - rand())) * cos(6.283185307179586 * rand())
      price = 0.002 * exp(0.6 * z)
      won = price < 0.003 ? 1 : 0
      click = ""; conversion = ""; value = ""
      if (won) {
        click = rand() < 0.02 ? 1 : 0
        if (click && rand() < 0.1) { conversion = sprintf("%d", t + int(-7200e6 * log(1 - rand()))); value = "40" }
      }
      printf "%d,display,%s,%d,0.0005,%.6f,%d,%s,%s,%s\n", t, (rand() < 0.4 ? "a" : "b"), int(rand() * 100000),
        price, won, click, conversion, value
    }
  }' > "$tmp/requests.csv"
  # The new log on disk before the runs: its write-back (4.6 GB at 100 M rows)
  # would otherwise run during them, on the same CPUs and memory bus.
  sync "$tmp/requests.csv"
  scenario "    traffic: {replay: {path: requests.csv, unlogged: model}}" > "$tmp/replay.yaml"
  scenario "    traffic: {replay: {path: requests.csv, unlogged: skip}}" > "$tmp/replay_skip.yaml"
  per_hour=$(awk -v n="$n" -v h="$hours" 'BEGIN { printf "%.3f", n / h }')
  scenario "    traffic: {per_hour: $per_hour}
    competition: {competitors: 5, median: 0.002, sigma: 0.6}" > "$tmp/synthetic.yaml"
  echo "log: $n rows, $(du -m "$tmp/requests.csv" | cut -f1) MiB; $(uptime | sed 's/.*load/load/')"
  for ((round = 0; round < ${ROUNDS:-1}; round++)); do
    measure replay "$n" "$tmp/replay.yaml"
    measure skip "$n" "$tmp/replay_skip.yaml"
    measure synthetic "$n" "$tmp/synthetic.yaml"
  done
  echo "after: $(uptime | sed 's/.*load/load/')"
  [ -n "${KEEP:-}" ] || rm -f "$tmp/requests.csv"
done
