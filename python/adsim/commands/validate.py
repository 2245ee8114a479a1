"""`adsim validate SCENARIO` for a scenario with Python components.

The C++ `adsim validate` hands a scenario over to this command when it has a
``python:`` list or is given ``--python-module`` (core/cli/main.cc): it
imports those files, so the Python bidders and controllers they register
resolve, then checks the scenario as the C++ command does (adsim.validate)
and prints the same line.
"""

from __future__ import annotations

import argparse

HELP = "check a scenario whose bidders or controllers are written in Python (--python-module, or `python:` in it)"

_UNITS = ((86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m"), (1_000_000, "s"), (1000, "ms"), (1, "us"))


def format_duration(microseconds: int) -> str:
    """Simulated µs as the C++ FormatDuration writes them: '1d6h', '15m', '0s'."""
    if microseconds == 0:
        return "0s"
    text, rest = ("-", -microseconds) if microseconds < 0 else ("", microseconds)
    for scale, unit in _UNITS:
        if rest >= scale:
            text += f"{rest // scale}{unit}"
            rest %= scale
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The C++ `adsim validate` argument, plus --python-module."""
    parser.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file (the embedded default if none)")
    parser.add_argument("--python-module", action="append", default=[], metavar="FILE",
                        help="load this Python file (it registers Python bidders and controllers) first; repeatable")


def main(args: argparse.Namespace) -> int:
    """Loads the modules, validates, prints the C++ command's line."""
    from .. import _run
    from .._modules import load_module

    for module in args.python_module:
        load_module(module, where="--python-module", file="<command line>")
    info = _run.validate(args.scenario)
    line = (f"{info['source']}: valid ({len(info['channels'])} channels, {len(info['segments'])} segments, "
            f"{len(info['campaigns'])} campaigns, {len(info['shocks'])} shocks, {format_duration(info['duration_us'])})")
    if info["seed"] is None:
        line += "; note: no seed, so runs need --seed"
    print(line)
    return 0
