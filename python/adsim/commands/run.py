"""`adsim run [SCENARIO] --python-module FILE ...`: a run with Python components.

The C++ `adsim run` hands a run over to this command when it is given
``--python-module`` or the scenario has a ``python:`` list (core/cli/main.cc):
it imports those files (their ``@adsim.register_bidder`` and
``@adsim.register_controller`` classes then resolve by name in the scenario),
runs the scenario through the bindings (adsim.run), and writes the same result
file and prints the same summary as the C++ command (docs/python.md, "Python
strategies from the command line"). The options are the C++ command's.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

HELP = "run a scenario whose bidders or controllers are written in Python (--python-module, or `python:` in it)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The C++ `adsim run` options, plus --python-module."""
    parser.add_argument("scenario", nargs="?", metavar="SCENARIO",
                        help="scenario file (YAML or JSON); the embedded default if none")
    parser.add_argument("-o", "--out", metavar="OUT.h5", help="write the result to this HDF5 file")
    parser.add_argument("--seed", metavar="N", help="random seed (overrides the scenario's seed)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.add_argument("--oracle", action="store_true",
                        help="also run each campaign's oracle (true rates, same budgets, same seed) and record the regret")
    parser.add_argument("--python-module", action="append", default=[], metavar="FILE",
                        help="load this Python file (it registers Python bidders and controllers) before the run; "
                        "repeatable")


class _ProgressBar:
    """The C++ command's bar, byte for byte: 40 characters on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        width = 40
        filled = int(fraction * width)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {int(fraction * 100):3d}%")
        sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


def _seed(text: Optional[str]) -> Optional[int]:
    """--seed as the C++ command reads it: an integer in [0, 2^64)."""
    from .._errors import ConfigError

    if text is None:
        return None
    if not text.isdigit() or int(text) >= 2**64:
        raise ConfigError(f"run: --seed: expected an integer in [0, 2^64) (like a scenario's seed), found '{text}'")
    return int(text)


def main(args: argparse.Namespace) -> int:
    """Loads the modules, runs, writes and prints as the C++ command does."""
    from .. import _run
    from .._errors import ConfigError, DataError, Error, IoError
    from .._modules import load_module

    if args.out is not None and args.out == "":
        raise ConfigError("run: -o/--out: expected a file path, found an empty string")
    if args.scenario is not None and not os.path.isfile(args.scenario):
        raise ConfigError(f"run: scenario: expected an existing file, found '{args.scenario}' (no such file)")
    seed = _seed(args.seed)
    modules: List[str] = list(args.python_module)
    for module in modules:
        load_module(module, where="--python-module", file="<command line>")
    bar = _ProgressBar(not args.no_progress and sys.stderr.isatty())
    try:
        result = _run.run(args.scenario, seed=seed, out=args.out, progress=bar, oracle=args.oracle)
    except (ConfigError, IoError, DataError):
        bar.done()
        raise
    except Error as error:
        # A strategy that failed (its exception's last line is in the
        # message), as the C++ command reports a failed component.
        bar.done()
        print(f"adsim: {error}", file=sys.stderr)
        return 1
    bar.done()
    if not args.quiet:
        sys.stdout.write(result.summary())
        if args.out:
            sys.stdout.write(f"wrote {args.out}\n")
    return 0
