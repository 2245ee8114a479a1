"""Runs bench/scenarios/monitoring.yaml over several seeds and prints, as
Markdown, every monitor's scores against the injected shocks (mean over
seeds) and which shocks each monitor detected.

    .venv/bin/python bench/monitoring_benchmark.py [--seeds 5] [--seed-list 101-110]

--seeds N runs seeds 1..N (the held-out seeds the docs report); --seed-list
runs other seeds instead (e.g. 101-110, the seeds the KPI monitors' defaults
were tuned on), as a range A-B or a comma-separated list.

Needs the adsim package (scripts/setup.sh installs it into .venv).
"""
import argparse
import pathlib

import numpy as np
import pandas as pd

import adsim

ROOT = pathlib.Path(__file__).resolve().parents[1]


def markdown(df: pd.DataFrame, index_name: str) -> str:
    """A DataFrame as a Markdown table (no dependency on tabulate)."""

    def fmt(v):
        if isinstance(v, float):
            return "n/a" if np.isnan(v) else f"{v:.2f}"
        return str(v)

    cols = [index_name] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join([str(idx)] + [fmt(v) for v in row]) + " |")
    return "\n".join(lines)


def parse_seeds(text: str, parser: argparse.ArgumentParser) -> list[int]:
    """Seeds from "A-B" (inclusive range) or "A,B,C"; a parser error otherwise."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            seeds = list(range(first, last + 1))
        else:
            seeds = [int(part) for part in text.split(",")]
    except ValueError:
        parser.error(f"--seed-list: expected a range A-B or a list A,B,C of integers, got {text!r}")
    if not seeds:
        parser.error(f"--seed-list: the range {text!r} is empty")
    return seeds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--seed-list", help="seeds to run instead of 1..N: a range A-B or a list A,B,C")
    ap.add_argument("--scenario", default=str(ROOT / "bench/scenarios/monitoring.yaml"))
    args = ap.parse_args()
    seeds = parse_seeds(args.seed_list, ap) if args.seed_list else list(range(1, args.seeds + 1))

    scores, detections = [], []
    for seed in seeds:
        r = adsim.run(args.scenario, seed=seed)
        s = r.monitor_scores.copy()
        s["seed"] = seed
        scores.append(s)
        grace = r.attrs["alert_grace_us"]
        alerts, shocks = r.alerts, r.truth_shocks
        channels = list(r.channels["name"])
        for _, sh in shocks.iterrows():
            shocked = [channels.index(c) for c in sh["channels"].split(",")] if sh["channels"] else None
            for mon in s["monitor"]:
                a = alerts[(alerts["monitor"] == mon) & (alerts["time"] >= sh["start"]) & (alerts["time"] < sh["end"] + grace)]
                if shocked is not None:
                    a = a[(a["channel"] < 0) | a["channel"].isin(shocked)]
                delay = (a["time"].min() - sh["start"]) / 60e6 if len(a) else np.nan
                detections.append({"seed": seed, "monitor": mon, "shock": sh["name"], "delay_min": delay})

    s = pd.concat(scores)
    table = s.groupby("monitor", sort=False).agg(
        alerts=("alerts", "mean"),
        recall=("recall", "mean"),
        precision=("precision", "mean"),
        delay_median_min=("delay_median_min", "median"),
        delay_p90_min=("delay_p90_min", "median"),
        false_alarms_per_day=("false_alarms_per_day", "mean"),
    )
    print(f"Scores over {len(seeds)} seeds (means; delays: median over seeds of each run's median / p90):\n")
    print(markdown(table, "monitor"))
    d = pd.DataFrame(detections)
    det = d.assign(hit=d["delay_min"].notna()).pivot_table(index="monitor", columns="shock", values="hit", aggfunc="mean", sort=False)
    delay = d.pivot_table(index="monitor", columns="shock", values="delay_min", aggfunc="median", sort=False)
    cells = det.copy().astype(object)
    for m in det.index:
        for c in det.columns:
            rate, dl = det.loc[m, c], delay.loc[m, c] if c in delay.columns and m in delay.index else np.nan
            cells.loc[m, c] = f"{rate:.0%}" + (f" ({dl:.0f} min)" if rate > 0 and not np.isnan(dl) else "")
    print(f"\nShare of seeds in which each shock was detected (median delay):\n")
    print(markdown(cells[[c for c in d["shock"].unique()]], "monitor"))


if __name__ == "__main__":
    main()
