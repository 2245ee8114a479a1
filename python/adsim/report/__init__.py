"""The HTML report of a run: one self-contained file (inline CSS, static SVG, no script, no network).

Owns `write_report` (``adsim report RUN.h5 -o report.html`` and
``Result.report(path)``) and the report's sections, each of which says
plainly when its data is absent:

* run: what was run, and the KPIs per campaign;
* kpis: KPI timelines (spend, impressions, clicks, conversions) per campaign
  and per channel, injected shocks shaded;
* pacing: per campaign, spend against the budget and the pacing target (the
  result file's pacing_target table as the controller used it; for files
  without it, cumulative spend and the target recomputed from the traffic
  profile as pid_pacing does, see pacing.py);
* auction_insights: per campaign × channel over the run, impression share,
  share lost to budget and rank, top rates, position, overlap, outranking;
* timeline: alerts, controller actions (by guardrail status) and injected
  shocks on one timeline, then the actions with why they were taken (metric,
  observed, threshold, reason) and their guardrail outcome, and the alerts;
* experiments: each analysis's statistic at every look against its boundaries;
* monitors: the monitors' scores against the injected shocks;
* oracle: regret against the oracle;
* sweep: a single run says it is not a sweep. A sweep file (an adsim.Sweep)
  gets its own page: overview, strategy comparison and risk (sweep.py).

docs/report.md documents each section, the browser test and the benchmark.
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
import yaml  # type: ignore[import]

from .._errors import DataError, IoError
from .._sweep import regret_share
from . import pacing as pacing_module
from . import sweep as sweep_module
from .svg import Band, Lane, Series, TimeAxis, bar_chart, esc, line_chart

__all__ = ["write_report", "render"]

#: Rows listed per table before the rest is summarised (keeps big runs small).
MAX_TABLE_ROWS = 150
#: Free-text columns: wrapped, the others kept on one line.
LONG_TEXT = ("reason", "guardrail note", "message", "note")
KPI_METRICS = (("spend", "Spend", "currency"), ("impressions", "Impressions", "count"),
               ("clicks", "Clicks", "count"), ("conversions", "Conversions (reported)", "count"))
SEVERITY_COLOURS = {"critical": "#B2182B", "warning": "#E08214", "info": "#4D4D4D"}
STATUS_COLOURS = {"applied": "#1B7837", "clamped": "#7FBF7B", "approved": "#2166AC", "held": "#E08214",
                  "rejected": "#B2182B"}

CSS = """
:root{--fg:#1a1a1a;--muted:#5a5a5a;--line:#d0d0d0;--bg:#fff;--band:rgba(213,94,0,.14)}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);
background:var(--bg)}
header,section{max-width:1180px;margin:0 auto;padding:8px 16px}
header{border-bottom:1px solid var(--line)}
h1{font-size:1.4em;margin:.4em 0}h2{font-size:1.2em;margin:1.2em 0 .4em;border-bottom:1px solid var(--line)}
h3{font-size:1em;margin:1em 0 .3em}
nav{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.9em;margin:.4em 0}
nav a{color:#0b5394}
p.note,p.absent{color:var(--muted);margin:.3em 0}
p.absent{font-style:italic}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0;font-size:.92em}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:8px 18px}
figure{margin:6px 0;min-width:0}section>figure{max-width:820px}
figcaption{font-weight:600;font-size:.92em}
figure>svg{width:100%;height:auto;display:block}
svg text{font-size:12px;fill:#333}
svg .ylabel,svg .lanelabel{text-anchor:end}svg .xlabel{text-anchor:middle}svg .unit{fill:var(--muted)}
svg line.grid{stroke:#ececec}svg line.tick{stroke:#f3f3f3}svg line.axis{stroke:#888}
svg path.series{fill:none;stroke-width:1.6;stroke-linejoin:round}
svg path.lane{stroke-width:2}
svg rect.band{fill:var(--band)}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:2px 12px;padding:0;margin:2px 0;font-size:.85em}
ul.legend svg{width:24px;height:8px;margin-right:4px;vertical-align:middle}
.scroll{overflow:auto;max-width:100%;max-height:26em;border:1px solid #eee}
table{border-collapse:collapse;font-size:.85em;margin:.4em 0}
th,td{padding:2px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f6f6f6;position:sticky;top:0}
td.text,th.text{text-align:left}td.long{white-space:normal;min-width:18em;max-width:40em}
@media (max-width:600px){body{font-size:14px}.grid{grid-template-columns:1fr}header,section{padding:6px 8px}
svg text{font-size:17px}}
"""


# ---- small helpers ---------------------------------------------------------


def _format_cell(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        magnitude = abs(float(value))
        if magnitude != 0 and (magnitude < 1e-3 or magnitude >= 1e7):
            return f"{value:.3g}"
        return f"{value:,.4g}" if magnitude < 100 else f"{value:,.0f}" if magnitude >= 1e4 else f"{value:,.2f}"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    return str(value)


def html_table(frame: pd.DataFrame, *, text_columns: Sequence[str] = (), limit: int = MAX_TABLE_ROWS,
               what: str = "rows") -> str:
    """A DataFrame as an HTML table (the first `limit` rows, and a note saying how many were left out)."""
    shown = frame.head(limit)
    header = "".join(f'<th class="{"text" if c in text_columns else ""}">{esc(c)}</th>' for c in frame.columns)
    rows = []
    for record in shown.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, record):
            css = ' class="text long"' if column in LONG_TEXT else ' class="text"' if column in text_columns else ""
            cells.append(f"<td{css}>{esc(_format_cell(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = ""
    if len(frame) > limit:
        note = f'<p class="note">Showing the first {limit:,} of {len(frame):,} {esc(what)}.</p>'
    return f'<div class="scroll"><table><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{note}'


def _duration_text(us: int) -> str:
    """A duration in µs as the scenario would write it: 7d, 1h, 15m, 1d 6h."""
    parts = []
    for unit, size in (("d", 86_400_000_000), ("h", 3_600_000_000), ("m", 60_000_000), ("s", 1_000_000)):
        if us >= size:
            parts.append(f"{us // size}{unit}")
            us %= size
    return " ".join(parts) or "0s"


def _absent(text: str) -> str:
    return f'<p class="absent">{esc(text)}</p>'


def _section(key: str, title: str, body: str, count: int) -> str:
    """A report section; `count` is the number of charts it drew (checked by the browser test)."""
    return f'<section id="{key}" data-charts="{count}"><h2>{esc(title)}</h2>{body}</section>'


class _Run:
    """What every section needs from a Result: names, the time grid, decoded tables."""

    def __init__(self, result: Any) -> None:
        self.result = result
        attrs = result.attrs
        self.duration = int(attrs.get("duration_us", 0))
        self.bucket = max(1, int(attrs.get("bucket_us", 3_600_000_000)))
        self.start = result.start
        self.offset = int((self.start - self.start.normalize()) / pd.Timedelta(microseconds=1))
        self.axis = TimeAxis(self.duration, _day_labels(self.start, self.duration), self.offset)
        self.campaigns = [str(x) for x in result.raw("campaigns")["name"]]
        self.channels = [str(x) for x in result.raw("channels")["name"]] if result.has_table("channels") else []
        self.buckets = max(1, -(-self.duration // self.bucket))
        self.bucket_starts = np.arange(self.buckets, dtype=np.int64) * self.bucket
        self.bucket_ends = np.minimum(self.bucket_starts + self.bucket, self.duration)
        self.aggregates = result.raw("aggregates")
        self.shocks = self._shocks()

    def table(self, name: str) -> Optional[Dict[str, np.ndarray]]:
        return self.result.raw(name) if self.result.has_table(name) else None

    def _shocks(self) -> List[Band]:
        shocks = self.table("truth_shocks")
        if shocks is None:
            return []
        bands = []
        for name, start, end, channels, segments in zip(shocks["name"], shocks["start"], shocks["end"],
                                                        shocks["channels"], shocks["segments"]):
            scope = ", ".join(x for x in (str(channels), str(segments)) if x) or "all channels and segments"
            bands.append(Band(int(start), int(min(end, self.duration)), f"shock {name} ({scope})"))
        return bands

    def per_bucket(self, key: str, metric: str, count: int) -> np.ndarray:
        """(count, buckets) sums of `metric` per value of index column `key` per bucket."""
        agg = self.aggregates
        index = np.clip(agg["bucket_start"] // self.bucket, 0, self.buckets - 1).astype(np.int64)
        group = agg[key].astype(np.int64)
        valid = (group >= 0) & (group < count)
        flat = np.bincount(group[valid] * self.buckets + index[valid],
                           weights=agg[metric][valid].astype(float), minlength=count * self.buckets)
        return flat.reshape(count, self.buckets)


def _day_labels(start: pd.Timestamp, duration: int) -> List[str]:
    """Labels of the calendar days the run covers, by day index from the first midnight at or before the start."""
    days = int(duration // 86_400_000_000) + 2
    first = start.normalize()
    return [(first + pd.Timedelta(days=d)).strftime("%a %d") for d in range(days)]


# ---- sections ----------------------------------------------------------------


def _run_section(run: _Run) -> str:
    result = run.result
    attrs = result.attrs
    facts = [("scenario", attrs.get("scenario_name", "?")), ("seed", attrs.get("seed", "?")),
             ("start", str(run.start)), ("duration", _duration_text(run.duration)),
             ("bucket", _duration_text(run.bucket)), ("fingerprint", attrs.get("fingerprint", "?")),
             ("adsim", attrs.get("adsim_version", "?")), ("schema version", attrs.get("schema_version", "?")),
             ("opportunities", f"{int(attrs.get('opportunities', 0)):,}"),
             ("file", result.path or "(not saved)")]
    body = '<dl class="facts">' + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>"
    kpis = result.kpis()
    columns = [c for c in ("campaign_name", "impressions", "clicks", "conversions", "spend", "budget", "budget_used",
                           "value", "ctr", "cvr", "cpa", "roas") if c in kpis.columns]
    body += "<h3>KPIs per campaign</h3>" + html_table(kpis[columns].rename(columns={"campaign_name": "campaign"}),
                                                      text_columns=("campaign",))
    return _section("run", "Run", body, 0)


def _kpi_section(run: _Run) -> Tuple[str, int]:
    if len(run.aggregates["bucket_start"]) == 0:
        return _section("kpis", "KPI timelines", _absent("No activity in this run: no campaign received a bid request."),
                        0), 0
    x = run.bucket_starts
    charts = []
    for key, names, title in (("campaign", run.campaigns, "per campaign"), ("channel", run.channels, "per channel")):
        if not names:
            continue
        figures = []
        for metric, label, unit in KPI_METRICS:
            sums = run.per_bucket(key, metric, len(names))
            series = [Series(name, x, sums[i]) for i, name in enumerate(names)]
            figures.append(line_chart(run.axis, series, title=f"{label} per bucket, {title}", unit=unit,
                                      bands=run.shocks))
        charts.append(f"<h3>{esc(title.capitalize())}</h3><div class=\"grid\">{''.join(figures)}</div>")
    body = ('<p class="note">Sums per bucket of the aggregates table (conversions counted when reported). '
            + ("Shaded: injected shocks." if run.shocks else "No shocks were injected in this run.") + "</p>"
            + "".join(charts))
    count = len(KPI_METRICS) * sum(1 for names in (run.campaigns, run.channels) if names)
    return _section("kpis", "KPI timelines", body, count), count


def _stored_target(run: _Run) -> Optional[Dict[int, Dict[str, Any]]]:
    """The `pacing_target` table (schema 4) per paced campaign, or None for a file without it.

    Per campaign: the controller's label, its scope (``day`` or ``flight``) and,
    sorted by time, ``time``, ``target_spend``, ``spend`` and ``budget`` as the
    controller used them (day scope: cumulative within each day). A campaign
    with several pacing controllers gets the first one's rows.
    """
    table = run.table("pacing_target")
    if table is None:
        return None
    needed = ("time", "campaign", "controller", "scope", "target_spend", "spend", "budget")
    missing = [c for c in needed if c not in table]
    if missing:
        raise DataError(f"the result's 'pacing_target' table has no column(s) {', '.join(missing)}: "
                        f"expected {', '.join(needed)} (docs/results.md)")
    out: Dict[int, Dict[str, Any]] = {}
    for campaign in np.unique(table["campaign"]).tolist():
        rows = table["campaign"] == campaign
        controller = str(table["controller"][rows][0])
        rows = rows & (table["controller"] == controller)
        order = np.argsort(table["time"][rows], kind="stable")
        entry: Dict[str, Any] = {"controller": controller, "scope": str(table["scope"][rows][order][-1])}
        for column in ("time", "target_spend", "spend", "budget"):
            entry[column] = table[column][rows][order]
        out[int(campaign)] = entry
    return out


def _gaps_between_days(run: _Run, times: np.ndarray, *columns: np.ndarray) -> List[np.ndarray]:
    """`times` and `columns` with a NaN point inserted where the calendar day changes (day-scope curves restart)."""
    times = np.asarray(times, dtype=np.int64)
    day = (times + run.offset) // pacing_module.MICROS_PER_DAY
    breaks = np.flatnonzero(np.diff(day) != 0) + 1
    gap_times = np.insert(times.astype(float), breaks, times[breaks] - 0.5 if len(breaks) else [])
    out = [gap_times]
    for column in columns:
        out.append(np.insert(np.asarray(column, dtype=float), breaks, np.nan))
    return out


def _pacing_section(run: _Run) -> Tuple[str, int]:
    daily = run.table("daily")
    result = run.result
    stored = _stored_target(run)
    try:
        scenario = yaml.safe_load(result.scenario) or {}
        profiles = pacing_module.campaign_profiles(scenario) if isinstance(scenario, dict) else []
    except yaml.YAMLError:
        profiles = []
    spend = run.per_bucket("campaign", "spend", len(run.campaigns))
    ends = run.bucket_ends
    cumulative = np.cumsum(spend, axis=1)
    campaign_table = result.raw("campaigns")
    figures = []
    computed = from_table = 0
    for c, name in enumerate(run.campaigns):
        rows = daily["campaign"] == c if daily is not None else np.zeros(0, dtype=bool)
        day_starts = daily["day_start"][rows].astype(np.int64) if daily is not None else np.zeros(0, np.int64)
        budgets = daily["daily_budget"][rows].astype(float) if daily is not None else np.zeros(0)
        totals = daily["total_budget"][rows].astype(float) if daily is not None else np.zeros(0)
        day_spend = daily["spend"][rows].astype(float) if daily is not None else np.zeros(0)
        if len(day_starts) == 0:  # a run without days recorded: the configured budgets
            day_starts = np.zeros(1, np.int64)
            budgets = np.array([float(campaign_table["daily_budget"][c])])
            totals = np.array([float(campaign_table["total_budget"][c])])
            day_spend = np.array([cumulative[c, -1]])
        before = np.concatenate([[0.0], np.cumsum(day_spend)[:-1]])
        total = float(totals[-1])
        series = [Series("cumulative spend", np.concatenate([[0], ends]), np.concatenate([[0.0], cumulative[c]]))]
        # What could be spent by the end of each day: spend before it plus its daily budget, capped by the total.
        day_of = np.clip(np.searchsorted(day_starts, run.bucket_starts, side="right") - 1, 0, len(day_starts) - 1)
        allowance = np.minimum(before[day_of] + budgets[day_of], total)
        if np.isfinite(allowance).any():
            series.append(Series("budget (spend before the day + its daily budget, capped by the total)",
                                 run.bucket_starts, np.where(np.isfinite(allowance), allowance, np.nan),
                                 colour="#555555", dash="2 3", step=True))
        if stored is not None and c in stored:
            # The controller's own curve, in its own terms: within each day (day scope) or over the flight.
            entry = stored[c]
            scope = entry["scope"]
            what = "today's" if scope == "day" else "the flight's"
            times, target, seen, plan = _gaps_between_days(run, entry["time"], entry["target_spend"], entry["spend"],
                                                           entry["budget"]) if scope == "day" else (
                entry["time"], entry["target_spend"].astype(float), entry["spend"].astype(float),
                entry["budget"].astype(float))
            series = [Series(f"{what} spend, as {entry['controller']} saw it", times, seen),
                      Series("budget paced (" + ("today's plan" if scope == "day" else "total budget") + ")",
                             times, plan, colour="#555555", dash="2 3", step=True),
                      Series(f"pacing target (pacing_target table, {scope} scope)", times, target,
                             colour="#D55E00", dash="6 3")]
            figures.append(line_chart(run.axis, series, title=f"{name} ({entry['controller']}, {scope} scope)",
                                      unit="currency", bands=run.shocks))
            from_table += 1
            continue
        target_x = target_y = None
        if stored is None and c < len(profiles) and (np.isfinite(budgets).any() or math.isfinite(total)):
            grid = np.concatenate([[0], ends])
            target_x = grid
            target_y = pacing_module.target_curve(profiles[c], grid, duration=run.duration, start=run.start,
                                                  day_starts=day_starts, daily_budget=budgets, total_budget=total,
                                                  spend_before_day=before)
            source = "recomputed from the traffic profile: this file has no pacing_target table" + (
                "" if profiles[c].paced else "; no pacing controller here: what pid_pacing would aim for")
            computed += 1
        if target_x is not None and target_y is not None:
            series.append(Series(f"pacing target ({source})", target_x, target_y, colour="#D55E00", dash="6 3"))
        figures.append(line_chart(run.axis, series, title=name, unit="currency", bands=run.shocks))
    if stored is not None:
        note = ("The pacing target comes from the result file's pacing_target table, as each pacing controller used "
                "it: with day scope, today's target spend and today's spend (both restart at midnight) against "
                "today's plan; with flight scope, the flight's. Campaigns without a pacing controller show their "
                "cumulative spend against the budget, without a target.")
    else:
        note = ("This result file has no pacing_target table (result schema before 4): the pacing target is "
                "recomputed from the scenario's traffic profile as pid_pacing computes it: "
                "within each day, the day's expected traffic share so far times the day's plan (the daily budget, "
                "or the lifetime plan with a total budget), added to the spend before the day; with a total "
                "budget only, the total times the flight's expected traffic share. Campaigns without any budget "
                "have no target.")
    body = f'<p class="note">{esc(note)}</p><div class="grid">{"".join(figures)}</div>'
    return _section("pacing", "Spend against budget and pacing target", body, len(figures)), len(figures)


def auction_insights_over_run(table: pd.DataFrame) -> pd.DataFrame:
    """The `auction_insights` table summed over the run's days: one row per campaign × channel.

    Counts are summed and the shares recomputed from the sums with the
    table's own definitions (docs/results.md), so a day with more eligible
    opportunities weighs more: impression_share, lost_is_budget and
    lost_is_rank over eligible; top_rate and absolute_top_rate over
    impressions (NaN on one-slot channels, as in the table);
    average_position weighted by impressions; overlap_rate over impressions;
    position_above_rate over overlap impressions; outranking_share as
    (impressions − competitor_above) / eligible.
    """
    counts = ["eligible", "impressions", "lost_budget", "lost_rank", "top_impressions", "absolute_top_impressions",
              "overlap_impressions", "competitor_above"]
    frame = table.copy()
    frame["position_sum"] = frame["average_position"].fillna(0.0) * frame["impressions"]
    frame["slotted"] = frame["top_rate"].notna()
    keys = ["campaign", "channel"]
    names = [c for c in ("campaign_name", "channel_name") if c in frame.columns]
    summed = frame.groupby(keys + names, sort=True, observed=True).agg(
        **{c: (c, "sum") for c in counts + ["position_sum"]}, slotted=("slotted", "any"),
        competitors=("competitors", "max"), days=("eligible", "size")).reset_index()

    def ratio(numerator: str, denominator: str) -> np.ndarray:
        top = summed[numerator].to_numpy(dtype=float)
        bottom = summed[denominator].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)

    summed["impression_share"] = ratio("impressions", "eligible")
    summed["lost_is_budget"] = ratio("lost_budget", "eligible")
    summed["lost_is_rank"] = ratio("lost_rank", "eligible")
    summed["top_rate"] = np.where(summed["slotted"], ratio("top_impressions", "impressions"), np.nan)
    summed["absolute_top_rate"] = np.where(summed["slotted"], ratio("absolute_top_impressions", "impressions"), np.nan)
    summed["average_position"] = ratio("position_sum", "impressions")
    summed["overlap_rate"] = ratio("overlap_impressions", "impressions")
    summed["position_above_rate"] = ratio("competitor_above", "overlap_impressions")
    with np.errstate(invalid="ignore", divide="ignore"):
        eligible = summed["eligible"].to_numpy(dtype=float)
        summed["outranking_share"] = np.where(
            eligible > 0, (summed["impressions"] - summed["competitor_above"]) / np.where(eligible > 0, eligible, 1),
            np.nan)
    return summed.drop(columns=["position_sum", "slotted"])


def _auction_insights_section(run: _Run) -> Tuple[str, int]:
    title = "Auction insights"
    if run.table("auction_insights") is None:
        return _section("auction_insights", title,
                        _absent("This result file has no auction_insights table (result schema before 4)."), 0), 0
    table = run.result.auction_insights
    if table is None or len(table) == 0:
        return _section("auction_insights", title, _absent("No auction insights in this run."), 0), 0
    summed = auction_insights_over_run(table)
    labels = [f"{a} / {b}" for a, b in zip(summed.get("campaign_name", summed["campaign"]),
                                           summed.get("channel_name", summed["channel"]))]
    chart = bar_chart(labels, (100 * summed["impression_share"].astype(float)).tolist(),
                      title="Impression share over the run (impressions / eligible opportunities)", unit="%")
    shown = summed.drop(columns=[c for c in ("campaign", "channel") if c + "_name" in summed.columns]).rename(
        columns={"campaign_name": "campaign", "channel_name": "channel"})
    columns = ["campaign", "channel", "days", "competitors", "eligible", "impressions", "impression_share",
               "lost_is_budget", "lost_is_rank", "top_rate", "absolute_top_rate", "average_position",
               "overlap_rate", "position_above_rate", "outranking_share"]
    shown = shown[[c for c in columns if c in shown.columns]]
    body = ('<p class="note">Per campaign and channel over the run, what an ad platform reports '
            '(docs/results.md, auction_insights): the share of eligible opportunities won (impression share) '
            'and lost to budget or to rank; on slotted channels how often the ad was at the top of the page or '
            'first; its average slot; and against the channel\'s competitors (one group): how often one of their '
            'ads was shown with ours (overlap), above ours, and how often ours outranked them. Counts are summed '
            'over the days and the shares recomputed from the sums.</p>' + chart
            + html_table(shown, text_columns=("campaign", "channel")))
    return _section("auction_insights", title, body, 1), 1


def _timeline_section(run: _Run) -> Tuple[str, int]:
    alerts = run.table("alerts")
    actions = run.table("actions")
    lanes: List[Lane] = []
    if alerts is not None and len(alerts["time"]):
        for severity, colour in SEVERITY_COLOURS.items():
            rows = alerts["severity"] == severity
            if rows.any():
                details = [f"{run.result.to_datetime(int(t)):%a %H:%M} {m}: {metric}" for t, m, metric in
                           zip(alerts["time"][rows][:20], alerts["monitor"][rows][:20], alerts["metric"][rows][:20])]
                lanes.append(Lane(f"alerts: {severity}", alerts["time"][rows], colour, details))
    if actions is not None and len(actions["time"]):
        for status, colour in STATUS_COLOURS.items():
            rows = actions["status"] == status
            if rows.any():
                details = []
                if "metric" in actions:
                    details = [f"{run.result.to_datetime(int(t)):%a %H:%M} {controller} {kind}: "
                               + (f"{metric} {_format_cell(observed)} vs {_format_cell(threshold)}" if metric
                                  else "no metric given")
                               for t, controller, kind, metric, observed, threshold in
                               zip(actions["time"][rows][:20], actions["controller"][rows][:20],
                                   actions["kind"][rows][:20], actions["metric"][rows][:20],
                                   actions["observed"][rows][:20], actions["threshold"][rows][:20])]
                lanes.append(Lane(f"actions: {status}", actions["time"][rows], colour, details))
    total = run.per_bucket("campaign", "spend", len(run.campaigns)).sum(axis=0)
    series = [Series("spend per bucket, all campaigns", run.bucket_starts, total, colour="#0072B2", dash="")]
    chart = line_chart(run.axis, series, title="Alerts, actions and shocks", unit="currency", bands=run.shocks,
                       lanes=lanes)
    parts = [chart]
    parts.append(f'<p class="note">{len(run.shocks)} injected shock(s), shaded.</p>' if run.shocks
                 else _absent("No shocks were injected in this run."))
    result = run.result
    parts.append("<h3>Controller actions</h3>")
    if actions is None or len(actions["time"]) == 0:
        parts.append(_absent("No controller actions in this run."))
    else:
        frame = result.actions
        counts = frame.groupby(["controller", "kind", "status"], observed=True).size().reset_index(name="actions")
        parts.append(html_table(counts, text_columns=("controller", "kind", "status")))
        # Guardrail interventions first: they are what a reviewer reads.
        order = np.argsort((frame["status"] == "applied").to_numpy(), kind="stable")
        listed = frame.iloc[order]
        columns = ["time_at", "controller", "campaign_name", "kind", "old", "requested", "new", "status", "metric",
                   "observed", "threshold", "reason", "note"]
        listed = listed[[c for c in columns if c in listed.columns]].rename(
            columns={"time_at": "time", "campaign_name": "campaign", "note": "guardrail note"})
        parts.append('<p class="note">Every action with why it was taken (the metric the controller looked at, '
                     'the value it observed and the threshold it compared it with or aimed at) and its guardrail '
                     'outcome; clamped, held, rejected and approved ones first.</p>')
        parts.append(html_table(listed, text_columns=("controller", "campaign", "kind", "status", "metric", "reason",
                                                      "guardrail note"), what="actions"))
    parts.append("<h3>Alerts</h3>")
    if alerts is None or len(alerts["time"]) == 0:
        parts.append(_absent("No alerts in this run."))
    else:
        frame = result.alerts
        columns = ["time_at", "monitor", "campaign_name", "channel_name", "metric", "value", "expected", "score",
                   "severity", "message"]
        listed = frame[[c for c in columns if c in frame.columns]].rename(
            columns={"time_at": "time", "campaign_name": "campaign", "channel_name": "channel"})
        parts.append(html_table(listed, text_columns=("monitor", "campaign", "channel", "metric", "severity",
                                                      "message"), what="alerts"))
    return _section("timeline", "Alerts, actions and shocks", "".join(parts), 1), 1


def _experiment_section(run: _Run) -> Tuple[str, int]:
    looks = run.table("experiment_looks")
    if looks is None or len(looks["time"]) == 0:
        return _section("experiments", "Experiments", _absent("No experiment looks in this run."), 0), 0
    frame = run.result.experiment_looks
    figures = []
    for (experiment, analysis, arm), rows in frame.groupby(["experiment", "analysis", "arm"], sort=True):
        rows = rows.sort_values("time")
        times = rows["time"].to_numpy()
        boundary = rows["boundary"].to_numpy(dtype=float)
        boundary = np.where(np.isfinite(boundary), boundary, np.nan)
        decision = str(rows["decision"].iloc[-1])
        title = f"{experiment} / {analysis}, arm {arm}: {decision}"
        log_ratio = rows["note"].astype(str).str.extract(r"log likelihood ratio (\S+)")[0]
        if log_ratio.notna().all():
            # mSPRT: the boundary ln(1/alpha) bounds the log likelihood ratio (in the note), not z.
            series = [Series("log likelihood ratio", times, pd.to_numeric(log_ratio, errors="coerce").to_numpy(),
                             colour="#0072B2", dash="", markers=len(times) <= 60),
                      Series("boundary ln(1/α)", times, boundary, colour="#B2182B", dash="6 3", markers=len(times) <= 60)]
            figures.append(line_chart(run.axis, series, title=title, unit=str(rows["metric"].iloc[0])))
            continue
        series = [Series("statistic (z)", times, rows["statistic"].to_numpy(dtype=float), colour="#0072B2", dash="",
                         markers=len(times) <= 60),
                  Series("upper boundary", times, boundary, colour="#B2182B", dash="6 3", markers=len(times) <= 60),
                  Series("lower boundary", times, -boundary, colour="#B2182B", dash="2 3", markers=len(times) <= 60)]
        figures.append(line_chart(run.axis, series, title=title, unit=str(rows["metric"].iloc[0]), symmetric=True))
    last = frame.sort_values("time").groupby(["experiment", "analysis", "arm"], sort=True).tail(1)
    columns = ["experiment", "analysis", "arm", "metric", "look", "time_at", "estimate", "std_error", "statistic",
               "boundary", "p_value", "decision", "note"]
    table = last[[c for c in columns if c in last.columns]].rename(columns={"time_at": "time"})
    body = ('<p class="note">Each analysis\'s test statistic at every look (solid) against its rejection '
            'boundaries (dashed; an infinite boundary is not drawn): the z statistic against ±boundary, or for '
            'mSPRT the log likelihood ratio against ln(1/α). The table gives each arm\'s last look.</p>'
            f'<div class="grid">{"".join(figures)}</div>'
            + html_table(table, text_columns=("experiment", "analysis", "metric", "decision", "note")))
    return _section("experiments", "Experiments", body, len(figures)), len(figures)


def _monitor_section(run: _Run) -> str:
    scores = run.table("monitor_scores")
    if scores is None or len(scores["monitor"]) == 0:
        return _section("monitors", "Monitor scores", _absent("No monitors in this run."), 0)
    body = ('<p class="note">Each monitor\'s alerts scored against the injected shocks (docs/monitoring.md).</p>'
            + html_table(run.result.monitor_scores, text_columns=("monitor",)))
    return _section("monitors", "Monitor scores", body, 0)


def _oracle_section(run: _Run) -> Tuple[str, int]:
    oracle = run.table("oracle")
    if oracle is None or len(oracle["campaign"]) == 0:
        return _section("oracle", "Regret against the oracle",
                        _absent("No oracle in this run (run with oracle: true or adsim run --oracle)."), 0), 0
    frame = run.result.table("oracle")
    names = [run.campaigns[int(c)] if 0 <= int(c) < len(run.campaigns) else str(c) for c in frame["campaign"]]
    chart = bar_chart(names, frame["regret_value"].astype(float).tolist(),
                      title="Regret in conversion value (oracle − run)", unit="currency")
    frame = frame.copy()  # the regret as a share of the oracle (NaN where the oracle reached nothing)
    frame["regret_conversions_share"] = regret_share(frame["regret_conversions"], frame["oracle_conversions"])
    frame["regret_value_share"] = regret_share(frame["regret_value"], frame["oracle_value"])
    columns = [c for c in ("campaign_name", "oracle_spend", "oracle_conversions", "oracle_value", "regret_conversions",
                           "regret_value", "regret_conversions_share", "regret_value_share") if c in frame.columns]
    body = ('<p class="note">What a bidder that knew the true rates would have gained over this run, under the same '
            'budgets and seed (positive: the oracle did better).</p>' + chart
            + html_table(frame[columns].rename(columns={"campaign_name": "campaign"}), text_columns=("campaign",)))
    return _section("oracle", "Regret against the oracle", body, 1), 1


def _sweep_note(source: Any) -> str:
    """The single-run report's pointer to sweeps."""
    return _section("sweep", "Sweep",
                    _absent("This file holds a single run, not a sweep: no strategy comparison. A sweep file "
                            "(adsim sweep -o, adsim.sweep(output=...)) gets a report of its own."), 0)


# ---- the page ----------------------------------------------------------------


def render(source: Any) -> str:
    """The report of `source` (an adsim.Result or an adsim.Sweep) as one HTML document."""
    from .._sweep import Sweep

    if isinstance(source, Sweep):
        sections, titles, _ = sweep_module.sweep_sections(source, _section, html_table, _format_cell)
        name = os.path.basename(source.path) if source.path else "sweep"
        return _page(f"sweep {name}", sections, titles)
    if not hasattr(source, "raw") or not hasattr(source, "kpis"):
        raise DataError(f"cannot report on {type(source).__name__}: expected an adsim result (adsim.load)")
    for needed in ("aggregates", "campaigns"):
        if not source.has_table(needed):
            raise DataError(f"the result has no '{needed}' table: not a complete adsim result")
    run = _Run(source)
    sections = [_run_section(run)]
    sections.append(_kpi_section(run)[0])
    sections.append(_pacing_section(run)[0])
    sections.append(_auction_insights_section(run)[0])
    sections.append(_timeline_section(run)[0])
    sections.append(_experiment_section(run)[0])
    sections.append(_monitor_section(run))
    sections.append(_oracle_section(run)[0])
    sections.append(_sweep_note(source))
    titles = [("run", "Run"), ("kpis", "KPIs"), ("pacing", "Pacing"), ("auction_insights", "Auction insights"),
              ("timeline", "Alerts & actions"), ("experiments", "Experiments"), ("monitors", "Monitors"), ("oracle", "Oracle"), ("sweep", "Sweep")]
    return _page(str(source.attrs.get("scenario_name", "run")), sections, titles)


def _page(name: str, sections: List[str], titles: List[Tuple[str, str]]) -> str:
    """The HTML document around the sections, with a table of contents."""
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in titles)
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>adsim report: {esc(name)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>adsim report: {esc(name)}</h1><nav>{nav}</nav></header>"
            + "".join(sections) + "</body></html>")


def write_report(source: Any, path: "os.PathLike[str] | str") -> str:
    """Writes the HTML report of `source` (an adsim.Result or adsim.Sweep, or the path of a result or sweep
    file) to `path`.

    The report is written to a temporary file next to `path` and renamed into
    place when complete, so `path` never holds half a report. Returns the path.
    Raises adsim.IoError (the file cannot be read or written) or
    adsim.DataError (not an adsim result).
    """
    if isinstance(source, (str, os.PathLike)):
        from .._result import load

        source = load(source)
    path = os.fspath(path)
    document = render(source)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise IoError(f"cannot write report '{path}': folder '{folder}' does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=folder)
    except OSError as error:
        raise IoError(f"cannot write report '{path}': {error.strerror or error}") from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(document)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise IoError(f"cannot write report '{path}': {error.strerror or error}") from error
    return path
