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

With --scope campaign, the scores are per campaign (the path models on the
campaign paths); with --holdout too, the holdout models' channel credit is
split between each channel's campaigns by their impressions there.

With --holdout SHARE, every channel of every scenario holds out SHARE of its
users (journeys.holdout: held-out users see none of our ads there) and the
`holdout` model (holdout-measured incrementality, what a real advertiser can
observe) and the `holdout_calibrated` model (the holdout shrunk toward a path
model's shares, with its default prior first_touch and with the priors markov2
and shapley) are scored beside the others, per channel only: the runs, and so
the truth, differ from the runs without a holdout. A second table then gives,
per scenario, the paired difference (over seeds) between holdout_calibrated
and the best heuristic, Markov or Shapley model of that scenario, with its 95%
t interval, and the numbers that explain it (the holdout's noise against the
path models' error).

    .venv/bin/python bench/attribution_accuracy.py --seeds 1-30 --holdout 0.2

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
from scipy import stats

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
#: holdout_calibrated with other path models as its prior (calibration_prior), scored under these names.
CALIBRATED_PRIORS = {"holdout_calibrated_markov2": "markov2", "holdout_calibrated_shapley": "shapley"}
SCENARIOS = ["base", "low_overlap", "long_delay", "saturation", "high_baseline", "strong_view"]


def run_all(seeds: List[int], scope: str, holdout: float = 0.0) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Scores per (scenario, seed, model), and per (scenario, seed) the truth's totals; with
    holdout > 0 every channel holds out that share of users and the holdout model is scored too."""
    scores, totals, noise = [], [], []
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
            accuracy = result.attribution_accuracy(models=models + (["holdout_calibrated"] if holdout > 0 else []))
            accuracy = accuracy[accuracy["scope"] == scope].assign(scenario=name, seed=seed)
            scores.append(accuracy)
            if holdout > 0 and scope == "channel":
                for label, prior in CALIBRATED_PRIORS.items():
                    extra = result.attribution_accuracy(models=["holdout_calibrated"], calibration_prior=prior)
                    extra = extra[(extra["scope"] == scope) & (extra["model"] == "holdout_calibrated")]
                    scores.append(extra.assign(model=label, scenario=name, seed=seed))
            if holdout > 0 and scope == "campaign":
                scores.append(campaign_scores(result).assign(scenario=name, seed=seed))
            if holdout > 0:
                noise.append(holdout_noise(result, name, seed))
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
    return pd.concat(scores, ignore_index=True), pd.DataFrame(totals), pd.DataFrame(noise)


def holdout_noise(result: adsim.Result, name: str, seed: int) -> Dict[str, object]:
    """The holdout's noise on one run: its standard error per channel over its measured total
    (sqrt(mean s_c^2) / sum h_c), to set beside the path models' error (1 - their accuracy)."""
    credit = result.attribute(["holdout"]).set_index("channel")
    total = credit["conversions"].sum()
    return {
        "scenario": name,
        "seed": seed,
        "holdout_se_share": math.sqrt((credit["conversions_se"] ** 2).mean()) / total if total > 0 else math.nan,
    }


def campaign_scores(result: adsim.Result) -> pd.DataFrame:
    """The holdout models per campaign: a channel holdout measures channels, so each channel's
    credit is split between the campaigns that ran on it by their share of the channel's
    impressions (what the advertiser's own ad server logs), then scored against the campaign
    truth like the other models (a negative credit counting 0)."""
    impressions = result.kpis(by=["campaign", "channel"])
    channel_total = impressions.groupby("channel_name", observed=True)["impressions"].transform("sum")
    impressions = impressions.assign(part=impressions["impressions"] / channel_total)
    truth = result.journey_truth
    players = truth[truth["scope"] == "campaign"].set_index("name")
    credit = result.attribute(["holdout", "holdout_calibrated"])
    rows = []
    for model, group in credit.groupby("model", sort=False):
        by_channel = group.set_index("channel")
        row: Dict[str, object] = {"model": model, "scope": "campaign"}
        for measure in ("conversions", "value"):
            amount = impressions["part"] * impressions["channel_name"].astype(str).map(by_channel[measure]).fillna(0.0)
            per_campaign = amount.groupby(impressions["campaign_name"].astype(str)).sum().clip(lower=0)
            for game in ("removal", "shapley"):
                row[f"{measure}_vs_{game}"] = adsim.attribution_accuracy_score(
                    per_campaign, players[f"{game}_{measure}"])
        rows.append(row)
    return pd.DataFrame(rows)


def paired(scores: pd.DataFrame, model: str, column: str) -> List[Dict[str, object]]:
    """Per scenario: `model` against the best path model of that scenario (highest mean score
    among MODELS) and against holdout, paired over seeds: mean difference and 95% t interval."""
    out = []
    for name in SCENARIOS:
        here = scores[scores["scenario"] == name].pivot(index="seed", columns="model", values=column)
        best = max(MODELS, key=lambda m: here[m].mean())
        row: Dict[str, object] = {"scenario": name, "model": here[model].mean(), "best": best,
                                  "best_score": here[best].mean()}
        for label, other in (("vs_best", best), ("vs_holdout", "holdout")):
            difference = (here[model] - here[other]).to_numpy()
            half = stats.t.ppf(0.975, len(difference) - 1) * difference.std(ddof=1) / math.sqrt(len(difference))
            row[label] = (difference.mean(), difference.mean() - half, difference.mean() + half)
            row[label + "_wins"] = int((difference > 0).sum())
        row["seeds"] = len(here)
        out.append(row)
    return out


def table(scores: pd.DataFrame, column: str, seeds: int) -> str:
    """Mean score per model (rows) and scenario (columns), ± the half-width of a 95% interval over seeds."""
    rows = ["| model | " + " | ".join(SCENARIOS) + " | mean |", "|---" * (len(SCENARIOS) + 2) + "|"]
    extra = ["holdout", "holdout_calibrated", *CALIBRATED_PRIORS, "platform_reported", "drawn_cause"]
    order = [m for m in MODELS + extra if m in set(scores["model"])]
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


def parse_seeds(text: str) -> List[int]:
    """"1,2,3" or "1-30" (or a mix: "1-10,20")."""
    seeds: List[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += list(range(int(low), int(high) + 1)) if high else [int(low)]
    return seeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds or a range A-B (default 1,2,3)")
    parser.add_argument("--scope", default="channel", choices=["channel", "campaign"])
    parser.add_argument("--holdout", type=float, default=0.0,
                        help="share of users every channel holds out (0 to 0.5; scores the holdout model too)")
    args = parser.parse_args()
    if not 0 <= args.holdout <= 0.5:
        parser.error(f"--holdout: expected a share in [0, 0.5], found {args.holdout}")
    seeds = parse_seeds(args.seeds)
    scores, totals, noise = run_all(seeds, args.scope, args.holdout)
    print(f"Scores per {args.scope} on conversions, mean ± 95% half-width over seeds {args.seeds}.\n")
    print("Against the Shapley truth:\n")
    print(table(scores, "conversions_vs_shapley", len(seeds)))
    print("\nAgainst the removal truth:\n")
    print(table(scores, "conversions_vs_removal", len(seeds)))
    if args.holdout > 0:
        print_paired(scores, noise)
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


def print_paired(scores: pd.DataFrame, noise: pd.DataFrame) -> None:
    """The paired comparison of holdout_calibrated per scenario (Shapley truth), with the holdout's
    noise and the best path model's error beside it."""
    print("\nholdout_calibrated against the best heuristic, Markov or Shapley model of each scenario and")
    print("against holdout, paired over seeds (Shapley truth): mean difference [95% t interval], seeds won;")
    print("the holdout's SE per channel over its total, and the best path model's error (1 - accuracy):\n")
    print("| scenario | holdout_calibrated | best path model | difference [95% CI] | won | "
          "against holdout [95% CI] | won | holdout SE / total | best path model's error |")
    print("|---|---|---|---|---|---|---|---|---|")
    se_share = noise.groupby("scenario", sort=False)["holdout_se_share"].mean()
    for row in paired(scores, "holdout_calibrated", "conversions_vs_shapley"):
        best, holdout = row["vs_best"], row["vs_holdout"]
        print(f"| {row['scenario']} | {row['model']:.3f} | {row['best']} {row['best_score']:.3f} | "
              f"{best[0]:+.3f} [{best[1]:+.3f}, {best[2]:+.3f}] | {row['vs_best_wins']}/{row['seeds']} | "
              f"{holdout[0]:+.3f} [{holdout[1]:+.3f}, {holdout[2]:+.3f}] | {row['vs_holdout_wins']}/{row['seeds']} | "
              f"{se_share[row['scenario']]:.3f} | {1 - row['best_score']:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
