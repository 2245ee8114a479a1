"""`adsim report RUN.h5 -o report.html`: the HTML report of a result or sweep file (adsim.report)."""

from __future__ import annotations

import argparse
import os

HELP = ("write a self-contained HTML report (charts, actions, alerts, experiments) of a result file, or "
        "(strategy comparison, risk) of a sweep file")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments: the result file and the output path."""
    parser.add_argument("result", metavar="RUN.h5", help="a result file written by adsim run -o, or a sweep file written by adsim sweep -o")
    parser.add_argument("-o", "--output", metavar="REPORT.html",
                        help="where to write the report (default: RUN.html next to the result file)")


def main(args: argparse.Namespace) -> int:
    """Loads the result or sweep, writes the report (complete or not at all) and says where it is."""
    from ..report import write_report

    output = args.output
    if output is None:
        output = os.path.splitext(args.result)[0] + ".html"
    if output == "":
        from .._errors import ConfigError

        raise ConfigError("adsim report: -o: expected a file path, found an empty one")
    path = write_report(args.result, output)
    print(f"adsim report: wrote {path} ({os.path.getsize(path):,} bytes)")
    return 0
