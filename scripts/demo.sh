#!/usr/bin/env bash
# Sets up adsim and runs the embedded default scenario: prints a KPI summary
# and writes the result to adsim-demo.h5 (or the path given).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
out=${1:-adsim-demo.h5}
# --oracle: each campaign is also run with a bidder that knows the true rates
# (same seed, same budgets), and the summary shows the regret against it.
"${ADSIM_BUILD_DIR:-$root/build}/adsim" run --oracle -o "$out"
echo "Read it in Python: $root/.venv/bin/python -c \"import adsim; print(adsim.load('$out').kpis())\""
