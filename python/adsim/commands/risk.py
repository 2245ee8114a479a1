"""`adsim risk SCENARIO --runs N`: the pre-launch risk of a plan over N seeded runs (adsim.risk)."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "pre-launch risk of a plan: probabilities of overspend, missed goal, under-delivery, early run-out over N runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options (docs/risk.md)."""
    parser.add_argument("scenario", help="scenario file (YAML or JSON)")
    parser.add_argument("--runs", type=int, required=True, help="number of runs (seeds first-seed, first-seed+1, ...)")
    parser.add_argument("--first-seed", type=int, default=1, help="seed of the first run (default 1)")
    parser.add_argument("--campaign", help="report only this campaign (default: every campaign)")
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel (threads; default 1)")
    parser.add_argument("--under-delivery", type=float, default=0.9,
                        help="under-delivery: spend below this fraction of the budget (default 0.9)")
    parser.add_argument("--before", default="18:00",
                        help="clock time for 'the daily budget runs out before' (default 18:00)")
    parser.add_argument("--alpha", type=float, default=0.1, help="CVaR tail fraction (default 0.1)")
    parser.add_argument("--confidence", type=float, default=0.95, help="interval level (default 0.95)")
    parser.add_argument("--worst", type=int, default=3, help="worst runs listed per campaign (default 3)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of text")
    parser.add_argument("--progress", action="store_true", help="progress bar on stderr")


def main(args: argparse.Namespace) -> int:
    """Runs the scenario N times and prints the report; exit 2 on invalid input."""
    from .._errors import ConfigError
    from .._risk import risk

    if args.workers < 1:
        raise ConfigError(f"--workers: expected at least 1, got {args.workers}")
    report = risk(args.scenario, args.runs, first_seed=args.first_seed, campaign=args.campaign,
                  under_delivery=args.under_delivery, before=args.before, alpha=args.alpha,
                  confidence=args.confidence, worst=args.worst, workers=args.workers, progress=args.progress)
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=1, allow_nan=True)
        sys.stdout.write("\n")
    else:
        print(report.summary())
    return 0
