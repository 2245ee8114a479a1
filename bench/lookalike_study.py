#!/usr/bin/env python3
"""Lookalike audiences and the predictive bidder on a scenario where conversion depends on features.

For each seed s, on bench/scenarios/lookalike.yaml (docs/audiences.md):

1. the seed run (seed s): the prospecting campaign bids on everyone;
   ``adsim.lookalike`` fits the L2 logistic regression of its clickers'
   conversions on the four public features and keeps the top ``--share`` of
   users as the audience;
2. the audience's **true CVR lift**, out of sample: on the users of a fresh
   population (seed s + 1000, so new feature draws), the mean true conversion
   probability after a click of the users the audience's rule selects, over
   the mean of their segments (the truth: sigmoid(logit(cvr) + beta . x) with
   the scenario's beta);
3. six arms on seed s + 1000 (the same users and opportunities: common
   random numbers), each with the same daily budget:
   ``baseline`` (fixed bid on everyone), ``lookalike`` (the same bid, only on
   the audience: ``audiences: {lookalike: 1, others: 0}``), ``target_cpa``
   (the static value bidder: one pCVR per segment) and ``predictive_cpa``
   (the same target CPA, per-user pCVR from the lookalike fit);
   and two arms that learn inside the run, from nothing:
   ``predictive_online`` (predictive_cpa with ``learning: online``: the
   per-user model refitted each hour from the conversions reported so far,
   ``conversion_delay_hours: 3`` for the censoring) and ``lookalike_inrun``
   (an ``audiences[].lookalike`` fitted at ``--fit-at`` from the converters
   reported by then, the same share; the campaign buys everyone before and
   only the audience after: ``{inrun: 1, others: 0}``).
   CPA = spend / conversions made (truth, ``campaign_truth``).

Prints a markdown table: each quantity's mean over the seeds with a 95 %
confidence interval (t quantile x standard error over seeds), and the paired
ratios (lookalike / baseline CPA, predictive / static CPA, online /
offline predictive CPA, online predictive / static CPA, in-run / previous-run
lookalike CPA, and the spend ratios that show the arms spent the same) with
theirs. ``--jobs`` runs seeds in parallel threads (the runs release the GIL).

    .venv/bin/python bench/lookalike_study.py --seeds 30 --jobs 2
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import math
import pathlib
from typing import Dict, List

import numpy as np
import yaml
import adsim

REPO = pathlib.Path(__file__).resolve().parent.parent
SCENARIO = REPO / "bench" / "scenarios" / "lookalike.yaml"


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function."""
    return 1.0 / (1.0 + np.exp(-z))


def true_probabilities(scenario: dict, users: Dict[str, np.ndarray]) -> np.ndarray:
    """Each user's true conversion probability after a click (the scenario's model)."""
    beta = np.asarray(scenario["users"]["conversion"]["coefficients"], dtype=float)
    cvr = np.array([segment["cvr"] for segment in scenario["segments"]], dtype=float)
    x = np.column_stack([users[f"feature_{k}"] for k in range(len(beta))])
    base = np.log(cvr / (1.0 - cvr))[users["segment"]]
    return sigmoid(base + x @ beta)


def arm(scenario: dict, name: str, budget: float, **campaign: object) -> dict:
    """The scenario with its one campaign renamed, given a daily budget and the fields in `campaign`."""
    sc = copy.deepcopy(scenario)
    sc["campaigns"][0].update({"name": name, "budget": {"daily": budget}}, **campaign)
    return sc


def one_seed(scenario: dict, seed: int, share: float, l2: float, budget: float, fit_at: str) -> Dict[str, float]:
    """Every measured quantity for one seed."""
    seed_run = adsim.run(scenario, seed=seed)
    fit = adsim.lookalike(seed_run, share=share, l2=l2)
    fresh = seed + 1000
    with_audience = fit.apply(scenario)
    target = float(scenario["campaigns"][0]["goal"]["cpa"])
    arms = {
        "baseline": arm(with_audience, "baseline", budget),
        "lookalike": arm(with_audience, "lookalike", budget, audiences={"lookalike": 1.0, "others": 0.0}),
        "target_cpa": arm(with_audience, "static", budget, bidder={"type": "target_cpa"}),
        "predictive_cpa": arm(
            with_audience,
            "predictive",
            budget,
            bidder={"type": "predictive_cpa", "params": {"model": "lookalike", "target_cpa": target}},
        ),
        "predictive_online": arm(
            scenario,
            "online",
            budget,
            bidder={
                "type": "predictive_cpa",
                "params": {"learning": "online", "target_cpa": target, "conversion_delay_hours": 3},
            },
        ),
        "lookalike_inrun": arm(
            dict(
                scenario,
                audiences=[
                    {"name": "inrun", "lookalike": {"seed": "converters", "fit_at": fit_at, "top_share": share}}
                ],
            ),
            "inrun",
            budget,
            audiences={"inrun": 1.0, "others": 0.0},
        ),
    }
    out: Dict[str, float] = {"seed_converters": fit.seed_users}
    for k, (coefficient, se) in enumerate(zip(fit.coefficients[1:], fit.standard_errors[1:])):
        out[f"beta_{k}"] = float(coefficient)
        out[f"beta_{k}_se"] = float(se)
    for label, sc in arms.items():
        result = adsim.run(sc, seed=fresh)
        truth = result.table("campaign_truth")
        spend = float(truth["spend"].sum())
        conversions = float(truth["conversions"].sum())
        users = result.raw("users")
        out[f"{label}_spend"] = spend
        out[f"{label}_conversions"] = conversions
        out[f"{label}_cpa"] = spend / conversions if conversions > 0 else math.inf
        clicks = float(users["clicks"].sum())
        out[f"{label}_cvr"] = float(users["conversions"].sum()) / clicks if clicks > 0 else math.nan
        if label == "baseline":
            p = true_probabilities(scenario, users)
            x = np.column_stack([users[c] for c in fit.feature_names])
            member = fit.coefficients[0] + x @ fit.coefficients[1:] >= fit.threshold
            segment_mean = np.array([p[users["segment"] == s].mean() for s in range(len(scenario["segments"]))])
            out["audience_share"] = float(member.mean())
            out["true_cvr_lift"] = float(p[member].sum() / segment_mean[users["segment"][member]].sum())
        if label in ("predictive_online", "lookalike_inrun"):
            # The model the run learned last (predictive_online: its last refit;
            # lookalike_inrun: the fit at fit_at), and, for the in-run audience,
            # its members' true CVR lift over their segments (same population).
            fits = result.table("model_fits")
            last = fits[fits["time"] == fits["time"].max()]
            coefficients = last["coefficient"].to_numpy()
            for k, value in enumerate(coefficients[1:]):
                out[f"{label}_beta_{k}"] = float(value)
            if label == "lookalike_inrun":
                p = true_probabilities(scenario, users)
                x = np.column_stack([users[f"feature_{k}"] for k in range(len(coefficients) - 1)])
                score = coefficients[0] + x @ coefficients[1:]
                count = int(math.ceil(share * len(score)))
                member = score >= np.sort(score)[::-1][count - 1]
                segment_mean = np.array([p[users["segment"] == s].mean() for s in range(len(scenario["segments"]))])
                out["inrun_true_cvr_lift"] = float(p[member].sum() / segment_mean[users["segment"][member]].sum())
    out["lookalike_over_baseline_cpa"] = out["lookalike_cpa"] / out["baseline_cpa"]
    out["predictive_over_static_cpa"] = out["predictive_cpa_cpa"] / out["target_cpa_cpa"]
    out["predictive_over_static_spend"] = out["predictive_cpa_spend"] / out["target_cpa_spend"]
    out["online_over_offline_cpa"] = out["predictive_online_cpa"] / out["predictive_cpa_cpa"]
    out["online_over_static_cpa"] = out["predictive_online_cpa"] / out["target_cpa_cpa"]
    out["online_over_offline_spend"] = out["predictive_online_spend"] / out["predictive_cpa_spend"]
    out["inrun_over_previous_run_lookalike_cpa"] = out["lookalike_inrun_cpa"] / out["lookalike_cpa"]
    out["inrun_over_baseline_cpa"] = out["lookalike_inrun_cpa"] / out["baseline_cpa"]
    out["inrun_over_previous_run_lookalike_spend"] = out["lookalike_inrun_spend"] / out["lookalike_spend"]
    return out


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (Cornish-Fisher
    expansion around the normal's 1.95996; error below 1e-3 for df >= 9, 0.03 at df = 3; no SciPy in
    the project's Debian package list)."""
    z = 1.959963984540054
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


def interval(values: List[float]) -> str:
    """Mean and 95 % CI (t quantile over seeds) as text."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return f"{mean:.4g}"
    half = float(t_quantile_975(len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return f"{mean:.4g} [{mean - half:.4g}, {mean + half:.4g}]"


def main() -> None:
    """Runs the study and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="seeds 1..N (default 30)")
    parser.add_argument("--jobs", type=int, default=1, help="seeds run in parallel threads (default 1)")
    parser.add_argument("--fit-at", default="1d", help="when the in-run lookalike is fitted (default 1d)")
    parser.add_argument("--share", type=float, default=0.1, help="audience share (default 0.1)")
    parser.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the fit (default 1)")
    parser.add_argument("--budget", type=float, default=60.0, help="each arm's daily budget (default 60)")
    parser.add_argument(
        "--scenario", default=str(SCENARIO), help="the scenario (default bench/scenarios/lookalike.yaml)"
    )
    args = parser.parse_args()
    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(
            pool.map(
                lambda seed: one_seed(scenario, seed, args.share, args.l2, args.budget, args.fit_at),
                range(1, args.seeds + 1),
            )
        )
    keys = list(rows[0])
    print(
        f"seeds 1..{args.seeds}, share {args.share}, l2 {args.l2}, daily budget {args.budget} per arm, "
        f"in-run lookalike fitted at {args.fit_at}"
    )
    print()
    print("| quantity | mean [95% CI over seeds] |")
    print("|---|---|")
    for key in keys:
        print(f"| {key} | {interval([row[key] for row in rows])} |")


if __name__ == "__main__":
    main()
