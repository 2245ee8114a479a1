#!/usr/bin/env bash
# Installs what adsim needs from Debian's archive (apt-get, with sudo when not
# root), builds it, and installs the Python package into .venv. Idempotent:
# a second run installs nothing new and rebuilds only what changed.
#   scripts/setup.sh            # release build in build/, venv in .venv/
# Environment: ADSIM_BUILD_DIR (default build), ADSIM_JOBS (default nproc).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${ADSIM_BUILD_DIR:-$root/build}
jobs=${ADSIM_JOBS:-$(nproc)}
# Debian's Python packages belong to /usr/bin/python3; another python3 may be first on PATH.
py=/usr/bin/python3

packages=(
  build-essential cmake pkg-config
  libboost-dev libeigen3-dev libhdf5-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-dev python3-venv python3-pip python3-setuptools python3-wheel
  pybind11-dev python3-pybind11
  python3-numpy python3-pandas python3-h5py python3-yaml python3-matplotlib
  python3-pytest python3-nbclient python3-nbformat python3-ipykernel jupyter-nbconvert
  python3-tqdm python3-mypy python3-distributed
  python3-scipy clang-format clang-tidy
  chromium python3-websocket
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

echo "setup: building in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$py" > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$jobs"

if [ ! -x "$root/.venv/bin/python" ]; then
  echo "setup: creating .venv (with the system site packages)"
  "$py" -m venv --system-site-packages "$root/.venv"
fi
echo "setup: installing the adsim Python package into .venv"
ADSIM_BUILD_DIR="$build" "$root/.venv/bin/pip" install --quiet --no-build-isolation --no-index --no-deps "$root/python"
# A Jupyter kernel for this .venv, so Jupyter's kernel picker and a plain
# `jupyter nbconvert --execute` find adsim (the notebooks name this kernel).
# Per user (~/.local/share/jupyter/kernels/adsim): the last checkout set up wins.
echo "setup: registering the Jupyter kernel 'adsim' for $root/.venv"
"$root/.venv/bin/python" -m ipykernel install --user --name adsim --display-name "adsim (.venv)" \
  --env PYDEVD_DISABLE_FILE_VALIDATION 1 > /dev/null
echo "setup: done (CLI: $build/adsim, Python: $root/.venv/bin/python -c 'import adsim')"
