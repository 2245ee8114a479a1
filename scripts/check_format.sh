#!/usr/bin/env bash
# Format check: every C++ file under core simulators strategies python tests
# bench must be as clang-format (with the repository's .clang-format) would
# write it. Prints the files that are not, and the command that fixes them;
# exit status 1 if there is any. Works from a clone anywhere.
#   scripts/check_format.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" > /dev/null || { echo "check_format: $clang_format not found (scripts/setup.sh installs it)"; exit 1; }
mapfile -t files < <(find core simulators strategies python tests bench -type f -not -path '*/build/*' \
  \( -name '*.h' -o -name '*.hh' -o -name '*.hpp' -o -name '*.cc' -o -name '*.cpp' -o -name '*.cxx' \) | sort)
bad=()
for f in "${files[@]}"; do
  "$clang_format" --style=file --dry-run --Werror "$f" > /dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  echo "check_format: ${#bad[@]} of ${#files[@]} C++ files are not formatted with .clang-format:"
  printf '  %s\n' "${bad[@]}"
  echo "fix with: $clang_format -i ${bad[*]}"
  exit 1
fi
echo "check_format: ${#files[@]} C++ files formatted ($("$clang_format" --version | head -1))"
