#!/usr/bin/env bash
# Sets up adsim and runs every test: the format check (clang-format), clang-tidy
# on the C++ files changed since the main branch, the C++ suite (release
# build), the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
# the Python suite (with the docs test and the layout rules), and every
# notebook. Exits non-zero if anything fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${ADSIM_JOBS:-$(nproc)}
"$root/scripts/setup.sh" || { echo "test: setup failed"; exit 1; }
failed=()

echo "== Format (clang-format)"
"$root/scripts/check_format.sh" || failed+=("format")

echo "== clang-tidy on the changed C++ files"
"$root/scripts/check_tidy.sh" || failed+=("clang-tidy")

echo "== C++ tests (release)"
(cd build && ctest --output-on-failure -j "$jobs") || failed+=("C++ tests")

echo "== C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
asan=$root/build-asan
if cmake -S "$root" -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DADSIM_SANITIZE=address,undefined \
     -DADSIM_BUILD_PYTHON=OFF -DADSIM_BUILD_BENCH=OFF > "$asan.configure.log" 2>&1 &&
   cmake --build "$asan" -j "$jobs" --target adsim_tests adsim_cli; then
  (cd "$asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j "$jobs") || failed+=("C++ tests under ASan/UBSan")
else
  cat "$asan.configure.log"
  failed+=("sanitizer build")
fi

echo "== Python tests"
"$root/.venv/bin/python" -m pytest "$root/tests/python" -q || failed+=("Python tests")

echo "== Notebooks"
"$root/.venv/bin/python" "$root/scripts/run_notebooks.py" || failed+=("notebooks")

if [ ${#failed[@]} -gt 0 ]; then
  echo "test: FAILED: ${failed[*]}"
  exit 1
fi
echo "test: all suites passed"
