#!/usr/bin/env python3
"""Does a calibrated scenario rank strategies as the market it was fitted on does?

The study of docs/calibration.md ("Does the calibrated market rank strategies
correctly?"): a week of history is simulated from a known market
(tests/data/calibration/history.yaml, fixed bids, seed 11), aggregated into a
report (adsim.history_report, adsim.conversion_log), calibrated
(adsim.calibrate with the original as the structural base), and then three
strategies are run with adsim.sweep on the same seeds on the original and on
the calibrated scenario. Prints a Markdown table of each strategy's mean
profit (true conversion value - spend, all campaigns) with a 95 % interval,
its rank on each scenario, the paired differences between strategies, and
whether the rankings agree.

    .venv/bin/python bench/calibration_ranking.py --seeds 30 --workers 2
"""

from __future__ import annotations

import argparse
import copy
import math
import pathlib
import sys
import time
from typing import Any, Callable, Dict, Tuple

import numpy as np
import pandas as pd
import yaml
from scipy import stats

import adsim

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
ORIGINAL = REPO / "tests" / "data" / "calibration" / "history.yaml"
HISTORY_SEED = 11


def with_bidder(bidder: Dict[str, Any]) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
    """A variation: every campaign uses this bidder."""
    def apply(scenario: Dict[str, Any]) -> Dict[str, Any]:
        scenario = copy.deepcopy(scenario)
        for campaign in scenario["campaigns"]:
            campaign["bidder"] = copy.deepcopy(bidder)
        return scenario
    return apply


def scaled_bids(factor: float) -> Callable[[Dict[str, Any]], Dict[str, Any]]:
    """A variation: every campaign's fixed bid times `factor`."""
    def apply(scenario: Dict[str, Any]) -> Dict[str, Any]:
        scenario = copy.deepcopy(scenario)
        for campaign in scenario["campaigns"]:
            campaign["bid"] = round(campaign["bid"] * factor, 6)
        return scenario
    return apply


#: The three strategies compared, applied to every campaign.
STRATEGIES: Dict[str, Callable[[Dict[str, Any]], Dict[str, Any]]] = {
    "fixed": lambda scenario: copy.deepcopy(scenario),
    "fixed_x1.5": scaled_bids(1.5),
    "target_cpa": with_bidder({"type": "target_cpa", "params": {"conversion_delay_hours": 12}}),
}


def profits(scenario: Dict[str, Any], seeds: int, workers: int) -> pd.DataFrame:
    """Profit (true conversion value - spend, summed over campaigns) per strategy and seed."""
    sweep = adsim.sweep(scenario, seeds=range(1, seeds + 1), variations=STRATEGIES, workers=workers,
                        progress=False)
    kpis = sweep.kpis.copy()
    kpis["profit"] = kpis["true_value"] - kpis["spend"]
    return kpis.groupby(["variation", "seed"])["profit"].sum().unstack("variation")


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95 % t interval half-width per strategy, and its rank (1 = most profit)."""
    n = len(table)
    t = stats.t.ppf(0.975, n - 1)
    out = pd.DataFrame({"mean": table.mean(), "half_width": t * table.std(ddof=1) / math.sqrt(n)})
    out["rank"] = out["mean"].rank(ascending=False).astype(int)
    return out


def paired(table: pd.DataFrame) -> Dict[str, Tuple[float, float]]:
    """Each pair of strategies: mean paired difference (first - second) and its 95 % interval half-width."""
    n = len(table)
    t = stats.t.ppf(0.975, n - 1)
    names = list(STRATEGIES)
    out = {}
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            difference = table[first] - table[second]
            out[f"{first} - {second}"] = (difference.mean(), t * difference.std(ddof=1) / math.sqrt(n))
    return out


def resolved(mean: float, half_width: float) -> int:
    """+1 or -1 when the 95 % interval excludes 0 (the pair is ordered), 0 when it does not."""
    return 0 if abs(mean) <= half_width else (1 if mean > 0 else -1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=30, help="seeds 1..N for each strategy (default 30)")
    parser.add_argument("--workers", type=int, default=2, help="threads of adsim.sweep (default 2)")
    args = parser.parse_args()
    started = time.time()
    original = yaml.safe_load(ORIGINAL.read_text())
    history = adsim.run(str(ORIGINAL), seed=HISTORY_SEED)
    calibration = adsim.calibrate(adsim.history_report(history), adsim.conversion_log(history), base=str(ORIGINAL))
    calibrated = yaml.safe_load(calibration.text)
    on_original = profits(original, args.seeds, args.workers)
    on_calibrated = profits(calibrated, args.seeds, args.workers)
    first, second = summarise(on_original), summarise(on_calibrated)
    print(f"Profit (true conversion value - spend, 3 campaigns, 7 days), mean over seeds 1-{args.seeds} "
          "with a 95 % t interval; rank 1 = most profit.\n")
    print("| strategy | original: profit | rank | calibrated: profit | rank |")
    print("|---|---|---|---|---|")
    for name in STRATEGIES:
        a, b = first.loc[name], second.loc[name]
        print(f"| `{name}` | {a['mean']:.1f} ± {a['half_width']:.1f} | {int(a['rank'])} | "
              f"{b['mean']:.1f} ± {b['half_width']:.1f} | {int(b['rank'])} |")
    print("\n| paired difference | original | calibrated | verdict |")
    print("|---|---|---|---|")
    resolved_agree = 0
    resolved_pairs = 0
    for (pair, a), b in zip(paired(on_original).items(), paired(on_calibrated).values()):
        first_sign, second_sign = resolved(*a), resolved(*b)
        if first_sign != 0:
            resolved_pairs += 1
            resolved_agree += first_sign == second_sign
        verdict = ("same order" if first_sign == second_sign != 0 else
                   "unresolved in both" if first_sign == second_sign == 0 else
                   "unresolved on the original" if first_sign == 0 else
                   "unresolved on the calibrated" if second_sign == 0 else "opposite order")
        print(f"| {pair} | {a[0]:+.1f} ± {a[1]:.1f} | {b[0]:+.1f} ± {b[1]:.1f} | {verdict} |")
    agree = list(first["rank"].sort_values().index) == list(second["rank"].sort_values().index)
    tau = stats.kendalltau(first["mean"], second["mean"]).statistic
    print(f"\nRankings by mean agree: {'yes' if agree else 'no'} (Kendall tau {tau:.2f}); pairs the original "
          f"orders at 95 %: {resolved_pairs}, ordered the same way on the calibrated: {resolved_agree}; "
          f"{2 * len(STRATEGIES) * args.seeds} runs in {time.time() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
