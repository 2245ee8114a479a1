#!/usr/bin/env python3
"""budget_reallocation after a shock ends: totals since the start against a half-life.

Runs docs/examples/reallocation_recovery.yaml (two identical campaigns; a
checkout bug stops the conversions of "shocked" from day 1 to day 3) with
budget_reallocation's half_life_hours set to each value given (0: judged on
totals since the start, the default), on the same seeds (common random
numbers), and prints a markdown table: "shocked"'s share of the pool (the two
daily budgets) at the end of each day, mean over the seeds with its standard
error, then the conversions reported over the run and after the shock.
docs/strategies/controllers/budget_reallocation.md shows its output.

    .venv/bin/python bench/reallocation_recovery.py --seeds 5 --half-lives 0,12,24
"""

from __future__ import annotations

import argparse
import copy
import math
import pathlib
import sys
from typing import Dict, List

import numpy as np
import yaml

import adsim

REPO = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = REPO / "docs" / "examples" / "reallocation_recovery.yaml"
DAY_US = 86_400_000_000


def with_half_life(scenario: dict, half_life_hours: float) -> dict:
    """The scenario with budget_reallocation's half_life_hours set (0: removed, the default)."""
    sc = copy.deepcopy(scenario)
    for controller in sc.get("controllers", []):
        if isinstance(controller, dict) and controller.get("type") == "budget_reallocation":
            params = controller.setdefault("params", {})
            params.pop("half_life_hours", None)
            if half_life_hours:
                params["half_life_hours"] = half_life_hours
            return sc
    raise SystemExit("the scenario has no budget_reallocation controller under `controllers`")


def measure(result: adsim.Result, shock_end_us: int) -> Dict[str, object]:
    """The first campaign's share of the two daily budgets at the end of each
    day, and the conversions reported over the run and after the shock."""
    daily = result.table("daily")
    first = daily[daily["campaign"] == 0]["daily_budget"].to_numpy()
    second = daily[daily["campaign"] == 1]["daily_budget"].to_numpy()
    aggregates = result.table("aggregates")
    return {
        "share": (first / (first + second)).tolist(),
        "conversions": float(aggregates["conversions"].sum()),
        "conversions_after": float(aggregates[aggregates["bucket_start"] >= shock_end_us]["conversions"].sum()),
    }


def mean_se(values: List[float]) -> str:
    x = np.asarray(values, dtype=float)
    se = x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else math.nan
    return f"{x.mean():.3f} ± {se:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    ap.add_argument("--half-lives", default="0,12,24",
                    help="half_life_hours values, comma-separated; 0 = totals since the start (default 0,12,24)")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO), help="scenario file (first shock = the one that ends)")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error("--seeds: expected at least 2 (for a standard error)")
    try:
        half_lives = [float(h) for h in args.half_lives.split(",") if h.strip()]
    except ValueError:
        ap.error(f"--half-lives: expected numbers separated by commas, got {args.half_lives!r}")
    if not half_lives or min(half_lives) < 0:
        ap.error("--half-lives: expected at least one value, each >= 0")
    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    shock = scenario["shocks"][0]
    shock_end_us = int(str(shock["end"]).rstrip("d")) * DAY_US  # the example's end is in whole days

    seeds = list(range(1, args.seeds + 1))
    runs = {h: [measure(adsim.run(with_half_life(scenario, h), seed=s), shock_end_us) for s in seeds]
            for h in half_lives}
    label = {h: ("since the start (0)" if h == 0 else f"half-life {h:g} h") for h in half_lives}
    days = len(runs[half_lives[0]][0]["share"])
    print(f"`{scenario['campaigns'][0]['name']}`'s share of the pool at the end of each day, mean ± SE over "
          f"seeds {seeds[0]}..{seeds[-1]} (shock `{shock['name']}` from {shock['start']} to {shock['end']}):")
    print()
    print("| day | " + " | ".join(label[h] for h in half_lives) + " |")
    print("|---:|" + "---:|" * len(half_lives))
    for day in range(days):
        cells = [mean_se([r["share"][day] for r in runs[h]]) for h in half_lives]
        print(f"| {day} | " + " | ".join(cells) + " |")
    print("| conversions reported, whole run | "
          + " | ".join(f"{np.mean([r['conversions'] for r in runs[h]]):.1f}" for h in half_lives) + " |")
    print(f"| conversions reported from {shock['end']} on | "
          + " | ".join(f"{np.mean([r['conversions_after'] for r in runs[h]]):.1f}" for h in half_lives) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
