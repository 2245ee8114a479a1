"""The report of a sweep file: strategy comparison and risk tables with intervals.

Owns turning an adsim.Sweep (``adsim.load`` of a sweep file, or
``adsim.sweep(...)`` with results) into the report's sections: an overview
of the runs; per campaign, every variation's KPIs (mean over its seeds) with
the paired-over-seeds 95% interval of the difference to the first variation;
and a risk table per variation and campaign (P(miss the CPA/ROAS goal),
P(under-delivery), P(budget runs out before 18:00) with Wilson intervals,
quantiles of CPA and spend). The statistics are _risk.py's
(``paired_difference``, ``wilson_interval``): this module only picks the
inputs from the sweep's tables and each run's daily rows.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Tuple

import numpy as np
import pandas as pd

from .._errors import DataError
from .._risk import paired_difference, wilson_interval
from .svg import esc, interval_chart

#: KPIs compared across variations, with the direction that is better.
COMPARED = (("spend", 0), ("conversions", 1), ("value", 1), ("cpa", -1), ("roas", 1))
UNDER_DELIVERY = 0.9  # spend below this share of the budget is under-delivery (adsim risk's default)
BEFORE_HOUR = 18.0  # the budget running out before this clock time (adsim risk's default)
QUANTILES = (0.05, 0.5, 0.95)
CONFIDENCE = 0.95
DAY_US = 86_400_000_000


def comparison_table(sweep: Any, campaign: str) -> pd.DataFrame:
    """One row per variation of `campaign`: runs, and per KPI its mean over the seeds and the paired
    difference to the first variation (``<kpi>_diff``, ``<kpi>_lo``, ``<kpi>_hi``: 95% t interval of the
    mean difference over the seeds both variations ran)."""
    kpis = sweep.kpis[sweep.kpis["campaign"] == campaign]
    variations = list(dict.fromkeys(sweep.runs["variation"]))
    base = variations[0]
    rows = []
    for variation in variations:
        row: Dict[str, Any] = {"variation": variation, "runs": int((kpis["variation"] == variation).sum())}
        for metric, _ in COMPARED:
            table = kpis.pivot_table(index="seed", columns="variation", values=metric, aggfunc="mean")
            values = table[variation] if variation in table.columns else pd.Series(dtype=float)
            finite = values[np.isfinite(values)]
            row[metric] = float(finite.mean()) if len(finite) else math.nan
            if variation == base or variation not in table.columns or base not in table.columns:
                row[f"{metric}_diff"] = row[f"{metric}_lo"] = row[f"{metric}_hi"] = math.nan
                continue
            paired = paired_difference(table[base].to_numpy(), table[variation].to_numpy(), CONFIDENCE)
            row[f"{metric}_diff"], row[f"{metric}_lo"], row[f"{metric}_hi"] = (
                paired["difference"], paired["lo"], paired["hi"])
        rows.append(row)
    return pd.DataFrame(rows)


def _run_events(sweep: Any) -> pd.DataFrame:
    """Per run × campaign: the goal, CPA (inf: spend without conversions), spend and the three risk events."""
    rows = []
    for run in sweep.runs["run"].tolist():
        result = sweep.result(int(run))
        campaigns = result.campaigns
        daily = result.daily
        offset = int((result.start - result.start.normalize()) / pd.Timedelta(microseconds=1))
        kpis = sweep.kpis[sweep.kpis["run"] == run]
        for _, k in kpis.iterrows():
            name = str(k["campaign"])
            c = campaigns.index[campaigns["name"] == name][0]
            goal, goal_value = str(campaigns.loc[c, "goal"]), float(campaigns.loc[c, "goal_value"])
            spend, conversions = float(k["spend"]), float(k["conversions"])
            cpa = spend / conversions if conversions > 0 else (math.inf if spend > 0 else math.nan)
            roas = float(k["roas"])
            if goal == "cpa":
                miss = not cpa <= goal_value  # no conversions: the goal is missed
            elif goal == "roas":
                miss = not roas >= goal_value
            else:
                miss = None
            budget = float(k["budget"])
            under = bool(math.isfinite(budget) and budget > 0 and spend < UNDER_DELIVERY * budget)
            days = daily[daily["campaign_name"] == name]
            exhausted = days["budget_exhausted"].to_numpy(dtype=np.int64)
            hours = ((exhausted + offset) % DAY_US) / 3.6e9
            early = bool(np.any((exhausted >= 0) & (hours < BEFORE_HOUR)))
            rows.append({"run": int(run), "variation": str(k["variation"]), "seed": int(k["seed"]),
                         "campaign": name, "goal": goal, "cpa": cpa, "spend": spend, "miss_goal": miss,
                         "under_delivery": under, "exhausted_early": early})
    return pd.DataFrame(rows)


def risk_table(sweep: Any) -> pd.DataFrame:
    """One row per variation × campaign: each risk event's count and probability with its Wilson 95%
    interval (``p_<event>``, ``<event>_lo``, ``<event>_hi``), and the 5/50/95% quantiles of CPA (over
    runs with a finite CPA) and of spend."""
    events = _run_events(sweep)
    rows = []
    for (variation, campaign), group in events.groupby(["variation", "campaign"], sort=False):
        n = len(group)
        row: Dict[str, Any] = {"variation": variation, "campaign": campaign, "runs": n,
                               "goal": str(group["goal"].iloc[0])}
        for event in ("miss_goal", "under_delivery", "exhausted_early"):
            values = group[event]
            if values.isna().all():  # a campaign without a goal cannot miss it
                row[f"p_{event}"] = row[f"{event}_lo"] = row[f"{event}_hi"] = math.nan
                continue
            count = int(values.astype(bool).sum())
            low, high = wilson_interval(count, n, CONFIDENCE)
            row[f"p_{event}"], row[f"{event}_lo"], row[f"{event}_hi"] = count / n, low, high
        cpa = group["cpa"].to_numpy(dtype=float)
        finite = cpa[np.isfinite(cpa)]
        for q in QUANTILES:
            row[f"cpa_q{q * 100:g}"] = float(np.quantile(finite, q)) if len(finite) else math.nan
        row["cpa_runs"] = int(len(finite))
        for q in QUANTILES:
            row[f"spend_q{q * 100:g}"] = float(np.quantile(group["spend"].to_numpy(dtype=float), q))
        rows.append(row)
    return pd.DataFrame(rows)


def _interval_text(value: float, low: float, high: float, fmt: Any) -> str:
    if not math.isfinite(value):
        return "–"
    if not (math.isfinite(low) and math.isfinite(high)):
        return fmt(value)
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def sweep_sections(sweep: Any, section: Any, html_table: Any, format_cell: Any
                   ) -> Tuple[List[str], List[Tuple[str, str]], int]:
    """The report's sections for `sweep` (their HTML, their (key, title) list and the number of charts).

    `section`, `html_table` and `format_cell` are the report's own helpers (adsim.report)."""
    runs = sweep.runs
    if runs is None or len(runs) == 0:
        raise DataError("the sweep has no runs: nothing to report")
    variations = list(dict.fromkeys(runs["variation"]))
    seeds = sorted(set(runs["seed"].tolist()))
    campaigns = list(dict.fromkeys(sweep.kpis["campaign"]))
    overview = pd.DataFrame({"variation": variations,
                             "runs": [int((runs["variation"] == v).sum()) for v in variations]})
    facts = (f'<p class="note">{len(runs)} runs: {len(variations)} variation(s) × {len(seeds)} seed(s) '
             f'({esc(", ".join(str(s) for s in seeds[:20]))}{" …" if len(seeds) > 20 else ""}); '
             f'{len(campaigns)} campaign(s). The first variation, {esc(str(variations[0]))}, is the baseline.'
             + (f' File: {esc(os.path.basename(str(sweep.path)))}.' if getattr(sweep, "path", None) else "")
             + "</p>")
    sections = [section("sweep", "Sweep", facts + html_table(overview, text_columns=("variation",)), 0)]
    # Strategy comparison: per campaign, a chart of each KPI's paired difference and the full table.
    charts = 0
    parts = ['<p class="note">Per campaign and variation: each KPI\'s mean over the variation\'s seeds and, for '
             'the other variations, the mean difference to the baseline over the seeds both ran with its 95% '
             'paired t interval (paired over seeds: same seed, same traffic; an interval that excludes 0 is a '
             'significant difference). The charts draw the CPA and conversions differences with their '
             'intervals.</p>']
    for campaign in campaigns:
        table = comparison_table(sweep, campaign)
        parts.append(f"<h3>{esc(campaign)}</h3>")
        if len(variations) > 1:
            figures = []
            for metric in ("cpa", "conversions"):
                others = table.iloc[1:]
                figures.append(interval_chart([str(v) for v in others["variation"]], others[f"{metric}_diff"].tolist(),
                                              others[f"{metric}_lo"].tolist(), others[f"{metric}_hi"].tolist(),
                                              title=f"{campaign}: {metric} − {variations[0]}'s (paired, 95%)"))
            charts += len(figures)
            parts.append(f'<div class="grid">{"".join(figures)}</div>')
        shown = pd.DataFrame({"variation": table["variation"], "runs": table["runs"]})
        for metric, _ in COMPARED:
            shown[metric] = [format_cell(v) for v in table[metric]]
            shown[f"Δ {metric} [95%]"] = [_interval_text(d, lo, hi, format_cell) for d, lo, hi in
                                          zip(table[f"{metric}_diff"], table[f"{metric}_lo"],
                                              table[f"{metric}_hi"])]
        parts.append(html_table(shown, text_columns=tuple(shown.columns)))
    sections.append(section("comparison", "Strategy comparison", "".join(parts), charts))
    # Risk.
    risk = risk_table(sweep)

    def percent(value: float) -> str:
        return f"{100 * value:.0f}%"

    shown = pd.DataFrame({"variation": risk["variation"], "campaign": risk["campaign"], "runs": risk["runs"],
                          "goal": risk["goal"]})
    for event, title in (("miss_goal", "P(miss goal)"), ("under_delivery", f"P(spend < {UNDER_DELIVERY:.0%} budget)"),
                         ("exhausted_early", f"P(budget out before {BEFORE_HOUR:02.0f}:00)")):
        shown[title] = [_interval_text(p, lo, hi, percent) for p, lo, hi in
                        zip(risk[f"p_{event}"], risk[f"{event}_lo"], risk[f"{event}_hi"])]
    for q in QUANTILES:
        shown[f"CPA q{q * 100:g}"] = [format_cell(v) for v in risk[f"cpa_q{q * 100:g}"]]
    shown["runs with a CPA"] = risk["cpa_runs"]
    for q in QUANTILES:
        shown[f"spend q{q * 100:g}"] = [format_cell(v) for v in risk[f"spend_q{q * 100:g}"]]
    body = ('<p class="note">Per variation and campaign over its runs (seeds): the probability of missing the '
            'campaign\'s CPA or ROAS goal (no conversions misses a CPA goal), of spending less than '
            f'{UNDER_DELIVERY:.0%} of the budget, and of the daily budget running out before '
            f'{BEFORE_HOUR:02.0f}:00 on some day, each with its Wilson 95% interval; the 5%, 50% and 95% '
            'quantiles of CPA (runs with conversions) and of spend. As adsim risk defines them '
            '(docs/risk.md), from each run\'s result in the sweep file.</p>'
            + html_table(shown, text_columns=tuple(shown.columns)))
    sections.append(section("risk", "Risk", body, 0))
    titles = [("sweep", "Sweep"), ("comparison", "Comparison"), ("risk", "Risk")]
    return sections, titles, charts
