#!/usr/bin/env python3
"""The value bidders' cold-start defences, before and after, on the comparison scenario.

Runs the optimized stack of bench/strategy_comparison.py (goal-driven value
bidders, pid_pacing, creative_thompson, budget_reallocation) on
bench/scenarios/comparison.yaml twice per seed, on common random numbers:

* before: the value bidders without the defences (pooling: none,
  explore_bid_share: 0, learn_conversion_delay: false, so the stack's assumed
  12-hour delay);
* after:  the same stack with the defences (strategy_comparison.COLD_START,
  the stack's own setting), every other setting equal,

with each campaign's oracle (``oracle=True``), and prints the markdown tables
of docs/cold-start.md: the stack's spend, true conversions and true CPA, the
paired difference after - before with its 95 % CI (paired t over seeds), and
per campaign the true conversions and the regret as a share of the oracle's
conversions; then the daily spend of the seed-6 case.

    .venv/bin/python bench/cold_start.py --seeds 10 --workers 2
"""

from __future__ import annotations

import argparse
import copy
import math
import pathlib
import sys

import numpy as np
import yaml
from scipy import stats

import adsim

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import strategy_comparison  # noqa: E402  (bench/strategy_comparison.py: the stack)

# The value bidders' parameters without and with the cold-start defences
# (docs/strategies/bidders/value_linear.md, "Cold start").
# COLD_START is the stack's own setting (bench/strategy_comparison.py).
BEFORE = {"pooling": "none", "explore_bid_share": 0.0, "learn_conversion_delay": False,
          "conversion_delay_hours": strategy_comparison.CONVERSION_DELAY_HOURS}
COLD_START = dict(strategy_comparison.COLD_START)
DAY_US = 86_400_000_000


def with_bidder_params(scenario: dict, params: dict) -> dict:
    """The scenario with `params` merged into every value bidder's parameters."""
    sc = copy.deepcopy(scenario)
    for camp in sc["campaigns"]:
        bidder = camp.get("bidder")
        if isinstance(bidder, dict) and bidder.get("type") in ("target_cpa", "target_roas", "value_linear"):
            bidder["params"] = {**bidder.get("params", {}), **params}
    return sc


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of b - a and its 95 % confidence interval (paired t)."""
    d = b - a
    half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return float(d.mean()), float(d.mean()) - half, float(d.mean()) + half


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(HERE / "scenarios" / "comparison.yaml"))
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--case-seed", type=int, default=6)
    parser.add_argument("--case-campaign", default="social_prospecting")
    args = parser.parse_args(argv)

    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    stack = strategy_comparison.optimized(scenario)
    variants = {"before": with_bidder_params(stack, BEFORE), "after": with_bidder_params(stack, COLD_START)}
    # The callables edit the scenario the sweep hands them (which carries
    # `oracle: true`), so both variants keep the oracle runs.
    swept = adsim.sweep(stack, seeds=args.seeds, workers=args.workers, progress=False, oracle=True,
                        variations={"before": lambda sc: with_bidder_params(sc, BEFORE),
                                    "after": lambda sc: with_bidder_params(sc, COLD_START)})
    k = swept.kpis.copy()
    k = k.sort_values(["variation", "campaign", "seed"])

    def per_seed(variation: str, column: str, campaign: str | None = None) -> np.ndarray:
        rows = k[k["variation"] == variation]
        if campaign is not None:
            return rows[rows["campaign"] == campaign].sort_values("seed")[column].to_numpy(float)
        return rows.groupby("seed")[column].sum().sort_index().to_numpy(float)

    print(f"Stack on {pathlib.Path(args.scenario).name}, seeds 1-{args.seeds}, paired (after − before, 95 % CI):\n")
    print("| metric | before | after | after − before (95 % CI) |")
    print("|---|---:|---:|---|")
    rows = {}
    for metric, column in (("spend", "spend"), ("true conversions", "true_conversions"),
                           ("true value", "true_value")):
        a, b = per_seed("before", column), per_seed("after", column)
        rows[column] = (a, b)
        mean, lo, hi = paired(a, b)
        print(f"| {metric} | {a.mean():,.1f} | {b.mean():,.1f} | {mean:+,.1f} [{lo:+,.1f}, {hi:+,.1f}] |")
    cpa_a = rows["spend"][0] / rows["true_conversions"][0]
    cpa_b = rows["spend"][1] / rows["true_conversions"][1]
    mean, lo, hi = paired(cpa_a, cpa_b)
    print(f"| true CPA | {cpa_a.mean():.2f} | {cpa_b.mean():.2f} | {mean:+.2f} [{lo:+.2f}, {hi:+.2f}] |")

    print("\nPer campaign: true conversions, and regret as a share of the oracle's true conversions "
          "(mean over seeds of regret_conversions / oracle_conversions):\n")
    print("| campaign | oracle conversions | conversions before → after (Δ 95 % CI) | "
          "regret share before → after (Δ 95 % CI) |")
    print("|---|---:|---|---|")
    for campaign in [c["name"] for c in scenario["campaigns"]]:
        oracle = per_seed("before", "oracle_conversions", campaign)
        a, b = per_seed("before", "true_conversions", campaign), per_seed("after", "true_conversions", campaign)
        mean, lo, hi = paired(a, b)
        ra = per_seed("before", "regret_conversions", campaign) / oracle
        rb = per_seed("after", "regret_conversions", campaign) / oracle
        rmean, rlo, rhi = paired(ra, rb)
        print(f"| {campaign} | {oracle.mean():.1f} | {a.mean():.1f} → {b.mean():.1f} "
              f"({mean:+.1f} [{lo:+.1f}, {hi:+.1f}]) | {100 * ra.mean():.1f} % → {100 * rb.mean():.1f} % "
              f"({100 * rmean:+.1f} [{100 * rlo:+.1f}, {100 * rhi:+.1f}] points) |")

    names = [c["name"] for c in scenario["campaigns"]]
    index = names.index(args.case_campaign)
    print(f"\nSeed {args.case_seed}, `{args.case_campaign}`, spend per day (reported conversions per day):\n")
    for name, sc in variants.items():
        result = adsim.run(sc, seed=args.case_seed, progress=False)
        daily = result.table("daily")
        spend = daily[daily["campaign"] == index].sort_values("day_start")["spend"].to_numpy(float)
        agg = result.table("aggregates")
        agg = agg[agg["campaign"] == index]
        reported = agg.groupby(agg["bucket_start"] // DAY_US)["conversions"].sum()
        days = ", ".join(f"{s:.1f} ({int(reported.get(d, 0))})" for d, s in enumerate(spend))
        print(f"- {name}: {days}; week {spend.sum():.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
