#!/usr/bin/env python3
"""The cold-start defences one at a time on the comparison scenario (docs/cold-start.md).

Runs the optimized stack of bench/strategy_comparison.py on
bench/scenarios/comparison.yaml with the value bidders' defences switched
one at a time (every other setting equal, common random numbers over seeds
1..N, no oracle runs), and two controls that locate display_awareness's
loss: the defences on every campaign but display_awareness, and the stack
without budget_reallocation with and without the defences. Prints, per
campaign and for the account, the mean true conversions, spend and true CPA,
and the paired difference against no defence with its standard error.

    .venv/bin/python bench/cold_start_ablation.py --seeds 6 --workers 2

With --regression it runs instead the library regression scenario
(tests/regression/library.yaml, no delay given) with the two value-bidder
stacks of tests/regression/library_baseline.yaml (target_cpa under
pid_pacing; value_linear under pid_pacing and creative_thompson), each with
no defence, the floor only, the learned delay only, the true delay assumed
(2.5 hours), both defences, and all three, on seeds 1..N (docs/cold-start.md,
"The defaults"):

    .venv/bin/python bench/cold_start_ablation.py --regression --seeds 10 --workers 2
"""

from __future__ import annotations

import argparse
import copy
import math
import pathlib
import sys
from typing import Callable

import numpy as np
import yaml

import adsim

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import strategy_comparison  # noqa: E402  (bench/strategy_comparison.py: the stack)

VALUE_BIDDERS = ("target_cpa", "target_roas", "value_linear")
# Every defence off, the stack's assumed 12-hour delay (the "before" of bench/cold_start.py).
NONE = {"pooling": "none", "explore_bid_share": 0.0, "learn_conversion_delay": False,
        "conversion_delay_hours": strategy_comparison.CONVERSION_DELAY_HOURS}
ALL = {"pooling": "hierarchical", "explore_bid_share": 1.0, "explore_until_width": 0.5,
       "learn_conversion_delay": True}


def variant(params: dict, campaigns: set[str] | None = None,
            reallocation: bool = True) -> Callable[[dict], dict]:
    """A sweep variation: every value bidder with the defences off, then
    `params` on the named campaigns (all when None); optionally without the
    scenario-wide budget_reallocation."""

    def edit(scenario: dict) -> dict:
        sc = copy.deepcopy(scenario)
        for camp in sc["campaigns"]:
            bidder = camp.get("bidder")
            if isinstance(bidder, dict) and bidder.get("type") in VALUE_BIDDERS:
                merged = {**bidder.get("params", {}), **NONE}
                if campaigns is None or camp["name"] in campaigns:
                    merged.update(params)
                    if merged.get("learn_conversion_delay"):
                        # The learned delay replaces the assumed one (both given is an error).
                        merged.pop("conversion_delay_hours", None)
                bidder["params"] = merged
        if not reallocation:
            sc.pop("controllers", None)
        return sc

    return edit


def regression_ablation(seeds: int, workers: int) -> None:
    """The defences one at a time on tests/regression/library.yaml (see the module docstring)."""
    scenario = yaml.safe_load((HERE.parent / "tests" / "regression" / "library.yaml").read_text())
    stacks = {"target_cpa": [{"type": "pid_pacing"}],
              "value_linear": [{"type": "pid_pacing"}, {"type": "creative_thompson"}]}
    none = {"pooling": "none", "explore_bid_share": 0.0, "learn_conversion_delay": False}
    settings = {
        "none": none,
        "floor only": {**none, "explore_bid_share": 1.0},
        "learned delay only": {**none, "learn_conversion_delay": True},
        "true delay assumed (2.5 h)": {**none, "conversion_delay_hours": 2.5},
        "floor and learned delay": {**none, "explore_bid_share": 1.0, "learn_conversion_delay": True},
        "all three": ALL,
    }

    def make(bidder: str, params: dict) -> Callable[[dict], dict]:
        def edit(sc: dict) -> dict:
            sc = copy.deepcopy(sc)
            sc["campaigns"][0]["bidder"] = {"type": bidder, "params": dict(params)}
            sc["campaigns"][0]["controllers"] = copy.deepcopy(stacks[bidder])
            return sc
        return edit

    variations = {f"{bidder}: {name}": make(bidder, params)
                  for bidder in stacks for name, params in settings.items()}
    kpis = adsim.sweep(scenario, seeds=seeds, workers=workers, progress=False, variations=variations).kpis
    print(f"library.yaml, seeds 1-{seeds}; Δ = paired mean vs none, ± its SE:\n")
    print("| stack | setting | spend | true conversions | value | Δ true conversions |")
    print("|---|---|---:|---:|---:|---|")
    for bidder in stacks:
        reference = kpis[kpis["variation"] == f"{bidder}: none"].sort_values("seed")
        for name in settings:
            rows = kpis[kpis["variation"] == f"{bidder}: {name}"].sort_values("seed")
            d = rows["true_conversions"].to_numpy(float) - reference["true_conversions"].to_numpy(float)
            print(f"| {bidder} | {name} | {rows['spend'].mean():.2f} | {rows['true_conversions'].mean():.1f} | "
                  f"{rows['value'].mean():,.1f} | {d.mean():+.1f} ± {d.std(ddof=1) / math.sqrt(len(d)):.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(HERE / "scenarios" / "comparison.yaml"))
    parser.add_argument("--seeds", type=int, default=6, help="seeds 1..N")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--regression", action="store_true",
                        help="the defences on tests/regression/library.yaml instead")
    args = parser.parse_args(argv)
    if args.regression:
        regression_ablation(args.seeds, args.workers)
        return 0

    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    others = {c["name"] for c in scenario["campaigns"]} - {"display_awareness"}
    variations = {
        "none": variant({}),
        "pooling only": variant({"pooling": "hierarchical"}),
        "floor only": variant({"explore_bid_share": 1.0}),
        "learned delay only": variant({"learn_conversion_delay": True}),
        "all three": variant(ALL),
        "all three, not on display_awareness": variant(ALL, campaigns=others),
        "none, no reallocation": variant({}, reallocation=False),
        "all three, no reallocation": variant(ALL, reallocation=False),
    }
    stack = strategy_comparison.optimized(scenario)
    kpis = adsim.sweep(stack, seeds=args.seeds, workers=args.workers, progress=False,
                       variations=variations).kpis

    def per_seed(name: str, column: str, campaign: str | None) -> np.ndarray:
        rows = kpis[kpis["variation"] == name]
        if campaign is not None:
            rows = rows[rows["campaign"] == campaign]
        return rows.groupby("seed")[column].sum().sort_index().to_numpy(float)

    for campaign in [c["name"] for c in scenario["campaigns"]] + [None]:
        print(f"\n{campaign or 'account'} (seeds 1-{args.seeds}; Δ = paired mean vs none, ± its SE):\n")
        print("| variant | true conversions | spend | true CPA | Δ conversions | Δ spend |")
        print("|---|---:|---:|---:|---|---|")
        reference = {c: per_seed("none", c, campaign) for c in ("true_conversions", "spend")}
        for name in variations:
            conv, spend = per_seed(name, "true_conversions", campaign), per_seed(name, "spend", campaign)
            cells = []
            for column, values in (("true_conversions", conv), ("spend", spend)):
                d = values - reference[column]
                cells.append(f"{d.mean():+.1f} ± {d.std(ddof=1) / math.sqrt(len(d)):.1f}")
            print(f"| {name} | {conv.mean():.1f} | {spend.mean():,.1f} | {spend.sum() / conv.sum():.2f} | "
                  f"{cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
