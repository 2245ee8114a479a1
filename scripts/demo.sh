#!/usr/bin/env bash
# Sets up adsim and runs the embedded default scenario: prints a KPI summary
# and writes the result to adsim-demo.h5 (or the path given).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
out=${1:-adsim-demo.h5}
"${ADSIM_BUILD_DIR:-$root/build}/adsim" run -o "$out"
echo "Read it in Python: $root/.venv/bin/python -c \"import adsim; print(adsim.load('$out').kpis())\""
