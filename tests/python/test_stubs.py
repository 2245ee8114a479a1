"""The hand-written stubs of the compiled module (python/adsim/_adsim.pyi)
agree with the module: the same public names, the same parameters (names,
order, which have defaults) and compatible return types, read from the
signature line pybind11 puts in each function's docstring. When mypy is
installed (Debian's python3-mypy), mypy's stubtest compares the stub with
the module too, and mypy checks the whole package against the stub."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import adsim
from adsim import _adsim

from conftest import REPO

STUB = REPO / "python" / "adsim" / "_adsim.pyi"


def _stub() -> ast.Module:
    return ast.parse(STUB.read_text(encoding="utf-8"), filename=str(STUB))


def _stub_functions() -> Dict[str, ast.FunctionDef]:
    return {node.name: node for node in _stub().body if isinstance(node, ast.FunctionDef)}


def _stub_names() -> set:
    names = set(_stub_functions())
    for node in _stub().body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def _module_names() -> set:
    # Public names, and the one dunder the package reads (__version__).
    return {n for n in dir(_adsim) if not n.startswith("_")} | {"__version__"}


def _runtime_signature(function) -> Tuple[List[Tuple[str, bool]], str]:
    """[(parameter, has default)], return type, from pybind11's
    "name(a: T, b: T = x) -> R" docstring line."""
    line = function.__doc__.splitlines()[0]
    match = re.fullmatch(rf"{function.__name__}\((.*)\) -> (.+)", line)
    assert match, f"unexpected pybind11 signature line {line!r}"
    params, depth, current = [], 0, ""
    for char in match.group(1):  # split on commas outside brackets
        depth += char in "[("
        depth -= char in "])"
        if char == "," and depth == 0:
            params.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        params.append(current.strip())
    return [(p.split(":")[0].strip(), "=" in p) for p in params], match.group(2)


def _base_type(annotation: str) -> str:
    # "Dict[str, Any]" -> "dict", "Optional[str]" -> "str": what pybind11 calls it.
    annotation = re.sub(r"^Optional\[(.*)\]$", r"\1", annotation.strip())
    return annotation.split("[")[0].lower()


def test_stub_and_module_have_the_same_public_names():
    in_module, in_stub = _module_names(), _stub_names()
    assert in_module - in_stub == set(), "in the module, missing from python/adsim/_adsim.pyi"
    assert in_stub - in_module == set(), "in python/adsim/_adsim.pyi, not in the module"


@pytest.mark.parametrize("name", sorted(_stub_functions()))
def test_stub_signature_matches_the_module(name):
    stub = _stub_functions()[name]
    runtime_params, runtime_return = _runtime_signature(getattr(_adsim, name))
    args = stub.args.args
    with_default = len(stub.args.defaults)
    stub_params = [(a.arg, i >= len(args) - with_default) for i, a in enumerate(args)]
    assert stub_params == runtime_params
    assert stub.returns is not None, f"{name}: the stub gives no return type"
    assert _base_type(ast.unparse(stub.returns)) == _base_type(runtime_return)


def test_stub_attributes_have_the_runtime_types():
    types = {"str": str, "int": int, "float": float, "bool": bool}
    for node in _stub().body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            assert isinstance(getattr(_adsim, node.target.id), types[ast.unparse(node.annotation)]), node.target.id


def test_the_installed_package_ships_the_stub_and_py_typed():
    folder = Path(adsim.__file__).parent
    assert (folder / "py.typed").is_file() and (folder / "_adsim.pyi").is_file()


def _mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, MYPYPATH=str(REPO / "python"))
    return subprocess.run([sys.executable, "-m", "mypy.stubtest" if args[0] == "stubtest" else "mypy", *args[1:]],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_mypy_stubtest_finds_no_difference(tmp_path):
    pytest.importorskip("mypy.stubtest")
    # The package's own imports (pandas, tqdm) have no stubs in Debian.
    (tmp_path / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
    done = _mypy("stubtest", "--mypy-config-file", "mypy.ini", "adsim._adsim", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_checks_the_package_against_the_stub(tmp_path):
    pytest.importorskip("mypy")
    done = _mypy("mypy", "--ignore-missing-imports", "-p", "adsim", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
