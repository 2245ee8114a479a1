"""`adsim sweep SCENARIO --seeds 1-100 [--set FIELD=V1,V2 ...] [--workers N] [-o FILE]`:
many runs of a scenario (adsim.sweep), with a summary table on stdout."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Dict, List

HELP = "run a scenario on many seeds (and a grid of field values); print a summary, write one HDF5 file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", nargs="?", default=None,
                        help="scenario file (YAML or JSON); the embedded default scenario if omitted")
    parser.add_argument("--seeds", default="1-10", help="seeds: N (1..N), '1-100', '1,5,9' (default 1-10)")
    parser.add_argument("--set", dest="grid", action="append", default=[], metavar="FIELD=V1,V2",
                        help="a grid field and its values, e.g. campaigns[0].bid=0.004,0.005 (repeatable: "
                             "the runs cover every combination)")
    parser.add_argument("--workers", type=int, default=1, help="C++ threads running the simulations (default 1)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="a Dask scheduler address (tcp://host:8786): run on its workers instead of threads")
    parser.add_argument("-o", "--output", default=None, help="write the sweep file (HDF5) there")
    parser.add_argument("--oracle", action="store_true", help="also run each campaign's oracle (regret columns)")
    parser.add_argument("--runs", action="store_true", help="also print one line per run (seed, fingerprint, ...)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def _grid(items: List[str]) -> Dict[str, List[Any]]:
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    from .._errors import ConfigError

    grid: Dict[str, List[Any]] = {}
    for item in items:
        field, separator, values = item.partition("=")
        if not separator or not field or not values:
            raise ConfigError(issues=[{"file": "<command line>", "path": "--set", "line": 0,
                                       "expected": "FIELD=V1,V2,... such as campaigns[0].bid=0.004,0.005",
                                       "found": repr(item)}])
        if field in grid:
            raise ConfigError(issues=[{"file": "<command line>", "path": f"--set {field}", "line": 0,
                                       "expected": "each field once", "found": "the field again"}])
        grid[field] = [yaml.safe_load(value) for value in values.split(",")]
    return grid


def summary_table(kpis: Any) -> str:
    """Mean and standard error over seeds of the main KPIs, per variation and campaign."""
    import numpy as np

    lines = [f"{'variation':<28} {'campaign':<16} {'runs':>5} {'spend':>18} {'conversions':>16} "
             f"{'cpa':>14} {'roas':>12}"]
    for (variation, campaign), rows in kpis.groupby(["variation", "campaign"], sort=False):
        cells = []
        for column, width, digits in (("spend", 18, 2), ("conversions", 16, 1), ("cpa", 14, 3), ("roas", 12, 3)):
            values = rows[column].dropna().to_numpy(dtype=float)
            if len(values) == 0:
                cells.append(f"{'-':>{width}}")
                continue
            error = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
            cells.append(f"{f'{values.mean():.{digits}f} ±{error:.{digits}f}':>{width}}")
        lines.append(f"{str(variation)[:28]:<28} {str(campaign)[:16]:<16} {len(rows):>5} " + " ".join(cells))
    lines.append("(mean ± standard error over seeds)")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from .. import sweep as run_sweep

    scenario = args.scenario
    if scenario is not None and not os.path.isfile(scenario):
        from .._errors import IoError

        raise IoError(f"cannot open scenario file '{scenario}': no such file")
    client = None
    if args.scheduler:
        from distributed import Client

        client = Client(args.scheduler)
    try:
        result = run_sweep(scenario, seeds=args.seeds, grid=_grid(args.grid) or None, workers=args.workers,
                           client=client, progress=not args.no_progress, output=args.output, oracle=args.oracle)
    finally:
        if client is not None:
            client.close()
    print(summary_table(result.kpis))
    if args.runs:
        print()
        print(result.runs.to_string(index=False))
    if args.output:
        print(f"wrote {len(result.runs)} runs to {args.output}", file=sys.stderr)
    return 0
