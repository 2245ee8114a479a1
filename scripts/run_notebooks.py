#!/usr/bin/env python3
"""Executes every notebook in notebooks/ (STYLE.md rule 13: notebooks are
executed, not just stored).

    .venv/bin/python scripts/run_notebooks.py [--timeout SECONDS] [NOTEBOOK ...]

Each notebook runs in a fresh Jupyter kernel started with the interpreter that
runs this script (so a virtual environment's adsim is the one imported), with
notebooks/ as the working directory: the kernel `adsim` that scripts/setup.sh
registers for the project's .venv (and that the notebooks' metadata name),
when it is registered for this interpreter, else an equivalent kernel for
this interpreter (a clean machine, or `adsim` registered by another checkout). Outputs are not written back: notebooks
are committed without outputs. On the first failing cell the script prints the
notebook, the cell number, its source and the error, and exits with status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


#: The Jupyter kernel scripts/setup.sh registers for the project's .venv; notebooks name it in their metadata.
KERNEL = "adsim"


def _kernel_manager():
    """A kernel manager for the kernel `adsim`, running sys.executable.

    jupyter_client resolves a kernel name through the installed kernel specs;
    scripts/setup.sh registers `adsim` for the .venv's interpreter. If it is
    not registered, or registered for another interpreter (another checkout's
    .venv, or Debian's own `python3` kernel, which runs /usr/bin/python3 and
    cannot see the venv's packages), the spec is given explicitly instead, so
    the notebooks always run against the adsim that this interpreter imports.
    """
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import KernelManager

    try:
        registered = KernelSpecManager().get_kernel_spec(KERNEL)
        if registered.argv and os.path.abspath(registered.argv[0]) == os.path.abspath(sys.executable):
            return KernelManager(kernel_name=KERNEL), f"kernel '{KERNEL}' ({registered.resource_dir})"
    except NoSuchKernel:
        pass

    class ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(
                argv=[sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=f"adsim ({sys.executable})",
                language="python",
                resource_dir="",
            )

    return (KernelManager(kernel_name=KERNEL, kernel_spec_manager=ThisInterpreter()),
            f"an unregistered kernel for {sys.executable} (scripts/setup.sh registers '{KERNEL}')")


def run_notebook(path: Path, timeout: int, save_dir: Path | None = None) -> bool:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = nbformat.read(str(path), as_version=4)
    declared = nb.metadata.get("kernelspec", {}).get("name")
    if declared != KERNEL:
        print(f"warning: {path.name} names the kernel {declared!r} in its metadata; adsim's notebooks use "
              f"{KERNEL!r} (it runs in {KERNEL!r} here)", file=sys.stderr)
    km, kernel = _kernel_manager()
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(path.parent)}},
        allow_errors=False,
    )
    started = time.perf_counter()
    try:
        try:
            client.execute()
        finally:
            if km.has_kernel:  # a kernel manager passed in is ours to shut down
                km.shutdown_kernel(now=True)
            if save_dir is not None:
                save_dir.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, str(save_dir / path.name))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
        index, source = _failing_cell(nb)
        rel = path.relative_to(REPO) if path.is_relative_to(REPO) else path
        print(f"FAILED {rel}: cell {index}" if index is not None else f"FAILED {rel}", file=sys.stderr)
        if source:
            print("---- cell source ----\n" + source + "\n---------------------", file=sys.stderr)
        print(_short(str(e)), file=sys.stderr)
        return False
    elapsed = time.perf_counter() - started
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"ok     {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
          f"{code_cells} code cells in {elapsed:.1f} s in {kernel}")
    return True


def _failing_cell(nb):
    """(1-based index among all cells, source) of the cell that raised, if known."""
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return i, cell.source
    # A timeout or a dead kernel leaves no error output: the last cell started.
    last = None
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type == "code" and cell.get("execution_count") is not None:
            last = (i, cell.source)
    return last if last else (None, "")


def _short(text: str, limit: int = 6000) -> str:
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # ANSI colours from IPython tracebacks
    return text if len(text) <= limit else text[:limit] + "\n... (truncated)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: notebooks/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell (default 300)")
    parser.add_argument("--save-executed", type=Path, metavar="DIR",
                        help="also write the executed notebooks, with outputs, to DIR (never to notebooks/)")
    args = parser.parse_args(argv)
    try:
        import ipykernel  # noqa: F401  (the kernel runs this interpreter with ipykernel)
        import nbclient  # noqa: F401
    except ImportError as e:
        print(f"run_notebooks: {e}; install nbclient, nbformat and ipykernel for {sys.executable}", file=sys.stderr)
        return 2
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    paths = [p for p in paths if ".ipynb_checkpoints" not in p.parts]
    if not paths:
        print(f"run_notebooks: no notebooks in {NOTEBOOKS}", file=sys.stderr)
        return 2
    save_dir = args.save_executed.resolve() if args.save_executed else None
    if save_dir is not None and save_dir == NOTEBOOKS.resolve():
        print("run_notebooks: --save-executed must not be notebooks/ (notebooks are committed without outputs)",
              file=sys.stderr)
        return 2
    failed = [p for p in paths if not run_notebook(p, args.timeout, save_dir)]
    if failed:
        print(f"{len(failed)} of {len(paths)} notebooks failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
