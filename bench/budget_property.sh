#!/usr/bin/env bash
# The long run of the budget property test (docs/engine.md, "Budgets"): the
# same generator and checks as BudgetProperty.* in CI (200 scenarios), with
# more scenarios and another generator seed. Prints the count run and how
# often each kind of cap bound; exits non-zero on any overspend.
# Usage: bench/budget_property.sh [RUNS] [SEED] [BUILD_DIR]   (after scripts/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5000}
seed=${2:-1}
build=${3:-$root/build}
[ -x "$build/tests/adsim_tests" ] || { echo "build first: cmake --build $build --target adsim_tests" >&2; exit 2; }
ADSIM_BUDGET_PROPERTY_RUNS=$runs ADSIM_BUDGET_PROPERTY_SEED=$seed \
  "$build/tests/adsim_tests" --gtest_filter='BudgetProperty.*' --gtest_brief=1
