#!/usr/bin/env python3
"""Static baseline against the optimized strategy stack, on common random numbers.

Builds both variants from one scenario file (default
bench/scenarios/comparison.yaml, which as written *is* the static baseline),
runs them on the same seeds, one run at a time, and prints markdown tables:
per-variant means of spend, conversions (truth and reported), conversion
value, CPA and ROAS, and the paired difference optimized - baseline with a 95 %
confidence interval from the paired t over seeds. The optimized stack is run
with control cycles of 15 min, 2 h and 24 h, each paired against the same
baseline runs. docs/strategy-comparison.md explains the scenario, the
variants and the results.

    .venv/bin/python bench/strategy_comparison.py --seeds 30 --out table.md

Seeds are first_seed, first_seed + 1, ...; the evaluation in the docs uses
seeds 1..30. Tuning was done on seeds from 1001 on (--first-seed 1001).
"""

from __future__ import annotations

import argparse
import copy
import math
import pathlib
import sys
import time

import numpy as np
import yaml
from scipy import stats

import adsim

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_SCENARIO = HERE / "scenarios" / "comparison.yaml"

# Assumed mean conversion delay given to the value bidders, in hours. The
# advertiser does not know the true delays (6h to 20h medians by segment);
# 12h is a round guess in the middle.
CONVERSION_DELAY_HOURS = 12


def baseline(scenario: dict) -> dict:
    """The static baseline: fixed bids, the file's (even) daily budgets, no
    controllers, creatives rotated uniformly by the engine."""
    sc = copy.deepcopy(scenario)
    sc.pop("controllers", None)
    for camp in sc["campaigns"]:
        camp["bidder"] = "fixed"
        camp.pop("controllers", None)
    return sc


def optimized(scenario: dict, control_cycle: str = "15m", realloc: str = "rule",
              realloc_interval_hours: float = 24, bidders: str = "value") -> dict:
    """The optimized stack on the same market and the same total budget.

    Per campaign: a goal-driven value bidder (target_cpa for a CPA goal,
    target_roas for a ROAS goal) whose bids follow the base bid, pid_pacing
    on the base bid, creative_thompson when the campaign has more than one
    creative. Scenario-wide: budget_reallocation (method rule, goal roas,
    once a day: intervals several times the conversion delays, as
    docs/strategies/controllers/budget_reallocation.md advises). Nothing else changes:
    same channels, segments, bids to start from, daily budgets to start from
    (so the same total budget), guardrails and shocks.

    realloc: "rule", "thompson", "marginal" or "none"; bidders: "value" (the
    goal-driven value bidders) or "fixed" (ablation: fixed bids, so only the
    controllers differ from the baseline).
    """
    sc = baseline(scenario)
    sc["control_cycle"] = control_cycle
    for camp in sc["campaigns"]:
        goal = camp.get("goal") or {}
        estimates = {"conversion_delay_hours": CONVERSION_DELAY_HOURS}
        if bidders == "fixed":
            camp["bidder"] = "fixed"
        elif "cpa" in goal:
            camp["bidder"] = {"type": "target_cpa", "params": estimates}
        elif "roas" in goal:
            camp["bidder"] = {"type": "target_roas", "params": estimates}
        else:
            camp["bidder"] = {"type": "value_linear", "params": estimates}
        controllers = [{"type": "pid_pacing"}]
        if len(camp.get("creatives", [])) > 1:
            controllers.append({"type": "creative_thompson", "params": {"half_life_hours": 12}})
        camp["controllers"] = controllers
    if realloc != "none":
        # Budgets the scenario set are ceilings unless the guardrails allow
        # more (docs/engine.md, "Budgets"): the pool may move budget between
        # campaigns, so each may rise to 3x its own (never the pool's sum).
        sc["guardrails"] = {**sc.get("guardrails", {}), "max_budget_raise": 3, "review_budget_raise": 3}
        sc["controllers"] = [{
            "type": "budget_reallocation",
            "params": {"method": realloc, "goal": "roas",
                       "interval_hours": realloc_interval_hours},
        }]
    return sc


def kpis(result) -> dict:
    """Per-run KPIs. Truth: every conversion the users made from clicks in the
    run (the conversions table), including those arriving after the end or
    lost to tracking; reported: those the advertiser saw."""
    spend = float(result.table("daily")["spend"].sum())
    conv = result.table("conversions")
    rep = conv[conv["reported"] == 1]
    n, value = float(len(conv)), float(conv["value"].sum())
    n_rep, value_rep = float(len(rep)), float(rep["value"].sum())
    return {
        "spend": spend,
        "conversions": n,
        "reported_conversions": n_rep,
        "value": value,
        "CPA": spend / n if n else math.nan,
        "ROAS": value / spend if spend else math.nan,
        "reported_CPA": spend / n_rep if n_rep else math.nan,
        "reported_ROAS": value_rep / spend if spend else math.nan,
    }


def breakdown(result, scenario: dict) -> dict:
    """Spend, conversions and value per campaign (truth), for the discussion."""
    names = [c["name"] for c in scenario["campaigns"]]
    daily = result.table("daily").groupby("campaign")["spend"].sum()
    conv = result.table("conversions").groupby("campaign")["value"].agg(["size", "sum"])
    out = {}
    for i, name in enumerate(names):
        out[name] = {
            "spend": float(daily.get(i, 0.0)),
            "conversions": float(conv["size"].get(i, 0)) if len(conv) else 0.0,
            "value": float(conv["sum"].get(i, 0.0)) if len(conv) else 0.0,
        }
    return out


METRICS = ["spend", "conversions", "reported_conversions", "value", "CPA", "ROAS",
           "reported_CPA", "reported_ROAS"]


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, float, float]:
    """Mean of b - a, its 95 % CI (paired t) and the relative difference in %
    with the CI scaled by the baseline mean."""
    d = b - a
    n = len(d)
    mean = float(d.mean())
    half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    base = float(a.mean())
    rel = 100 * mean / base if base else math.nan
    rel_half = 100 * half / abs(base) if base else math.nan
    return mean, mean - half, mean + half, rel, rel_half


def fmt(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def comparison_table(base: dict, opt: dict, label: str) -> list[str]:
    lines = [f"| metric | baseline | {label} | difference (95 % CI) | relative |",
             "|---|---:|---:|---|---:|"]
    for m in METRICS:
        a, b = np.array(base[m]), np.array(opt[m])
        mean, lo, hi, rel, rel_half = paired(a, b)
        lines.append(f"| {m} | {fmt(a.mean())} | {fmt(b.mean())} | "
                     f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}] | {rel:+.1f} % ± {rel_half:.1f} |")
    return lines


def cycle_table(base: dict, opts: dict, first: str = "control cycle") -> list[str]:
    cols = ["spend", "conversions", "value", "CPA", "ROAS"]
    lines = [f"| {first} | " + " | ".join(f"{c} (Δ, 95 % CI)" for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for cycle, opt in opts.items():
        cells = []
        for m in cols:
            a, b = np.array(base[m]), np.array(opt[m])
            mean, lo, hi, rel, _ = paired(a, b)
            cells.append(f"{fmt(b.mean())} ({'+' if mean >= 0 else ''}{fmt(mean)}, "
                         f"[{fmt(lo)}, {fmt(hi)}]; {rel:+.1f} %)")
        lines.append(f"| {cycle} | " + " | ".join(cells) + " |")
    return lines


def campaign_table(base_bd: list, opt_bd: list, label: str) -> list[str]:
    names = list(base_bd[0].keys())
    lines = ["| campaign | spend base → opt | conversions base → opt (Δ 95 % CI) | "
             "value base → opt (Δ 95 % CI) |", "|---|---|---|---|"]
    for name in names:
        row = [f"| {name}"]
        s_a = np.array([r[name]["spend"] for r in base_bd])
        s_b = np.array([r[name]["spend"] for r in opt_bd])
        row.append(f"{fmt(s_a.mean())} → {fmt(s_b.mean())}")
        for m in ("conversions", "value"):
            a = np.array([r[name][m] for r in base_bd])
            b = np.array([r[name][m] for r in opt_bd])
            mean, lo, hi, _, _ = paired(a, b)
            row.append(f"{fmt(a.mean())} → {fmt(b.mean())} ({fmt(mean)} [{fmt(lo)}, {fmt(hi)}])")
        lines.append(" | ".join(row) + " |")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="number of seeds (default 30)")
    ap.add_argument("--first-seed", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO), help="scenario file")
    ap.add_argument("--cycles", default="15m,2h,24h",
                    help="control cycles of the optimized stack, comma-separated; the first "
                         "is the headline comparison (default 15m,2h,24h)")
    ap.add_argument("--out", help="also write the markdown to this file")
    ap.add_argument("--no-ablations", action="store_true",
                    help="skip the ablation variants (first try, no reallocation, fixed bids)")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error("--seeds: expected at least 2 seeds for a paired confidence interval")

    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    cycles = [c.strip() for c in args.cycles.split(",") if c.strip()]
    variants = {"baseline": baseline(scenario)}
    for c in cycles:
        variants[f"optimized {c}"] = optimized(scenario, c)
    # Ablations and the first configuration tried, all at the first cycle length.
    ablations = {} if args.no_ablations else {
        "first try: marginal every 6 h": optimized(scenario, cycles[0], "marginal", 6),
        "no reallocation": optimized(scenario, cycles[0], "none"),
        "fixed bids + pid_pacing + creative_thompson": optimized(
            scenario, cycles[0], "none", bidders="fixed"),
    }
    variants.update(ablations)
    for name, sc in variants.items():
        adsim.validate(sc)

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = {name: {m: [] for m in METRICS} for name in variants}
    bd = {name: [] for name in variants}
    t0 = time.perf_counter()
    for k, seed in enumerate(seeds):
        for name, sc in variants.items():
            r = adsim.run(sc, seed=seed)
            for m, v in kpis(r).items():
                results[name][m].append(v)
            bd[name].append(breakdown(r, sc))
        print(f"seed {seed} done ({k + 1}/{len(seeds)}, {time.perf_counter() - t0:.0f} s)",
              file=sys.stderr)
    wall = time.perf_counter() - t0

    head = f"optimized {cycles[0]}"
    out = [f"Scenario `{pathlib.Path(args.scenario).name}`, seeds {seeds[0]}..{seeds[-1]} "
           f"({len(seeds)} seeds, common random numbers), {len(variants) * len(seeds)} runs "
           f"in {wall:.0f} s, adsim {adsim.__version__}.", "",
           f"### Baseline against the optimized stack (control cycle {cycles[0]})", ""]
    out += comparison_table(results["baseline"], results[head], head)
    out += ["", "### Per campaign (truth; mean over seeds)", ""]
    out += campaign_table(bd["baseline"], bd[head], head)
    out += ["", "### Control-cycle length (each paired against the same baseline)", ""]
    out += cycle_table(results["baseline"], {c: results[f"optimized {c}"] for c in cycles})
    for c in cycles[1:]:
        out += ["", f"### Per campaign, control cycle {c}", ""]
        out += campaign_table(bd["baseline"], bd[f"optimized {c}"], f"optimized {c}")
    if ablations:
        out += ["", f"### Other configurations (control cycle {cycles[0]}, each paired against "
                "the same baseline)", ""]
        out += cycle_table(results["baseline"], {k: results[k] for k in ablations},
                           first="configuration")
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
