"""The funnel monitoring benchmark: runs bench/scenarios/funnel.yaml (one
injected shock per funnel stage) over several seeds and prints, as Markdown,
each monitor's scores against the shocks (mean over seeds: recall, precision,
detection delay, false alarms per shock-free day) and, per shock, the share of
seeds in which it was detected and the share in which the first alert on the
shocked channel named the shocked stage (docs/funnel.md).

    .venv/bin/python bench/funnel_benchmark.py [--seeds 10] [--seed-list 101-110]

Needs the adsim package (scripts/setup.sh installs it into .venv).
"""
from __future__ import annotations

import argparse
import pathlib
from typing import Any, Dict, List

import numpy as np
import pandas as pd

import adsim

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The stage each shock of the benchmark scenario lowers (its multiplier's key; ctr is the click stage).
STAGE_OF_MULTIPLIER = {"ctr": "click", "visit": "visit", "cart": "cart", "purchase": "purchase"}


def markdown(df: pd.DataFrame, index_name: str) -> str:
    """A DataFrame as a Markdown table (no dependency on tabulate)."""

    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return "n/a" if np.isnan(value) else f"{value:.2f}"
        return str(value)

    columns = [index_name] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for index, row in df.iterrows():
        lines.append("| " + " | ".join([str(index)] + [fmt(v) for v in row]) + " |")
    return "\n".join(lines)


def shocked_stage(shock: pd.Series) -> str:
    """The stage a benchmark shock lowers: the one multiplier below 1."""
    for column, stage in STAGE_OF_MULTIPLIER.items():
        if column in shock and shock[column] < 1:
            return stage
    raise ValueError(f"shock {shock['name']!r} lowers no funnel stage")


def parse_seeds(text: str, parser: argparse.ArgumentParser) -> List[int]:
    """Seeds from "A-B" (inclusive range) or "A,B,C"; a parser error otherwise."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            return list(range(first, last + 1))
        return [int(part) for part in text.split(",")]
    except ValueError:
        parser.error(f"--seed-list: expected a range A-B or a list A,B,C of integers, got {text!r}")
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="run seeds 1..N")
    parser.add_argument("--seed-list", help="seeds to run instead of 1..N: a range A-B or a list A,B,C")
    parser.add_argument("--scenario", default=str(ROOT / "bench/scenarios/funnel.yaml"))
    args = parser.parse_args()
    seeds = parse_seeds(args.seed_list, parser) if args.seed_list else list(range(1, args.seeds + 1))

    scores, detections = [], []
    for seed in seeds:
        result = adsim.run(args.scenario, seed=seed)
        score = result.monitor_scores.copy()
        score["seed"] = seed
        scores.append(score)
        grace = result.attrs["alert_grace_us"]
        alerts, shocks = result.alerts, result.truth_shocks
        channels = list(result.channels["name"])
        for _, shock in shocks.iterrows():
            shocked = [channels.index(c) for c in shock["channels"].split(",")]
            stage = shocked_stage(shock)
            for monitor in score["monitor"]:
                window = alerts[(alerts["monitor"] == monitor) & (alerts["time"] >= shock["start"])
                                & (alerts["time"] < shock["end"] + grace)
                                & ((alerts["channel"] < 0) | alerts["channel"].isin(shocked))]
                first = window.sort_values("time", kind="stable").head(1)
                row: Dict[str, Any] = {"seed": seed, "monitor": monitor, "shock": shock["name"],
                                       "detected": len(first) > 0,
                                       "delay_min": (first["time"].iloc[0] - shock["start"]) / 60e6 if len(first)
                                       else np.nan,
                                       "named": bool(len(first)) and first["metric"].iloc[0] == f"funnel_{stage}"}
                detections.append(row)

    scores_frame = pd.concat(scores)
    table = scores_frame.groupby("monitor", sort=False).agg(
        alerts=("alerts", "mean"),
        recall=("recall", "mean"),
        precision=("precision", "mean"),
        delay_median_min=("delay_median_min", "median"),
        false_alarms_per_day=("false_alarms_per_day", "mean"),
    )
    print(f"Scores over {len(seeds)} seeds {seeds[0]}-{seeds[-1]} (means; delay: median over seeds of each run's "
          "median):\n")
    print(markdown(table, "monitor"))
    frame = pd.DataFrame(detections)
    cells = {}
    for (monitor, shock), group in frame.groupby(["monitor", "shock"], sort=False):
        delay = group["delay_min"].median()
        text = f"{group['detected'].mean():.0%}"
        if group["detected"].any():
            text += f" ({delay:.0f} min)"
        if monitor == "funnel_bottleneck":
            text += f", stage named {group['named'].mean():.0%}"
        cells.setdefault(monitor, {})[shock] = text
    print("\nPer shock: share of seeds detected (median delay of the first alert on the shocked channel); for "
          "funnel_bottleneck, the share of seeds whose first such alert named the shocked stage:\n")
    print(markdown(pd.DataFrame(cells).T[list(frame["shock"].unique())], "monitor"))


if __name__ == "__main__":
    main()
