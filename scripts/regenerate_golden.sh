#!/bin/sh
# Rewrites the pinned golden digests (tests/golden/*.digest) from the current
# build. Run it only after a change that is meant to change results, and say
# in the commit message what changed and why. Usage: scripts/regenerate_golden.sh [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" --target adsim_tests -j2
ADSIM_REGENERATE_GOLDEN=1 "$build/tests/adsim_tests" --gtest_filter='Golden.*'
git --no-pager diff --stat -- tests/golden/ || true
