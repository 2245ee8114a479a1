#!/usr/bin/env python3
"""Attribution accuracy against the simulator's truth (docs/attribution.md,
"Accuracy against truth"): runs each bench/scenarios/journeys_*.yaml (journeys
with ``truth: true``) over a few seeds, scores every attribution model, the
dashboards' reports and the drawn causes with Result.attribution_accuracy
(1 - 1/2 sum |model share - true share|), and prints Markdown tables of the
mean score per model and scenario (channels, conversions), against the
Shapley truth and against the removal truth, with the seeds' spread, plus the
dashboards' over-attribution ratio.

    .venv/bin/python bench/attribution_accuracy.py --seeds 1,2,3
    .venv/bin/python bench/attribution_accuracy.py --seeds 1,2,3 --holdout 0.2

With --holdout SHARE, every channel of every scenario holds out SHARE of its
users (journeys.holdout: held-out users see none of our ads there) and the
`holdout` model (holdout-measured incrementality, what a real advertiser can
observe) is scored beside the others, per channel only: the runs, and so the
truth, differ from the runs without a holdout.

Small on purpose (3 simulated days, a few thousand opportunities per hour):
it runs in a few minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pandas as pd
import yaml

import adsim

REPO = Path(__file__).resolve().parents[1]

MODELS = [
    "first_touch",
    "last_touch",
    "linear",
    "linear_unique",
    "time_decay",
    "position_based",
    "markov1",
    "markov2",
    "shapley",
]
SCENARIOS = ["base", "low_overlap", "long_delay", "saturation", "high_baseline", "strong_view"]


def run_all(seeds: List[int], scope: str, holdout: float = 0.0) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Scores per (scenario, seed, model), and per (scenario, seed) the truth's totals; with
    holdout > 0 every channel holds out that share of users and the holdout model is scored too."""
    scores, totals = [], []
    models = MODELS + (["holdout"] if holdout > 0 else [])
    for name in SCENARIOS:
        path = REPO / "bench" / "scenarios" / f"journeys_{name}.yaml"
        scenario = str(path)
        if holdout > 0:
            with open(path) as handle:
                scenario = yaml.safe_load(handle)
            scenario["journeys"]["holdout"] = {channel["name"]: holdout for channel in scenario["channels"]}
        for seed in seeds:
            started = time.perf_counter()
            result = adsim.run(scenario, seed=seed)
            accuracy = result.attribution_accuracy(models=models)
            accuracy = accuracy[accuracy["scope"] == scope].assign(scenario=name, seed=seed)
            scores.append(accuracy)
            truth = result.journey_truth
            players = truth[truth["scope"] == scope]
            conversions = result.journey_conversions
            totals.append(
                {
                    "scenario": name,
                    "seed": seed,
                    "conversions": len(conversions),
                    "incremental": int((conversions["organic"] == 0).sum()),
                    "removal_sum": players["removal_conversions"].sum(),
                    "reported_sum": players["reported_conversions"].sum(),
                    "seconds": time.perf_counter() - started,
                }
            )
            print(f"  {name} seed {seed}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return pd.concat(scores, ignore_index=True), pd.DataFrame(totals)


def table(scores: pd.DataFrame, column: str, seeds: int) -> str:
    """Mean score per model (rows) and scenario (columns), ± the half-width of a 95% interval over seeds."""
    rows = ["| model | " + " | ".join(SCENARIOS) + " | mean |", "|---" * (len(SCENARIOS) + 2) + "|"]
    order = [m for m in MODELS + ["holdout", "platform_reported", "drawn_cause"] if m in set(scores["model"])]
    for model in order:
        cells = []
        means = []
        for name in SCENARIOS:
            values = scores[(scores["model"] == model) & (scores["scenario"] == name)][column]
            mean = values.mean()
            half = 1.96 * values.std(ddof=1) / math.sqrt(seeds) if seeds > 1 else float("nan")
            means.append(mean)
            cells.append(f"{mean:.3f} ± {half:.3f}")
        rows.append(f"| {model} | " + " | ".join(cells) + f" | {sum(means) / len(means):.3f} |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    parser.add_argument("--scope", default="channel", choices=["channel", "campaign"])
    parser.add_argument("--holdout", type=float, default=0.0,
                        help="share of users every channel holds out (0 to 0.5; scores the holdout model too)")
    args = parser.parse_args()
    if not 0 <= args.holdout <= 0.5:
        parser.error(f"--holdout: expected a share in [0, 0.5], found {args.holdout}")
    seeds = [int(seed) for seed in args.seeds.split(",")]
    scores, totals = run_all(seeds, args.scope, args.holdout)
    print(f"Scores per {args.scope} on conversions, mean ± 95% half-width over seeds {args.seeds}.\n")
    print("Against the Shapley truth:\n")
    print(table(scores, "conversions_vs_shapley", len(seeds)))
    print("\nAgainst the removal truth:\n")
    print(table(scores, "conversions_vs_removal", len(seeds)))
    summary = totals.groupby("scenario", sort=False).mean(numeric_only=True)
    print("\nPer scenario (means over seeds): conversions, incremental ones, the sum of the removal effects")
    print("over the incremental total, and the dashboards' claims over the incremental total:\n")
    print("| scenario | conversions | incremental | removal sum / incremental | reported / incremental | seconds per run |")
    print("|---|---|---|---|---|---|")
    for name, row in summary.iterrows():
        print(
            f"| {name} | {row['conversions']:.0f} | {row['incremental']:.0f} | "
            f"{row['removal_sum'] / row['incremental']:.3f} | {row['reported_sum'] / row['incremental']:.2f} | "
            f"{row['seconds']:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
