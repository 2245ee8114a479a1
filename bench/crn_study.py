#!/usr/bin/env python3
"""How much common random numbers help today: two strategies on the same seeds.

Runs the static baseline and the optimized stack of the strategy-comparison
scenario (bench/scenarios/comparison.yaml, built as in
bench/strategy_comparison.py) on the same seeds with adsim.what_if, and prints
per campaign and for the account: the correlation of the two strategies'
per-seed conversions (reported and true), the paired and unpaired standard
errors of the difference and their ratio. docs/risk.md ("Common random
numbers") quotes its output.

    .venv/bin/python bench/crn_study.py --seeds 20 --workers 2

A second pair, --pair bids, compares the baseline with the same baseline at
bids 10 % higher (a small change: the strategies win mostly the same
opportunities), to show how the correlation depends on the overlap of what
the two strategies win.
"""

from __future__ import annotations

import argparse
import copy
import pathlib
import sys
import time

import yaml

import adsim

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import strategy_comparison  # noqa: E402  (the same variants as docs/strategy-comparison.md)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(HERE / "scenarios" / "comparison.yaml"))
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pair", choices=["stack", "bids"], default="stack")
    args = parser.parse_args()
    with open(args.scenario, encoding="utf-8") as handle:
        scenario = yaml.safe_load(handle)
    base = strategy_comparison.baseline(scenario)
    if args.pair == "stack":
        plans = {"baseline": None, "optimized": lambda sc: strategy_comparison.optimized(sc)}
    else:
        def higher_bids(sc: dict) -> dict:
            sc = copy.deepcopy(sc)
            for campaign in sc["campaigns"]:
                campaign["bid"] = campaign["bid"] * 1.1
            return sc
        plans = {"baseline": None, "bids+10%": higher_bids}
    started = time.time()
    report = adsim.what_if(base, plans, runs=args.seeds, workers=args.workers,
                           metrics=("conversions", "true_conversions", "spend"))
    elapsed = time.time() - started
    print(f"pair {args.pair}: {args.seeds} seeds x 2 plans, {elapsed:.0f} s")
    print()
    print("| campaign | metric | correlation | SE paired | SE unpaired | unpaired / paired | variance reduction |")
    print("|---|---|---|---|---|---|---|")
    for _, r in report.differences.iterrows():
        print(f"| {r['campaign']} | {r['metric']} | {r['correlation']:.2f} | {r['se_paired']:.3g} | "
              f"{r['se_unpaired']:.3g} | {r['se_ratio']:.2f} | {r['variance_reduction']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
