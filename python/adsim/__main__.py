"""`python -m adsim NAME ...`: adsim's subcommands implemented in Python.

The C++ command line hands these over whole (`adsim NAME ...` runs
`PYTHON -m adsim NAME ...`, core/cli/python_commands.cc), so both spellings are
one implementation. Each command is a module `adsim.commands.NAME` with
``HELP`` (one line), ``add_arguments(parser)`` and ``main(args) -> int``;
adding one is that file plus its name in core/cli/python_commands.cc.

Exit codes are the C++ command line's: 0 success, 2 bad usage or invalid
input, 3 input/output or data error, 4 out of memory, 130 interrupted,
1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import List, Optional

EXIT_CONFIG = 2
EXIT_IO = 3
EXIT_MEMORY = 4
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 1


def _commands():
    from . import commands

    found = {}
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        found[info.name] = importlib.import_module(f"adsim.commands.{info.name}")
    return found


def main(argv: Optional[List[str]] = None) -> int:
    commands = _commands()
    parser = argparse.ArgumentParser(
        prog="adsim", description="adsim's subcommands implemented in Python"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module in commands.items():
        command_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command_parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 0 if exit_.code in (0, None) else EXIT_CONFIG

    from ._errors import ConfigError, DataError, IoError

    try:
        return int(commands[args.command].main(args) or 0)
    except ConfigError as error:
        print(f"adsim: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except (IoError, DataError, OSError) as error:
        print(f"adsim: {error}", file=sys.stderr)
        return EXIT_IO
    except MemoryError:
        print(f"adsim: out of memory while running {args.command}", file=sys.stderr)
        return EXIT_MEMORY
    except KeyboardInterrupt:
        print("adsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
