"""Builds and installs the adsim Python package.

From the repository root, offline (Debian's numpy, pandas, h5py and pybind11):

    /usr/bin/python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation --no-index ./python

The compiled module is not built by setuptools: build_ext runs CMake on the
repository root (the parent of this folder) into ADSIM_BUILD_DIR (default
<repo>/build), builds only the `_adsim` target, and copies the module into the
package. The C++ is therefore compiled once, by the same CMake build as the
command line and the C++ tests. Environment variables:

    ADSIM_BUILD_DIR     CMake build directory (default <repo>/build)
    ADSIM_CMAKE_ARGS    extra arguments for the CMake configure step
    CMAKE_BUILD_PARALLEL_LEVEL  build jobs (default 2)
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def _version() -> str:
    text = (REPO / "CMakeLists.txt").read_text(encoding="utf-8") if (REPO / "CMakeLists.txt").exists() else ""
    m = re.search(r"project\(\s*adsim\s+VERSION\s+([0-9][0-9.]*)", text)
    return m.group(1) if m else "0.0.0"


def _check_repo() -> None:
    # pip >= 21.3 builds local directories in place, so `..` is the repository.
    # An older pip (or `pip wheel` of a copied tree) would build a copy of
    # python/ alone, where there is no C++ to build: say so clearly.
    if not (REPO / "CMakeLists.txt").is_file() or not (REPO / "core" / "engine.h").is_file():
        raise SystemExit(
            f"adsim setup.py: expected the adsim repository at {REPO} (the parent of python/), "
            "with CMakeLists.txt and core/. Install with pip >= 21.3 from the repository: "
            "pip install --no-build-isolation --no-index ./python"
        )


class CMakeBuild(build_ext):
    """Builds the `_adsim` target with CMake and copies it into the package."""

    def run(self) -> None:
        _check_repo()
        if shutil.which("cmake") is None:
            raise SystemExit("adsim setup.py: cmake is required (apt-get install cmake)")
        build_dir = Path(os.environ.get("ADSIM_BUILD_DIR") or (REPO / "build")).resolve()
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake",
            "-S",
            str(REPO),
            "-B",
            str(build_dir),
            "-DADSIM_BUILD_PYTHON=ON",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        try:
            import pybind11

            configure.append(f"-Dpybind11_DIR={pybind11.get_cmake_dir()}")
        except ImportError:
            pass  # CMake finds pybind11's config on its own (Debian: pybind11-dev)
        if not (build_dir / "CMakeCache.txt").exists():
            # A fresh build directory: only what the module needs. An existing one
            # keeps its own choices (it may be the developer's full build).
            configure += ["-DADSIM_BUILD_TESTS=OFF", "-DADSIM_BUILD_BENCH=OFF", "-DCMAKE_BUILD_TYPE=Release"]
        configure += shlex.split(os.environ.get("ADSIM_CMAKE_ARGS", ""))
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        build = ["cmake", "--build", str(build_dir), "--target", "_adsim", "-j", jobs]
        for cmd in (configure, build):
            print("adsim:", " ".join(shlex.quote(c) for c in cmd), flush=True)
            subprocess.run(cmd, check=True)
        for ext in self.extensions:
            built = sorted((build_dir / "python" / "adsim").glob("_adsim*.so"), key=lambda p: p.stat().st_mtime)
            suffix = self.get_ext_filename("_adsim").rsplit("_adsim", 1)[1]
            built = [p for p in built if p.name.endswith(suffix)] or built
            if not built:
                raise SystemExit(f"adsim setup.py: CMake built no _adsim module in {build_dir / 'python' / 'adsim'}")
            target = Path(self.get_ext_fullpath(ext.name))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(built[-1], target)
            print(f"adsim: copied {built[-1]} -> {target}", flush=True)


setup(
    name="adsim",
    version=_version(),
    description="Discrete-event simulation and backtesting of real-time ad campaign optimization",
    long_description=(HERE.parent / "docs" / "python.md").read_text(encoding="utf-8")
    if (HERE.parent / "docs" / "python.md").exists()
    else "",
    long_description_content_type="text/markdown",
    packages=["adsim", "adsim.commands", "adsim.report"],
    package_dir={"adsim": "adsim"},
    package_data={"adsim": ["py.typed", "_adsim.pyi"]},
    ext_modules=[Extension("adsim._adsim", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    # h5py is needed too (adsim.load), but Debian's python3-h5py registers as
    # "h5py._debian_h5py_serial", which pip would not recognise offline: it is
    # checked at import time instead (adsim/_io.py).
    install_requires=["numpy", "pandas", "tqdm"],
    extras_require={"yaml": ["PyYAML"], "notebooks": ["matplotlib", "nbclient", "nbformat", "ipykernel"]},
    zip_safe=False,
)
