#!/usr/bin/env python3
"""Static baseline against the optimized strategy stack, on common random numbers.

Builds every variant from one scenario file (default
bench/scenarios/comparison.yaml, which as written *is* the static baseline),
runs them on the same seeds, one run at a time, and writes the whole of
docs/strategy-comparison.md: the prose with its numbers filled in from the
runs, the tables (per-variant means of spend, conversions (truth and
reported), conversion value, CPA and ROAS, and the paired difference
optimized - baseline with a 95 % confidence interval from the paired t over
seeds), the same against the baseline at equal spend (its bids scaled per
seed by adsim.spend_matched so that it spends what the headline stack
spends), each campaign's regret as a share of its oracle (baseline and
headline stack; --oracle), the tuning table, single-seed illustrations, and the commit and
command that produced them. Nothing in the document is typed by hand except
what does not depend on a measurement (the scenario and the variants), so a
re-measure cannot leave a number stale.

    .venv/bin/python bench/strategy_comparison.py --seeds 30 --doc docs/strategy-comparison.md

Seeds are first_seed, first_seed + 1, ...; the evaluation uses seeds 1..30,
the tuning table seeds 1001..1006 (--tuning-seeds 6; 0 leaves it out).
--out FILE writes only the result tables (as before), --doc FILE the whole page.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import pathlib
import shlex
import subprocess
import sys
import time

import numpy as np
import yaml
from scipy import stats

import adsim

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SCENARIO = HERE / "scenarios" / "comparison.yaml"

# Assumed mean conversion delay given to the value bidders, in hours. The
# advertiser does not know the true delays (6h to 20h medians by segment);
# 12h is a round guess in the middle.
CONVERSION_DELAY_HOURS = 12

# The value bidders' cold-start defences (docs/cold-start.md): hierarchical
# pooling, an exploration floor at the base bid while a cell's interval is
# wide, and a delay learned from the reporting times (which then replaces
# the assumed CONVERSION_DELAY_HOURS: the stack does not give it, since a
# given delay wins over learning and giving both is an error).
# bench/cold_start.py measures them. The floor is the library's default;
# pooling and the learned delay are not (docs/cold-start.md, "The
# defaults"), so the stack asks for them here.
COLD_START = {"pooling": "hierarchical", "explore_bid_share": 1.0, "explore_until_width": 0.5,
              "learn_conversion_delay": True}

# Seeds of the single-run illustrations: a tuning seed for the mechanisms
# (never an evaluation seed) and the evaluation seed where the social
# campaign's ROAS bidder falls into the cold-start trap.
ILLUSTRATION_SEED = 1001
COLD_START_SEED = 6
COLD_START_CAMPAIGN = "social_prospecting"

DAY_US = 86_400_000_000

# The ablation with budget_reallocation judging ROAS on evidence with a
# 24-hour half-life instead of since the start of the run.
HALF_LIFE_VARIANT = "rule every 24 h, half-life 24 h"


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
              realloc_interval_hours: float = 24, bidders: str = "value",
              audience_modifiers: bool = False, realloc_half_life_hours: float = 0) -> dict:
    """The optimized stack on the same market and the same total budget.

    Per campaign: a goal-driven value bidder (target_cpa for a CPA goal,
    target_roas for a ROAS goal) whose bids follow the base bid, with the
    cold-start defences (COLD_START), pid_pacing
    on the base bid, creative_thompson when the campaign has more than one
    creative. Scenario-wide: budget_reallocation (method rule, goal roas,
    once a day: intervals several times the conversion delays, as
    docs/strategies/controllers/budget_reallocation.md advises). Nothing else changes:
    same channels, segments, bids to start from, daily budgets to start from
    (so the same total budget), guardrails and shocks.

    realloc: "rule", "thompson", "marginal" or "none"; bidders: "value" (the
    goal-driven value bidders), "value_linear" (value_linear everywhere) or
    "fixed" (ablation: fixed bids, so only the controllers differ from the
    baseline); audience_modifiers: also the audience_modifiers controller;
    realloc_half_life_hours: budget_reallocation's half_life_hours (0, its
    default: ROAS since the start of the run).
    """
    sc = baseline(scenario)
    sc["control_cycle"] = control_cycle
    for camp in sc["campaigns"]:
        goal = camp.get("goal") or {}
        estimates = dict(COLD_START)
        if not estimates.get("learn_conversion_delay", True):
            estimates["conversion_delay_hours"] = CONVERSION_DELAY_HOURS
        if bidders == "fixed":
            camp["bidder"] = "fixed"
        elif bidders == "value" and "cpa" in goal:
            camp["bidder"] = {"type": "target_cpa", "params": estimates}
        elif bidders == "value" and "roas" in goal:
            camp["bidder"] = {"type": "target_roas", "params": estimates}
        else:
            camp["bidder"] = {"type": "value_linear", "params": estimates}
        controllers = [{"type": "pid_pacing"}]
        if len(camp.get("creatives", [])) > 1:
            controllers.append({"type": "creative_thompson", "params": {"half_life_hours": 12}})
        if audience_modifiers:
            controllers.append({"type": "audience_modifiers"})
        camp["controllers"] = controllers
    if realloc != "none":
        # Budgets the scenario set are ceilings unless the guardrails allow
        # more (docs/engine.md, "Budgets"): the pool may move budget between
        # campaigns, so each may rise to 3x its own (never the pool's sum).
        sc["guardrails"] = {**sc.get("guardrails", {}), "max_budget_raise": 3, "review_budget_raise": 3}
        params = {"method": realloc, "goal": "roas", "interval_hours": realloc_interval_hours}
        if realloc_half_life_hours:
            params["half_life_hours"] = realloc_half_life_hours
        sc["controllers"] = [{"type": "budget_reallocation", "params": params}]
    return sc


def tuning_variants(scenario: dict) -> dict:
    """The configurations tried on the tuning seeds, at a 15-minute cycle."""
    return {
        "baseline": baseline(scenario),
        "marginal every 6 h (first try)": optimized(scenario, "15m", "marginal", 6),
        "rule every 6 h": optimized(scenario, "15m", "rule", 6),
        "thompson every 6 h": optimized(scenario, "15m", "thompson", 6),
        "marginal every 24 h": optimized(scenario, "15m", "marginal", 24),
        "**rule every 24 h (the stack)**": optimized(scenario, "15m", "rule", 24),
        "thompson every 24 h": optimized(scenario, "15m", "thompson", 24),
        "no reallocation": optimized(scenario, "15m", "none"),
        "no reallocation, + `audience_modifiers` (defaults)": optimized(
            scenario, "15m", "none", audience_modifiers=True),
        "fixed bids + `pid_pacing` + `creative_thompson`": optimized(
            scenario, "15m", "none", bidders="fixed"),
        "`value_linear` instead of target bidders, no reallocation": optimized(
            scenario, "15m", "none", bidders="value_linear"),
        "`value_linear`, rule every 24 h": optimized(scenario, "15m", "rule", 24, bidders="value_linear"),
    }


def kpis(result) -> dict:
    """Per-run KPIs. Truth: every conversion the users made from clicks in the
    run (the conversions table), including those arriving after the end or
    lost to tracking; reported: those the advertiser saw."""
    spend = float(result.table("daily")["spend"].sum())
    conv = result.table("conversions")
    rep = conv[conv["reported"] == 1]
    n, value = float(len(conv)), float(conv["value"].sum())
    n_rep, value_rep = float(len(rep)), float(rep["value"].sum())
    out = {
        "spend": spend,
        "conversions": n,
        "reported_conversions": n_rep,
        "value": value,
        "CPA": spend / n if n else math.nan,
        "ROAS": value / spend if spend else math.nan,
        "reported_CPA": spend / n_rep if n_rep else math.nan,
        "reported_ROAS": value_rep / spend if spend else math.nan,
    }
    if result.has_table("oracle"):
        # Regret as a share of the oracle, over the campaigns: (sum of the
        # oracles' - the run's) / sum of the oracles' (each campaign's oracle
        # is this run with that campaign's bidder replaced, docs/results.md).
        oracle = result.table("oracle")
        for kind in ("conversions", "value"):
            reached = float(oracle[f"oracle_{kind}"].sum())
            out[f"regret_share_{kind}"] = float(oracle[f"regret_{kind}"].sum()) / reached if reached else math.nan
    return out


def breakdown(result, scenario: dict) -> dict:
    """Spend, conversions and value per campaign (truth), for the discussion."""
    names = [c["name"] for c in scenario["campaigns"]]
    daily = result.table("daily").groupby("campaign")["spend"].sum()
    conv = result.table("conversions").groupby("campaign")["value"].agg(["size", "sum"])
    oracle = result.table("oracle").set_index("campaign") if result.has_table("oracle") else None
    out = {}
    for i, name in enumerate(names):
        out[name] = {
            "spend": float(daily.get(i, 0.0)),
            "conversions": float(conv["size"].get(i, 0)) if len(conv) else 0.0,
            "value": float(conv["sum"].get(i, 0.0)) if len(conv) else 0.0,
        }
        if oracle is not None:
            for kind in ("conversions", "value"):
                reached = float(oracle[f"oracle_{kind}"].get(i, math.nan))
                out[name][f"oracle_{kind}"] = reached
                out[name][f"regret_share_{kind}"] = (float(oracle[f"regret_{kind}"].get(i, math.nan)) / reached
                                                     if reached > 0 else math.nan)
    return out


def details(result, scenario: dict) -> dict:
    """What one run's tables say per day and per segment, for the illustrations."""
    names = [c["name"] for c in scenario["campaigns"]]
    segments = [s["name"] for s in scenario["segments"]]
    daily = result.table("daily").sort_values(["campaign", "day_start"])
    agg = result.table("aggregates")
    conv = result.table("conversions")
    actions = result.table("actions")
    out = {"spend_by_day": {}, "budget_by_day": {}, "wins_by_day": {}, "reported_by_day": {},
           "clicks_by_day": {}, "base_bid_end_of_day": {}, "ctr_by_creative": {}}
    days = sorted(daily["day_start"].unique())
    out["pool_by_day"] = [float(daily[daily["day_start"] == d]["daily_budget"].sum()) for d in days]
    for i, name in enumerate(names):
        rows = daily[daily["campaign"] == i]
        out["spend_by_day"][name] = [float(x) for x in rows["spend"]]
        out["budget_by_day"][name] = [float(x) for x in rows["daily_budget"]]
        a = agg[agg["campaign"] == i]
        day_of_row = a["bucket_start"] // DAY_US
        out["wins_by_day"][name] = [int(a[day_of_row == d]["wins"].sum()) for d in range(len(days))]
        out["clicks_by_day"][name] = [int(a[day_of_row == d]["clicks"].sum()) for d in range(len(days))]
        out["reported_by_day"][name] = [int(a[day_of_row == d]["conversions"].sum()) for d in range(len(days))]
        bids = actions[(actions["campaign"] == i) & (actions["kind"] == "set_bid")]
        initial = float(scenario["campaigns"][i]["bid"])
        last = []
        for d in range(len(days)):
            before = bids[bids["time"] < (d + 1) * DAY_US]
            last.append(float(before["new"].iloc[-1]) if len(before) else initial)
        out["base_bid_end_of_day"][name] = last
        by_creative = a.groupby("creative")[["impressions", "clicks"]].sum()
        creatives = [c if isinstance(c, str) else c["name"] for c in scenario["campaigns"][i].get("creatives", ["default"])]
        out["ctr_by_creative"][name] = {
            creatives[k]: (float(r["clicks"]) / float(r["impressions"]) if r["impressions"] else math.nan)
            for k, r in by_creative.iterrows()}
    seg_spend = agg.groupby("segment")["spend"].sum()
    seg_conv = conv.groupby("segment").size()
    out["segment_spend"] = {segments[s]: float(seg_spend.get(s, 0.0)) for s in range(len(segments))}
    out["segment_cpa"] = {segments[s]: (float(seg_spend.get(s, 0.0)) / float(seg_conv.get(s, 0))
                                        if seg_conv.get(s, 0) else math.nan) for s in range(len(segments))}
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


def signed(x: float) -> str:
    return ("+" if x >= 0 else "−") + fmt(abs(x))


def comparison_table(base: dict, opt: dict, label: str, base_label: str = "baseline") -> list[str]:
    lines = [f"| metric | {base_label} | {label} | difference (95 % CI) | relative |",
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


def share_text(values: np.ndarray) -> str:
    """Mean of shares (fractions) in %, over the finite ones."""
    finite = values[np.isfinite(values)]
    return f"{100 * finite.mean():.1f} %" if len(finite) else "n/a"


def regret_table(base: dict, opt: dict, base_bd: list, opt_bd: list, label: str) -> list[str]:
    """Regret as a share of the oracle, per campaign and over all campaigns:
    (oracle − run) / oracle, in % (0: as good as the oracle; 100: nothing),
    mean over seeds for each variant, and the paired difference in
    percentage points (seeds where an oracle reached nothing are left out)."""
    lines = [f"| campaign | conversions: baseline → {label} (Δ pp, 95 % CI) | "
             f"value: baseline → {label} (Δ pp, 95 % CI) |", "|---|---|---|"]
    rows = [(name, {k: np.array([r[name][f"regret_share_{k}"] for r in base_bd]) for k in ("conversions", "value")},
             {k: np.array([r[name][f"regret_share_{k}"] for r in opt_bd]) for k in ("conversions", "value")})
            for name in base_bd[0]]
    rows.append(("**all campaigns**",
                 {k: np.array(base[f"regret_share_{k}"]) for k in ("conversions", "value")},
                 {k: np.array(opt[f"regret_share_{k}"]) for k in ("conversions", "value")}))
    for name, a, b in rows:
        cells = [name if name.startswith("**") else f"`{name}`"]
        for kind in ("conversions", "value"):
            keep = np.isfinite(a[kind]) & np.isfinite(b[kind])
            if keep.sum() < 2:
                cells.append("n/a")
                continue
            mean, lo, hi, _, _ = paired(100 * a[kind][keep], 100 * b[kind][keep])
            cells.append(f"{share_text(a[kind])} → {share_text(b[kind])} ({signed(mean)} [{fmt(lo)}, {fmt(hi)}])")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def tuning_table(results: dict) -> list[str]:
    lines = ["| configuration | spend | conversions | value | CPA | ROAS |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        spend, conv, value = (float(np.mean(r[m])) for m in ("spend", "conversions", "value"))
        lines.append(f"| {name} | {spend:,.0f} | {conv:.1f} | {value:,.0f} | "
                     f"{spend / conv:.2f} | {value / spend:.2f} |")
    return lines


class Diff:
    """The paired difference of one metric between two variants, in words."""

    def __init__(self, base: dict, other: dict, metric: str):
        a, b = np.array(base[metric]), np.array(other[metric])
        self.base, self.value = float(a.mean()), float(b.mean())
        self.mean, self.lo, self.hi, self.rel, self.rel_half = paired(a, b)

    @property
    def significant(self) -> bool:
        return self.lo > 0 or self.hi < 0

    def rel_text(self) -> str:
        return f"{self.rel:+.1f} %".replace("-", "−")

    def ci(self) -> str:
        return f"CI [{fmt(self.lo)}, {fmt(self.hi)}]".replace("-", "−")

    def words(self) -> str:
        """'+9.2 % (+32.5, CI [23.9, 41.2])', with 'CI includes 0' when it does."""
        note = "" if self.significant else ", CI includes 0"
        return f"{self.rel_text()} ({signed(self.mean)}, {self.ci()}{note})"


def join_numbers(values, digits: int = 0) -> str:
    return ", ".join(f"{v:,.{digits}f}" for v in values)


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


# The fixed-bid ablation (fixed bids with the stack's controllers, no reallocation by default).
FIXED_ABLATION = "fixed bids + pid_pacing + creative_thompson"


def fixed_ablation_name(params: dict) -> str:
    """The fixed-bid ablation's name for what it runs: with tuned values whose
    point moves budget between campaigns (`budget_reallocation.method` other
    than none), the name says so, with the method and its half-life."""
    method = str(params.get("budget_reallocation.method", "none"))
    if method == "none":
        return FIXED_ABLATION
    half_life = float(params.get("budget_reallocation.half_life_hours", 0) or 0)
    return (f"{FIXED_ABLATION} + budget_reallocation ({method}"
            + (f", half-life {half_life:g} h" if half_life else "") + ")")


TUNING_JSON = HERE / "results" / "tuning.json"
CONTROL_CYCLE_JSON = HERE / "results" / "control_cycle.json"


def load_measurements() -> dict:
    """The sections measured by bench/tune_strategies.py ("tuning": its
    tuning, targets and cold-start sections) and bench/control_cycle_study.py
    ("control_cycle"), rendered from their saved JSON (absent files: no section)."""
    out = {}
    if TUNING_JSON.is_file():
        import tune_strategies  # the bench/ directory is on sys.path when run as a script

        saved = json.loads(TUNING_JSON.read_text())
        out["tuning"] = tune_strategies.render_sections(saved)
        out["tuning_commit"] = saved.get("commit")
    if CONTROL_CYCLE_JSON.is_file():
        import control_cycle_study

        saved = json.loads(CONTROL_CYCLE_JSON.read_text())
        out["control_cycle"] = control_cycle_study.summary_section(saved)
        out["control_cycle_commit"] = saved.get("commit")
    return out


# What changed in the library after a measurement of this page, for the
# provenance note (only shown while the page's sections come from different
# commits). Keyed by the commit of bench/results/strategy_comparison.json.
LATER_CHANGES = {
    "85dd07a": "the value bidders' exploration floor became the library's default (docs/cold-start.md, "
               "\"The defaults\"), `budget_reallocation` gained `half_life_hours`, and its `method: thompson` "
               "prior was fixed (9b097d4: the prior is now worth `prior_spend` of spend at the pooled rate)",
}


def provenance(ctx: dict, measured: dict) -> list[str]:
    """A note saying which sections come from which commit, when they differ."""
    own = str(ctx.get("commit", "")).split()[0]
    others = {"tuning": ("the sections \"Tuning\" and \"Targets\" and the paragraph \"The cold-start case "
                         "(seed 6), now\" come", "bench/tune_strategies.py"),
              "control_cycle": ("the section \"The control cycle\" comes", "bench/control_cycle_study.py")}
    differ = [f"{text} from commit {measured[key + '_commit']} ({script})"
              for key, (text, script) in others.items()
              if measured.get(key + "_commit") and str(measured[key + "_commit"]).split()[0] != own]
    if not differ:
        return []
    later = LATER_CHANGES.get(own)
    text = "; ".join(differ)
    return [f"> **Sections from different commits.** {text[0].upper()}{text[1:]}"
            + f". Every other section (the short answer, Results, \"Where the stack wins\") comes from the "
            f"measurement at commit {own} named above" + (f", which predates later changes: {later}" if later else "")
            + ". Numbers from different commits are not comparable where the library changed in between; "
            "the command under \"Reproduce\" refreshes the older sections.", ""]


def document(ctx: dict) -> str:
    """The whole of docs/strategy-comparison.md, from the measurements in ctx."""
    R, BD, cycles, scenario = ctx["results"], ctx["breakdown"], ctx["cycles"], ctx["scenario"]
    base = R["baseline"]
    head = f"optimized {cycles[0]}"
    d = {c: {m: Diff(base, R[f"optimized {c}"], m) for m in METRICS} for c in cycles}
    h = d[cycles[0]]
    campaigns = [c["name"] for c in scenario["campaigns"]]
    days = int(round(ctx["duration_days"]))
    total_budget = sum(float(c["budget"]["daily"]) for c in scenario["campaigns"]) * days
    daily_total = total_budget / days
    goals = {c["name"]: c.get("goal", {}) for c in scenario["campaigns"]}
    cpa_goals = sorted(g["cpa"] for g in goals.values() if "cpa" in g)
    roas_goals = sorted(g["roas"] for g in goals.values() if "roas" in g)

    def campaign_diff(variant: str, name: str, metric: str) -> Diff:
        a = {metric: [r[name][metric] for r in BD["baseline"]]}
        b = {metric: [r[name][metric] for r in BD[variant]]}
        return Diff(a, b, metric)

    def mean_of(variant: str, name: str, metric: str) -> float:
        return float(np.mean([r[name][metric] for r in BD[variant]]))

    out = ["# Strategy comparison: static baseline against the optimized stack", ""]
    out += [
        "<!-- Generated by bench/strategy_comparison.py: edit the script, not this page. -->", "",
        f"> Generated by `{ctx['command']}` at commit {ctx['commit']} on {ctx['date']} "
        f"(adsim {adsim.__version__}; {ctx['runs']} runs in {ctx['wall']:.0f} s). Every number on "
        "this page comes from those runs; re-run the command to refresh it.", ""]
    out += provenance(ctx, load_measurements())
    out += [
        "Does the optimized strategy stack (value bidders, PID pacing, budget",
        "reallocation, creative Thompson sampling) do better than a static setup with",
        "fixed bids, an even budget split and even creative rotation? This page",
        f"answers it on one scenario, over {ctx['n_seeds']} seeds with common random numbers, with",
        "paired 95 % confidence intervals, and says where the stack loses and why.", ""]

    # Short answer.
    best_conv = max(R, key=lambda k: np.mean(R[k]["conversions"]))
    out += ["**Short answer.** Relative differences, optimized − baseline, with the paired",
            "95 % CI of the absolute difference:", ""]
    for c in cycles:
        dc = d[c]
        out.append(f"- control cycle {c}: spend {dc['spend'].words()}; conversions "
                   f"{dc['conversions'].words()}; value {dc['value'].words()}; true CPA "
                   f"{dc['CPA'].words()}; ROAS {dc['ROAS'].words()}.")
    eq = ctx.get("equal_spend")
    if eq:
        de = {m: Diff(eq["results"], R[head], m) for m in METRICS}
        out.append(f"- **at equal spend**, control cycle {cycles[0]} against the baseline with its bids "
                   f"scaled to the stack's spend on each seed: spend {de['spend'].words()}; conversions "
                   f"{de['conversions'].words()}; value {de['value'].words()}; true CPA "
                   f"{de['CPA'].words()}; ROAS {de['ROAS'].words()}.")
    out += ["",
            f"The stack buys {'more' if h['conversions'].mean > 0 else 'fewer'} conversions at the "
            f"{cycles[0]} cycle mostly by *spending* budget the static setup leaves unspent "
            f"(spend {h['spend'].rel_text()}); its CPA is "
            f"{'worse' if h['CPA'].mean > 0 else 'better'} than the baseline's "
            f"({h['CPA'].rel_text()}{'' if h['CPA'].significant else ', CI includes 0'}). "
            f"Of all the variants measured, the one with the most conversions is "
            f"\"{best_conv}\" ({fmt(float(np.mean(R[best_conv]['conversions'])))} a week on average).", ""]

    # Reproduce.
    out += ["## Reproduce", "",
            "<!-- doc-test: skip the whole evaluation: hundreds of runs, tens of minutes -->", "```sh",
            ".venv/bin/python bench/strategy_comparison.py --seeds 30 --doc docs/strategy-comparison.md \\",
            "    --save bench/results/strategy_comparison.json",
            "```", "",
            f"This page was produced by `{ctx['command']}`: seeds {ctx['seeds'][0]}..{ctx['seeds'][-1]} for "
            f"the evaluation ({len(ctx['variants'])} variants × {ctx['n_seeds']} seeds"
            + (f", plus {ctx['oracle_runs']} oracle runs" if ctx.get("oracle_runs") else "")
            + (f", plus {sum(ctx['equal_spend']['search_runs'])} runs of the spend-matching search"
               if ctx.get("equal_spend") else "") + "), "
            + (f"seeds {ctx['tuning_seeds'][0]}..{ctx['tuning_seeds'][-1]} for a table of "
               f"{len(ctx['tuning'])} configurations tried (no longer shown: the Tuning section below "
               "replaces it), " if ctx["tuning"] else "no tuning table, ")
            + f"and {ctx['illustration_runs']} single runs for the illustrations: {ctx['runs']} runs, "
            + ("sequential, one process" if ctx.get("workers", 1) == 1 else f"{ctx['workers']} worker threads")
            + f", {ctx['wall']:.0f} s of wall time on the machine that ran it. Options: "
            "`--seeds N`, `--first-seed S`, `--cycles 15m,2h,24h` (the first is the headline), "
            "`--tuning-seeds N` (the old table of configurations on seeds from 1001; default 0, none), "
            "`--workers N` (parallel runs, default 2; the results do not depend on it), `--no-ablations`, `--no-spend-match` (no baseline "
            "at equal spend), `--spend-tolerance R` (of the spend match, default 0.005), `--oracle "
            "headline|all|none` (which variants run each campaign's oracle for the regret; default the "
            "baseline and the headline stack), `--tuned FILE` (the values bench/tune_strategies.py chose, "
            "see Tuning), `--scenario FILE`, `--out FILE` "
            "(the result tables only), `--doc FILE` (this page). The script builds every variant from "
            "the one YAML file by editing the dict, so the variants differ only in what is listed below. "
            "Results depend on the adsim version and on the commit above.", ""]

    # The scenario (configuration, not measurement) and the variants.
    base_display = mean_of("baseline", "display_awareness", "spend") / days
    out += SCENARIO_TEXT.format(
        days=days, daily_total=f"{daily_total:,.0f}", display_daily=f"{base_display:,.0f}").splitlines()
    out += VARIANTS_TEXT.format(daily_total=f"{daily_total:,.0f}", n_seeds=ctx["n_seeds"]).splitlines()

    # Results.
    out += [f"## Results (seeds {ctx['seeds'][0]}..{ctx['seeds'][-1]})", ""]
    out += [f"#### Baseline against the optimized stack (control cycle {cycles[0]})", ""]
    out += comparison_table(base, R[head], head)
    out += ["", "#### Per campaign (truth; mean over seeds)", ""]
    out += campaign_table(BD["baseline"], BD[head], head)
    if eq:
        multipliers = np.array(eq["multipliers"])
        out += ["", f"#### At equal spend (control cycle {cycles[0]})", "",
                "The static baseline with every campaign's bid multiplied by one factor per seed, found "
                "by `adsim.spend_matched` (bracketing by doubling, then Illinois regula falsi on the log "
                "of the multiplier, docs/python.md) so that on that seed it spends what the stack spends "
                f"(to {100 * eq['tolerance']:g} %; matched on {sum(eq['matched'])} of {len(eq['matched'])} "
                f"seeds, {np.mean(eq['search_runs']):.1f} runs per seed on average). Multipliers: median "
                f"{np.median(multipliers):.2f}, range {multipliers.min():.2f} to {multipliers.max():.2f}. "
                "Same seeds, so the comparison stays paired.", ""]
        out += comparison_table(eq["results"], R[head], head, "baseline at equal spend")
        out += ["", "Per campaign at equal spend (truth; mean over seeds):", ""]
        out += campaign_table(eq["breakdown"], BD[head], head)
    with_oracle = [v for v in ctx.get("oracle_variants", []) if "regret_share_conversions" in R.get(v, {})]
    if "baseline" in with_oracle and head in with_oracle:
        out += ["", "#### Regret as a share of the oracle", "",
                "(oracle − run) / oracle, in %, per campaign and over all campaigns, mean over seeds: "
                "0 % is as good as the oracle, 100 % reaches nothing, negative beats it. Each campaign's "
                "oracle is the same run with that campaign's bidder replaced by one that knows the true "
                "rates (docs/results.md, `oracle`), so each variant has its own oracle; Δ is the paired "
                "difference in percentage points.", ""]
        for variant in [head] + [v for v in with_oracle if v not in ("baseline", head)]:
            out += regret_table(R["baseline"], R[variant], BD["baseline"], BD[variant], variant) + [""]
        out.pop()
    out += ["", "#### Control-cycle length (each paired against the same baseline)", ""]
    out += cycle_table(base, {c: R[f"optimized {c}"] for c in cycles})
    for c in cycles[1:]:
        out += ["", f"#### Per campaign, control cycle {c}", ""]
        out += campaign_table(BD["baseline"], BD[f"optimized {c}"], f"optimized {c}")
    if ctx["ablations"]:
        out += ["", f"#### Other configurations (control cycle {cycles[0]}, each paired against "
                "the same baseline)", ""]
        out += cycle_table(base, {k: R[k] for k in ctx["ablations"]}, first="configuration")
    out += [""]

    # Discussion.
    il = ctx["illustration"]
    ib, io = il["baseline"], il["stack"]
    out += ["## Where the stack wins, where it loses, and why", "",
            "The explanations below come from the tables above and from the `daily`,",
            "`aggregates`, `conversions` and `actions` tables of single runs on tuning seed",
            f"{ILLUSTRATION_SEED} (baseline and the stack at a {cycles[0]} cycle); figures quoted from that",
            "seed are marked as such.", ""]
    inc_cpa = h["spend"].mean / h["conversions"].mean if h["conversions"].mean > 0 else math.nan
    inc_roas = h["value"].mean / h["spend"].mean if h["spend"].mean > 0 else math.nan
    base_spend = float(np.mean(base["spend"]))
    out += [
        f"**It wins by spending the budget, not by buying cheaper.** Both variants have "
        f"{daily_total:,.0f} a day. The baseline spends {base_spend:,.0f} of {total_budget:,.0f} over the "
        f"week: display cannot spend its budget at its fixed bid (about {base_display:,.0f} of "
        f"{float(scenario['campaigns'][2]['budget']['daily']):,.0f} a day), and after the competitor "
        f"entry search's fixed bid loses auctions (seed {ILLUSTRATION_SEED}: search spend per day "
        f"{join_numbers(ib['spend_by_day']['search_generic'])}). `pid_pacing` raises those bids until the "
        f"budgets are spent (seed {ILLUSTRATION_SEED}, the stack: search "
        f"{join_numbers(io['spend_by_day']['search_generic'])} a day). At the {cycles[0]} cycle the stack "
        f"spends {fmt(h['spend'].mean)} more ({h['spend'].rel_text()}) and gets "
        f"{fmt(h['conversions'].mean)} more conversions: the *incremental* CPA of that extra spend is "
        f"{fmt(h['spend'].mean)} / {fmt(h['conversions'].mean)} ≈ {fmt(inc_cpa)} (the CPA goals are "
        f"{' and '.join(fmt(g) for g in cpa_goals)}, the baseline's average CPA {fmt(h['CPA'].base)}), and "
        f"its incremental ROAS is {fmt(h['value'].mean)} / {fmt(h['spend'].mean)} ≈ {fmt(inc_roas)} (the "
        f"ROAS goals are {' and '.join(fmt(g) for g in roas_goals)}). "
        + (f"At equal spend (the baseline's bids scaled to the stack's spend, table above) the stack's "
           f"conversions differ by {de['conversions'].words()}, its true CPA by {de['CPA'].words()} and its "
           f"ROAS by {de['ROAS'].words()}."
           if eq else "A spend-matched comparison was not part of this measurement (the script adds it, "
           "`--no-spend-match` leaves it out: re-run the command above)."), ""]

    per_campaign = {n: campaign_diff(head, n, "conversions") for n in campaigns}
    top = max(per_campaign, key=lambda n: per_campaign[n].mean)
    others = ", ".join(f"`{n}` {signed(per_campaign[n].mean)} ({per_campaign[n].ci()})"
                       for n in campaigns if n != top)
    carries = per_campaign[top].mean >= h["conversions"].mean
    out += [
        f"**`{top}` carries {'the whole' if carries else 'most of the'} gain.** "
        f"{signed(per_campaign[top].mean)} conversions ({per_campaign[top].ci()}) and "
        f"{signed(campaign_diff(head, top, 'value').mean)} of value on `{top}` at the {cycles[0]} cycle, "
        f"{'more than' if carries else 'against'} the total gain of {signed(h['conversions'].mean)}; the "
        f"others: {others}.", ""]

    social = {c: campaign_diff(f"optimized {c}", COLD_START_CAMPAIGN, "conversions") for c in cycles}
    half_life_text = " (this measurement predates the parameter)."
    if HALF_LIFE_VARIANT in R:
        social_conversions = {v: [r[COLD_START_CAMPAIGN]["conversions"] for r in BD[v]]
                              for v in (head, HALF_LIFE_VARIANT)}
        social_half_life = Diff({"x": social_conversions[head]}, {"x": social_conversions[HALF_LIFE_VARIANT]}, "x")
        half_life_text = (
            f", and the ablation \"{HALF_LIFE_VARIANT}\" measures a 24-hour half-life; against the stack "
            f"(paired): `{COLD_START_CAMPAIGN}` {signed(social_half_life.mean)} conversions "
            f"({social_half_life.ci()}), all campaigns {Diff(R[head], R[HALF_LIFE_VARIANT], 'conversions').words()} "
            f"conversions and {Diff(R[head], R[HALF_LIFE_VARIANT], 'value').words()} value.")
    roas_base = {n: mean_of("baseline", n, "value") / mean_of("baseline", n, "spend") for n in campaigns}
    lowest = min(roas_base, key=roas_base.get)
    out += [
        f"**`{COLD_START_CAMPAIGN}` at each control cycle:** "
        + "; ".join(f"{c}: {signed(social[c].mean)} conversions ({social[c].ci()})" for c in cycles) + ". "
        f"In the baseline the campaign with the lowest ROAS is `{lowest}` (ROAS of the mean spend and "
        "value: " + ", ".join(f"`{n}` {roas_base[n]:.2f}" for n in campaigns) + "), and a reallocation "
        "with `goal: roas` moves budget away from the lowest. `budget_reallocation` compares ROAS *since "
        "the start of the run*, so the checkout bug (social CVR × 0.4 for a day and a half) keeps social's "
        f"cumulative ROAS low for the rest of the week (seed {ILLUSTRATION_SEED}, the stack: "
        f"`{COLD_START_CAMPAIGN}`'s daily budget at the end of each day "
        f"{join_numbers(io['budget_by_day'][COLD_START_CAMPAIGN])}). `budget_reallocation`'s "
        "`half_life_hours` makes its memory forget (evidence one half-life old weighs half; "
        "docs/strategies/controllers/budget_reallocation.md shows the recovery after a shock ends); the "
        "stack keeps the default, 0 (since the start)"
        + half_life_text, ""]

    # The cold-start trap on seed 6: the measurement of this page (which may
    # predate the defences), then the stack as it is now (bench/tune_strategies.py).
    measured = load_measurements()
    cs = ctx["cold_start"]
    csb, cso = cs["baseline"], cs["stack"]
    spend = cso["spend_by_day"][COLD_START_CAMPAIGN]
    initial_bid = float(next(c["bid"] for c in scenario["campaigns"] if c["name"] == COLD_START_CAMPAIGN))
    reported = cso["reported_by_day"][COLD_START_CAMPAIGN]
    # Whether the campaign collapsed after its first days: every day after day 0
    # under a tenth of the baseline's spend that day. The prose follows the data.
    baseline_spend = csb["spend_by_day"][COLD_START_CAMPAIGN]
    later = [(x / b if b > 0 else 1.0) for x, b in zip(spend[1:], baseline_spend[1:])]
    collapsed = bool(later) and max(later) < 0.1
    if collapsed:
        cold_start_story = (
            "The bidder collapses here. Why: a value bidder bids the base bid until its campaign has a first "
            "reported conversion, then bids each (channel, segment) cell with at least `min_impressions` (2,000) on its own estimate, "
            "pCTR · pCVR · v / target ROAS. When that first evidence is sparse (one conversion, in one cell), "
            "every other cell's pCVR is its Beta prior shrunk by the clicks that did not convert, so the "
            "value estimate of nearly every cell collapses and its bid falls below the competition; the "
            "campaign then wins almost nothing, so no new clicks or conversions arrive to correct the "
            "estimate, and it stays down for the rest of the week. `pid_pacing` raises the base bid "
            "(`follow_base_bid` scales the value bids with it) but only within its `max_multiplier` and the "
            "±50 % per cycle of the guardrails, which is not enough to climb back over the competition. "
            "This is the cold-start trap that issue 16 addresses (exploration, or a prior that does not "
            "collapse on one observation); it costs the stack part of its social conversions on the seeds "
            "where the first conversions arrive this way.")
    else:
        cold_start_story = (
            f"It does not collapse: from day 1 on it spends {min(later):.0%} to {max(later):.0%} of what the "
            "baseline spends each day and keeps reporting conversions. A value bidder bids the base bid until "
            "its campaign has a first reported conversion, then bids each (channel, segment) cell on its own "
            "estimate; the exploration floor, the library's default (docs/cold-start.md), keeps every cell "
            "bidding at least its base bid while the interval of its value is wide, so one sparse early "
            "conversion no longer drives the other cells' bids below the competition, as it did in the "
            "earlier measurement (about 1 a day for the rest of the week).")
    out += [
        f"**The cold-start trap (seed {COLD_START_SEED}), at commit {ctx['commit']}.** On evaluation seed "
        f"{COLD_START_SEED}, "
        f"`{COLD_START_CAMPAIGN}`'s `target_roas` bidder (stack, {cycles[0]} cycle) spends per day "
        f"{join_numbers(spend, 1)} (the baseline: {join_numbers(csb['spend_by_day'][COLD_START_CAMPAIGN], 1)}), "
        f"with {join_numbers(cso['wins_by_day'][COLD_START_CAMPAIGN])} impressions won, "
        f"{join_numbers(cso['clicks_by_day'][COLD_START_CAMPAIGN])} clicks and "
        f"{join_numbers(reported)} conversions reported per day; its base bid at the end of each day "
        f"(after `pid_pacing`) is {join_numbers(cso['base_bid_end_of_day'][COLD_START_CAMPAIGN], 4)}, "
        f"that is {max(cso['base_bid_end_of_day'][COLD_START_CAMPAIGN]) / initial_bid:.1f} × its initial bid "
        f"{initial_bid:g} at most (`pid_pacing`'s `max_multiplier` is 5). "
        + cold_start_story, ""]
    if measured.get("tuning"):
        out += measured["tuning"]["cold_start"]

    if ctx["ablations"]:
        fixed = next(name for name in ctx["ablations"] if name.startswith(FIXED_ABLATION))
        noreal = "no reallocation"
        df = {m: Diff(base, R[fixed], m) for m in ("conversions", "value", "spend")}
        dn = {m: Diff(base, R[noreal], m) for m in ("conversions", "value", "spend")}
        segs = list(ib["segment_spend"])
        spend_b = " / ".join(f"{ib['segment_spend'][s]:,.0f}" for s in segs)
        spend_o = " / ".join(f"{io['segment_spend'][s]:,.0f}" for s in segs)
        cpa_b = " / ".join(fmt(ib["segment_cpa"][s]) for s in segs)
        cpa_o = " / ".join(fmt(io["segment_cpa"][s]) for s in segs)
        seg_names = " / ".join(f"`{s}`" for s in segs)
        out += [
            f"**The value bidders and conversions.** The ablation \"{fixed}\" ("
            + ("no value bidders, no reallocation" if fixed == FIXED_ABLATION else
               "no value bidders; with its tuned values it moves budget between campaigns")
            + f") buys {signed(df['conversions'].mean)} conversions ({df['conversions'].ci()}) and "
            f"{signed(df['value'].mean)} value; the same controllers with the value bidders (row "
            f"\"{noreal}\") buy {signed(dn['conversions'].mean)} conversions ({dn['conversions'].ci()}) and "
            f"{signed(dn['value'].mean)} value. The value bidders move spend between segments (seed "
            f"{ILLUSTRATION_SEED}, spend by segment {seg_names}: {spend_b} in the baseline, {spend_o} in "
            f"the stack; true CPA by segment {cpa_b} in the baseline, {cpa_o} in the stack). Bidding to a per-cell "
            "CPA or ROAS target is not the same as maximising conversions under a budget: equal *average* "
            "efficiency across segments leaves cheap conversions in the segments that were cheapest. The "
            "mature segments also convert later (12–20 h medians against the bidders' assumed 12 h "
            f"exponential), which is why the *reported* CPA ({h['reported_CPA'].rel_text()}) differs from "
            f"the true one ({h['CPA'].rel_text()}): more of the stack's conversions arrive after the end "
            "of the week.", ""]

    ctr_b = ib["ctr_by_creative"][COLD_START_CAMPAIGN]
    ctr_o = io["ctr_by_creative"][COLD_START_CAMPAIGN]
    creative_names = " / ".join(ctr_b)
    ctr_base = " / ".join(f"{100 * v:.2f}" for v in ctr_b.values())
    ctr_stack = " / ".join(f"{100 * ctr_o.get(k, math.nan):.2f}" for k in ctr_b)
    out += [
        "**Creative rotation.** With fatigue that recovers over two days, concentrating traffic on the "
        "best creative fatigues it, so the creatives' effective click rates converge and even rotation "
        f"is close to optimal. On seed {ILLUSTRATION_SEED}, `{COLD_START_CAMPAIGN}`'s click rate by creative "
        f"({creative_names}) was {ctr_base} % with even rotation and {ctr_stack} % with "
        "`creative_thompson`. (The comparison is confounded by the value bidders' different segment mix; "
        "the creative effect was not isolated.) `creative_thompson` maximises clicks, not conversions, "
        "and knows about fatigue only through its 12-hour memory.", ""]

    if ctx["ablations"]:
        first = "first try: marginal every 6 h"
        dm = {m: Diff(base, R[first], m) for m in ("spend", "conversions", "value")}
        real = {m: Diff(R["no reallocation"], R[head], m) for m in ("spend", "conversions", "value")}
        roas_no = float(np.mean(R["no reallocation"]["ROAS"]))
        roas_st = float(np.mean(R[head]["ROAS"]))
        pool = io["pool_by_day"]
        out += [
            "**Reallocation.** The first stack tried was `budget_reallocation` with `method: marginal` "
            "every 6 hours (the default interval). In the first measurement it lost about a quarter of "
            "spend, conversions and value, through a budget leak this comparison found: "
            "`budget_reallocation` funded increases only with what decreases freed, and dropped the rest "
            "when the decreases freed more, so the pool shrank and never came back. Since the fix the "
            "decreases are scaled down to what the increases can absorb and moves under 1 % are dropped "
            "before the balancing, so the pool is conserved (tests check it to 1e-6). Measured now, that "
            f"configuration gives spend {dm['spend'].words()}, conversions {dm['conversions'].words()} and "
            f"value {dm['value'].words()}. With one reallocation a day (`rule`, `interval_hours: 24`, the "
            "interval the strategy page recommends when conversions are delayed by many hours) the pool "
            f"(sum of the daily budgets at the end of each day, seed {ILLUSTRATION_SEED}) is "
            f"{join_numbers(pool)}; compared with the same stack without reallocation (\"no reallocation\") "
            f"it changes spend by {signed(real['spend'].mean)} ({real['spend'].ci()}), conversions by "
            f"{signed(real['conversions'].mean)} ({real['conversions'].ci()}) and value by "
            f"{signed(real['value'].mean)} ({real['value'].ci()}), for a ROAS of {roas_st:.2f} instead of "
            f"{roas_no:.2f}.", ""]

    if len(cycles) > 1:
        by_value = max(cycles, key=lambda c: d[c]["value"].mean)
        by_conv = max(cycles, key=lambda c: d[c]["conversions"].mean)
        last = cycles[-1]
        out += [
            f"**Control-cycle length.** The most conversions: {by_conv}, "
            f"{d[by_conv]['conversions'].words()}; the most value: {by_value}, "
            f"{d[by_value]['value'].words()}. ROAS by cycle: "
            + "; ".join(f"{c}: {d[c]['ROAS'].words()}" for c in cycles) + ". "
            "The section \"The control cycle\" below and [control-cycle.md](control-cycle.md) measure "
            "the shape from 5 minutes to 1 day against the oracles, and what explains it. "
            f"At **{last}** `pid_pacing` acts only at midnight, so each day runs at one bid: budgets "
            f"either run out early or stay unspent (spend {d[last]['spend'].words()}), and the value "
            "bidders refresh their estimates once a day (the first day is bid at the base bids): "
            f"conversions {d[last]['conversions'].words()}, value {d[last]['value'].words()}. "
            "`budget_reallocation` runs once a day at every cycle length.", ""]

    # Tuning, targets and the control cycle: measured by bench/tune_strategies.py
    # and bench/control_cycle_study.py, rendered from their saved measurements.
    if measured.get("tuning"):
        out += measured["tuning"]["tuning"]
        out += measured["tuning"]["targets"]
    if measured.get("control_cycle"):
        out += measured["control_cycle"]

    out += LIMITS_TEXT.splitlines()
    return "\n".join(out).rstrip() + "\n"


SCENARIO_TEXT = """\
## The scenario: `bench/scenarios/comparison.yaml`

One week from Monday 2 March 2026, hourly buckets, about 5.7 million
opportunities. It is designed so that each part of the stack has something
to do:

- **Three channels** with different auctions and billing.
  `search`: GSP, 3 slots (click factors 1, 0.6, 0.35), billed per click,
  floor 0.05 per click, 4,000 opportunities/hour, search users click
  4 × more (`ctr_factor: 4`), 6 competitors with median score 0.006.
  `social`: second price per impression, 10,000/hour, 5 competitors, median
  0.0025. `display`: second price per impression, 20,000/hour, 8
  competitors, median 0.0012, sigma 0.7. Each has its own hour-of-day
  profile; search and social have day-of-week profiles.
- **Four segments** with different rates and values, and different
  shares per channel: `young_mobile` (CTR 0.6 %, CVR 3 %, mean value 25,
  delay exponential 6 h, per-user propensity spread 0.5), `young_desktop`
  (0.4 %, 5 %, 40, 8 h), `mature_mobile` (0.3 %, 8 %, 60, lognormal median
  12 h), `mature_desktop` (0.25 %, 12 %, 90, lognormal median 20 h). Cheap
  clicks are worth little; the expensive audience is worth a lot.
- **Creative fatigue** everywhere: a creative's click rate halves after
  40,000 impressions in a segment and recovers with a 2-day time constant.
  `social_prospecting` has three creatives: `video` clicks 50 % more than
  average in the young segments but fatigues after 15,000 impressions,
  `static` clicks less; `display_awareness/banner_b` is better in
  `young_mobile` and worse in `mature_mobile`.
- **Four campaigns**, three of them on one channel each, so that moving
  budget between them is moving budget between channels:
  `search_generic` (search, bid 0.6 per click, goal CPA 25),
  `social_prospecting` (social, bid 0.004, ROAS goal 2.5),
  `display_awareness` (display, bid 0.0025, CPA goal 30), and
  `cross_retail` (social + display, the three older/desktop segments, bid
  0.003, ROAS goal 3). Daily budget 250 each, {daily_total} a day in all.
  With the baseline bids display's budget does not bind (measured: it
  spends about {display_daily} of 250 a day over {days} days: its bid is too
  low for the volume).
- **Two shocks**: `social_checkout_bug`, the conversion rate of social
  clicks falls to 40 % from 2d12h to 4d; `search_competitor_entry`, every
  competing score on search rises 60 % from 4d to the end.
- Guardrails: bids in [0.0001, 5], at most ±50 % per cycle, changes above
  200 % held.
"""

VARIANTS_TEXT = """\
## The variants, exactly

**Static baseline** = the file as written: every campaign uses the `fixed`
bidder at its bid above, the daily budget 250 each (the even split of {daily_total}),
no controllers at all, and creatives rotated uniformly at random by the
engine (its default). No control cycle does anything.

**Optimized stack** = the same file, with (function `optimized()` in the
script):

- bidders: `target_cpa` for the campaigns with a CPA goal, `target_roas`
  for those with a ROAS goal, both with `conversion_delay_hours: 12` (a
  guess in the middle of the true delays, which the advertiser does not
  know) and otherwise default parameters; `follow_base_bid` (default) so
  pacing scales them;
- per campaign: `pid_pacing` (defaults: traffic curve, kp 3, ki 1,
  multipliers 0.05 to 5) and, for every campaign (all have two or three
  creatives), `creative_thompson` with `half_life_hours: 12`;
- scenario-wide: `budget_reallocation` with `method: rule`, `goal: roas`,
  `interval_hours: 24`, other parameters default (floor share 0.1, min
  spend 50), and guardrails `max_budget_raise: 3`, `review_budget_raise: 3`
  (budgets the scenario set are ceilings unless the guardrails allow more);
- `control_cycle`: 15m (headline), 2h or 24h.

**Baseline at equal spend** = the static baseline with every campaign's
`bid` multiplied by one factor, found per seed (`adsim.spend_matched`,
docs/python.md) so that it spends what the headline stack spends on that
seed. One factor for all campaigns, not one per campaign: matching each
campaign's spend would copy the stack's split of the budget between
campaigns, which is part of what is being compared. So "better at equal
spend" means better allocation (across campaigns, segments, hours and
creatives), not more money spent.

Same channels, segments, starting bids, starting budgets (so the same total
of {daily_total} a day: reallocation never raises the total), guardrails and shocks.
Common random numbers: on a given seed the market draws the same
opportunities, users, competitor bids and shocks in every variant.

**Metrics**, per seed: spend (the `daily` table), conversions and value
from the `conversions` table, which is the truth: every conversion caused by
a click in the week, including those arriving after the end or (none here)
lost to tracking; *reported* conversions are the ones the advertiser saw
before the end. CPA = spend / conversions, ROAS = value / spend, both per
seed and then averaged. The difference is optimized − baseline per seed,
with a 95 % CI from the paired t distribution over the {n_seeds} seeds; the
relative difference divides by the baseline mean (its ± is the CI
half-width, likewise divided).
"""

LIMITS_TEXT = """\
## Limits of this comparison

- One scenario, designed by us; the ranking of configurations may differ
  on others. Different baseline bids would change the baseline's unspent
  budget, which is where most of the gain comes from.
- CPA and ROAS are per-seed ratios averaged over seeds; the relative
  differences of ratios are approximate (ratio of means would differ
  slightly).
- The tuning is a two-stage search (random points, then neighbours of the
  best; see "Tuning" for its space, seeds and budget), sized to what two
  shared cores finish in under an hour; the space is a grid of a few values
  per parameter, so a finer or larger search could find better values, and
  the best of many noisy means on a few tuning seeds is optimistic (the
  held-out seeds give the honest number).
"""


def write_doc(path: pathlib.Path, page: str) -> None:
    """Writes the page with the sections bench/oracle_gap.py renders from its
    saved measurements (bench/results/oracle_gap*.json) before "## Limits of
    this comparison" ("Why the oracle is ahead", the harder scenario, the
    library changes tried)."""
    sys.path.insert(0, str(HERE))
    import oracle_bound  # noqa: PLC0415 (beside this script; it imports this module)
    import oracle_gap  # noqa: PLC0415 (beside this script; it imports this module)

    # bench/oracle_bound.py's section "Are the targets reachable?" goes right after "Targets".
    path.write_text(oracle_bound.insert_section(oracle_gap.insert_sections(page)))


def run_all(variants: dict, seeds: list, label: str, t0: float, workers: int = 1) -> tuple[dict, dict]:
    """Every variant on every seed (adsim.run), on `workers` threads (adsim.run
    releases the GIL); the results are collected in seed order, so they do
    not depend on the number of workers."""
    from concurrent.futures import ThreadPoolExecutor

    results = {name: {m: [] for m in METRICS} for name in variants}
    bd = {name: [] for name in variants}
    jobs = [(seed, name) for seed in seeds for name in variants]

    def one(job):
        seed, name = job
        r = adsim.run(variants[name], seed=seed)
        return kpis(r), breakdown(r, variants[name])

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for k, ((seed, name), (values, parts)) in enumerate(zip(jobs, pool.map(one, jobs))):
            for m, v in values.items():
                results[name].setdefault(m, []).append(v)
            bd[name].append(parts)
            if (k + 1) % len(variants) == 0:
                print(f"{label}: seed {seed} done ({(k + 1) // len(variants)}/{len(seeds)}, "
                      f"{time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return results, bd


# Spend elasticity of the comparison's baseline to its bid multiplier, for the
# first guess of a spend match: spend ~ m ** SPEND_ELASTICITY near m = 1 (the
# 6-seed measurement at 8cc776a matched a spend ratio of 1.21 at a median
# multiplier of 1.35: ln 1.21 / ln 1.35 = 0.62). Only the starting point of
# the search depends on it; the match itself is adsim.spend_matched's.
SPEND_ELASTICITY = 0.6


def first_guess(target: float, spend_at_one: float) -> float:
    """The multiplier SPEND_ELASTICITY predicts for `target` from the spend at multiplier 1."""
    guess = (target / spend_at_one) ** (1 / SPEND_ELASTICITY) if spend_at_one > 0 else 1.0
    return min(max(guess, 1 / 64), 64.0)


def spend_match_all(scenario: dict, targets: list, seeds: list, tolerance: float, t0: float,
                    spend_at_one: list | None = None, workers: int = 1) -> dict:
    """Per seed, the static baseline with its bids scaled (one multiplier for
    every campaign) so that it spends what the candidate spent on that seed
    (adsim.spend_matched: bracketing, then Illinois regula falsi on log m).
    The search starts at first_guess() from the baseline's own spend on the
    seed (spend_at_one, already measured) and brackets in steps of 15 %;
    seeds run in parallel on `workers` threads."""
    from concurrent.futures import ThreadPoolExecutor

    base = without_oracle(baseline(scenario))
    out = {"results": {m: [] for m in METRICS}, "breakdown": [], "multipliers": [], "matched": [],
           "search_runs": [], "tolerance": tolerance}

    def one(k: int):
        start = first_guess(targets[k], spend_at_one[k]) if spend_at_one else 1.0
        return adsim.spend_matched(base, targets[k], seed=seeds[k], tolerance=tolerance, start=start,
                                   step=1.15 if spend_at_one else 2.0)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for k, match in enumerate(pool.map(one, range(len(seeds)))):
            for m, v in kpis(match.result).items():
                out["results"].setdefault(m, []).append(v)
            out["breakdown"].append(breakdown(match.result, base))
            out["multipliers"].append(match.multiplier)
            out["matched"].append(bool(match.matched))
            out["search_runs"].append(match.runs)
            print(f"equal spend: seed {seeds[k]}: multiplier {match.multiplier:.4f}, spend {match.spend:,.1f} for "
                  f"{targets[k]:,.1f} in {match.runs} runs ({k + 1}/{len(seeds)}, {time.perf_counter() - t0:.0f} s)",
                  file=sys.stderr)
    return out


def without_oracle(scenario: dict) -> dict:
    sc = copy.deepcopy(scenario)
    sc.pop("oracle", None)
    return sc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30, help="number of seeds (default 30)")
    ap.add_argument("--first-seed", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO), help="scenario file")
    ap.add_argument("--cycles", default="15m,2h,24h",
                    help="control cycles of the optimized stack, comma-separated; the first "
                         "is the headline comparison (default 15m,2h,24h)")
    ap.add_argument("--tuning-seeds", type=int, default=0,
                    help="seeds of the old tuning table, from 1001 on (default 0: none; the page no longer shows "
                         "it, bench/tune_strategies.py tunes the stacks)")
    ap.add_argument("--workers", type=int, default=2,
                    help="runs in parallel threads (default 2); the results do not depend on it")
    ap.add_argument("--out", help="write the result tables (markdown) to this file")
    ap.add_argument("--doc", help="write the whole page (docs/strategy-comparison.md) to this file")
    ap.add_argument("--save", help="also save the measurements (JSON), to re-render the page later "
                                   "(the docs test renders bench/results/strategy_comparison.json)")
    ap.add_argument("--render", metavar="JSON",
                    help="no runs: write --doc from measurements saved with --save (after a prose edit)")
    ap.add_argument("--no-ablations", action="store_true",
                    help="skip the ablation variants (first try, no reallocation, fixed bids, half-life)")
    ap.add_argument("--no-spend-match", action="store_true",
                    help="skip the baseline at equal spend (the bid multiplier search per seed)")
    ap.add_argument("--spend-tolerance", type=float, default=0.005,
                    help="equal spend: relative tolerance of the spend match (default 0.005)")
    ap.add_argument("--oracle", choices=("headline", "all", "none"), default="headline",
                    help="run each campaign's oracle (regret as a share of it) for the baseline and the "
                         "headline stack (headline, the default), every evaluation variant (all), or none")
    ap.add_argument("--tuned", metavar="FILE",
                    help="apply the values chosen by bench/tune_strategies.py (bench/results/tuned_params.yaml) "
                         "to the stack and the fixed-bid ablation")
    args = ap.parse_args(argv)
    if args.render:
        if not args.doc:
            ap.error("--render: expected --doc FILE too")
        ctx = json.loads(pathlib.Path(args.render).read_text())
        write_doc(pathlib.Path(args.doc), document(ctx))
        print(f"wrote {args.doc} from {args.render}", file=sys.stderr)
        return 0
    if args.seeds < 1:
        ap.error("--seeds: expected at least 1 (2 or more for a confidence interval)")
    if args.tuning_seeds == 1:
        ap.error("--tuning-seeds: expected 0 or at least 2")
    if args.workers < 1:
        ap.error("--workers: expected at least 1")

    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    cycles = [c.strip() for c in args.cycles.split(",") if c.strip()]
    variants = {"baseline": baseline(scenario)}
    for c in cycles:
        variants[f"optimized {c}"] = optimized(scenario, c)
    # Ablations and the first configuration tried, all at the first cycle length.
    ablations = {} if args.no_ablations else {
        "first try: marginal every 6 h": optimized(scenario, cycles[0], "marginal", 6),
        "no reallocation": optimized(scenario, cycles[0], "none"),
        FIXED_ABLATION: optimized(scenario, cycles[0], "none", bidders="fixed"),
        HALF_LIFE_VARIANT: optimized(scenario, cycles[0], "rule", 24, realloc_half_life_hours=24),
    }
    if args.tuned:
        # The values chosen on the tuning seeds (bench/tune_strategies.py): the
        # stack takes the "value" stack's, the fixed-bid ablation the "fixed" one's.
        import tune_strategies

        try:
            tuned = tune_strategies.read_params(args.tuned)
        except (OSError, ValueError, yaml.YAMLError) as error:
            ap.error(f"--tuned: {error}")
        if "value" in tuned:
            params = {**tune_strategies.STACK_DEFAULTS["value"], **tuned["value"]}
            for c in cycles:
                variants[f"optimized {c}"] = tune_strategies.stack_scenario(scenario, "value", params, cycle=c)
        if "fixed" in tuned and not args.no_ablations:
            params = {**tune_strategies.STACK_DEFAULTS["fixed"], **tuned["fixed"]}
            # Named by what it runs (its tuned point may add budget_reallocation), in the same place.
            fixed_tuned = tune_strategies.stack_scenario(scenario, "fixed", params, cycle=cycles[0])
            ablations = {(fixed_ablation_name(params) if name == FIXED_ABLATION else name):
                         (fixed_tuned if name == FIXED_ABLATION else sc) for name, sc in ablations.items()}
    variants.update(ablations)
    oracle_variants = {"headline": ["baseline", f"optimized {cycles[0]}"], "all": list(variants),
                       "none": []}[args.oracle]
    for name in oracle_variants:
        variants[name]["oracle"] = True
    tuning = tuning_variants(scenario) if args.tuning_seeds else {}
    for sc in list(variants.values()) + list(tuning.values()):
        adsim.validate(sc)

    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    tuning_seeds = list(range(1001, 1001 + args.tuning_seeds))
    commit = git_commit()  # before the runs: the code that produced them
    t0 = time.perf_counter()
    results, bd = run_all(variants, seeds, "evaluation", t0, args.workers)
    head = f"optimized {cycles[0]}"
    equal = None if args.no_spend_match else spend_match_all(
        scenario, results[head]["spend"], seeds, args.spend_tolerance, t0, results["baseline"]["spend"],
        args.workers)
    tuning_results = run_all(tuning, tuning_seeds, "tuning", t0, args.workers)[0] if tuning else {}
    stack = without_oracle(variants[head])
    base_sc = without_oracle(variants["baseline"])
    illustration = {
        "baseline": details(adsim.run(base_sc, seed=ILLUSTRATION_SEED), scenario),
        "stack": details(adsim.run(stack, seed=ILLUSTRATION_SEED), scenario),
    }
    cold_start = {
        "baseline": details(adsim.run(base_sc, seed=COLD_START_SEED), scenario),
        "stack": details(adsim.run(stack, seed=COLD_START_SEED), scenario),
    }
    wall = time.perf_counter() - t0
    # Each run with the oracle also runs one oracle per campaign.
    oracle_runs = len(oracle_variants) * len(seeds) * len(scenario["campaigns"])
    match_runs = sum(equal["search_runs"]) if equal else 0
    runs = len(variants) * len(seeds) + oracle_runs + match_runs + len(tuning) * len(tuning_seeds) + 4

    out = [f"Scenario `{pathlib.Path(args.scenario).name}`, seeds {seeds[0]}..{seeds[-1]} "
           f"({len(seeds)} seeds, common random numbers), {len(variants) * len(seeds)} runs, "
           f"adsim {adsim.__version__}.", "",
           f"### Baseline against the optimized stack (control cycle {cycles[0]})", ""]
    out += comparison_table(results["baseline"], results[head], head)
    if equal:
        out += ["", f"### At equal spend: the baseline's bids scaled per seed to the spend of {head}", ""]
        out += comparison_table(equal["results"], results[head], head, "baseline at equal spend")
    out += ["", "### Control-cycle length (each paired against the same baseline)", ""]
    out += cycle_table(results["baseline"], {c: results[f"optimized {c}"] for c in cycles})
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text)
    if args.doc or args.save:
        command = "python bench/strategy_comparison.py " + " ".join(
            shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
        ctx = {
            "results": results, "breakdown": bd, "cycles": cycles, "scenario": scenario,
            "variants": list(variants), "ablations": list(ablations), "tuning": tuning_results,
            "tuning_seeds": tuning_seeds, "seeds": seeds, "n_seeds": len(seeds),
            "illustration": illustration, "cold_start": cold_start, "illustration_runs": 4,
            "equal_spend": equal, "oracle_variants": oracle_variants, "oracle_runs": oracle_runs,
            "runs": runs, "wall": wall, "commit": commit, "command": command.strip(), "workers": args.workers,
            "date": datetime.date.today().isoformat(),
            "duration_days": len(illustration["baseline"]["pool_by_day"]),
        }
        if args.save:
            pathlib.Path(args.save).write_text(json.dumps(ctx, indent=1))
        if args.doc:
            write_doc(pathlib.Path(args.doc), document(ctx))
            print(f"wrote {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
