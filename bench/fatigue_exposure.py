#!/usr/bin/env python3
"""How fatigued are the comparison's creatives while the best stack runs?

Owns the measurement behind docs/strategies/bidders/fatigue.md, "How much
there is to gain" (issue 16: the oracle knows each creative's fatigue at the
moment of the impression; how large is that factor?).

For each seed, runs the best stack of bench/strategy_comparison.py (the
"value" stack with bench/results/tuned_params.yaml) on
bench/scenarios/comparison.yaml, then replays the engine's fatigue law
(docs/scenario.md, `fatigue`) on the run's hourly `aggregates`: per
(campaign, segment, creative), exposures n decay as n * exp(-dt / recovery)
and grow by the impressions of every channel; the click rate is multiplied
by 2^(-n / half_life). Each hour's impressions are taken at the exposure of
the middle of the hour (exact to well under 1 % here: an hour moves n by at
most a few thousand against half-lives of 15,000 and 40,000). The half-lives
and recovery are read from the scenario file, i.e. this is a bench
measurement with the truth, never something a strategy sees.

Reported per campaign: the impression-weighted mean fatigue factor over the
week, its 10th percentile over impressions, the share of impressions served
at a factor below 0.75, and the mean spread (max - min) of the factor between
the campaign's creatives in the same segment and hour, which is what a bidder
that knows fatigue can act on (bid less on the tired creative's requests).

    .venv/bin/python bench/fatigue_exposure.py --seeds 3
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
from typing import Dict, List, Optional

import numpy as np
import yaml

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import adsim  # noqa: E402
import tune_strategies  # noqa: E402

HOUR_US = 3_600_000_000


def parse_duration_hours(text: str) -> float:
    """'2d', '36h', '90m' -> hours."""
    units = {"d": 24.0, "h": 1.0, "m": 1.0 / 60.0, "s": 1.0 / 3600.0}
    return float(text[:-1]) * units[text[-1]]


def fatigue_specs(scenario: dict) -> Dict[tuple, tuple]:
    """(campaign index, segment index, creative index) -> (half_life, recovery hours)."""
    out = {}
    for c, camp in enumerate(scenario["campaigns"]):
        for s, seg in enumerate(scenario["segments"]):
            for k, creative in enumerate(camp["creatives"]):
                spec = seg.get("fatigue")
                spec = seg.get("creatives", {}).get(f"{camp['name']}/{creative}", {}).get("fatigue", spec)
                if spec:
                    out[(c, s, k)] = (float(spec["half_life"]), parse_duration_hours(spec["recovery"]))
    return out


def measure(stack: dict, scenario: dict, seed: int) -> Dict[str, List[float]]:
    """Per campaign: (weighted mean factor, p10, share below 0.75, mean creative spread)."""
    result = adsim.run(stack, seed=seed)
    agg = result.table("aggregates")
    hours = int(round(parse_duration_hours(scenario["duration"])))
    imps = agg.groupby(["campaign", "segment", "creative", "bucket_start"])["impressions"].sum()
    specs = fatigue_specs(scenario)
    factors: Dict[tuple, np.ndarray] = {}
    weights: Dict[tuple, np.ndarray] = {}
    start = int(agg["bucket_start"].min()) if len(agg) else 0
    start -= start % HOUR_US
    for key, (half_life, recovery) in specs.items():
        series = np.zeros(hours)
        if key in imps.index.droplevel(3):
            for bucket, n in imps.loc[key].items():
                h = int((bucket - start) // HOUR_US)
                if 0 <= h < hours:
                    series[h] += n
        decay = math.exp(-1.0 / recovery)
        half = math.exp(-0.5 / recovery)
        exposure = 0.0
        f = np.zeros(hours)
        for h in range(hours):
            # exposures at mid-hour: the start's decayed by half an hour plus half the hour's impressions
            # (spread evenly, each decaying): n/2 * (2 recovery)(1 - exp(-1 / (2 recovery))).
            mid = exposure * half + series[h] * recovery * (1.0 - half)
            f[h] = 2.0 ** (-mid / half_life)
            exposure = exposure * decay + series[h] * recovery * (1.0 - decay)
        factors[key], weights[key] = f, series
    out: Dict[str, List[float]] = {}
    for c, camp in enumerate(scenario["campaigns"]):
        keys = [k for k in specs if k[0] == c]
        f = np.concatenate([factors[k] for k in keys])
        w = np.concatenate([weights[k] for k in keys])
        if w.sum() == 0:
            continue
        order = np.argsort(f)
        cum = np.cumsum(w[order]) / w.sum()
        p10 = float(f[order][np.searchsorted(cum, 0.1)])
        spreads = []
        for s in range(len(scenario["segments"])):
            ks = [k for k in keys if k[1] == s]
            if len(ks) < 2:
                continue
            stacked = np.vstack([factors[k] for k in ks])
            served = np.vstack([weights[k] for k in ks]).sum(axis=0)
            spreads.append(((stacked.max(axis=0) - stacked.min(axis=0)) * served).sum() / max(served.sum(), 1))
        out[camp["name"]] = [float((f * w).sum() / w.sum()), p10, float(w[f < 0.75].sum() / w.sum()),
                             float(np.mean(spreads)) if spreads else 0.0]
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds 1..N (default 3)")
    ap.add_argument("--scenario", default=str(HERE / "scenarios" / "comparison.yaml"))
    ap.add_argument("--tuned", default=str(HERE / "results" / "tuned_params.yaml"))
    args = ap.parse_args(argv)
    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    tuned = tune_strategies.read_params(args.tuned)
    params = {**tune_strategies.STACK_DEFAULTS["value"], **tuned.get("value", {})}
    stack = tune_strategies.stack_scenario(scenario, "value", params)
    rows: Dict[str, List[List[float]]] = {}
    for seed in range(1, args.seeds + 1):
        for name, values in measure(stack, scenario, seed).items():
            rows.setdefault(name, []).append(values)
            print(f"seed {seed} {name}: " + ", ".join(f"{v:.3f}" for v in values), file=sys.stderr)
    print("| campaign | mean factor | 10th percentile | impressions below 0.75 | spread between creatives |")
    print("|---|---:|---:|---:|---:|")
    for name, values in rows.items():
        v = np.array(values)
        lo, hi = v.min(axis=0), v.max(axis=0)
        print(f"| `{name}` | {v[:, 0].mean():.2f} ({lo[0]:.2f}-{hi[0]:.2f}) | {v[:, 1].mean():.2f} | "
              f"{100 * v[:, 2].mean():.0f} % | {v[:, 3].mean():.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
