"""Pre-launch risk of a plan (``adsim.risk``) and paired comparison of two plans (``adsim.what_if``).

Both run a scenario on many seeds and turn the runs into probabilities,
quantiles and paired differences with their Monte Carlo uncertainty
(docs/risk.md defines every number). Runs come from one private function,
:func:`_per_run`, which runs them through ``adsim.sweep`` and returns the
per-run, per-campaign and per-day columns that the statistics need.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ._errors import ConfigError
from ._result import Result

ScenarioLike = Union[None, str, "os.PathLike[str]", Mapping[str, Any]]
Patch = Union[Mapping[str, Any], Callable[[Dict[str, Any]], Dict[str, Any]]]

_MICROS = 1_000_000
_DAY_US = 86_400 * _MICROS
#: Metrics with quantiles and CVaR, and the direction that is bad for the plan:
#: +1 when high values are bad (CPA), -1 when low values are bad.
_BAD_DIRECTION = {"cpa": +1, "roas": -1, "conversions": -1, "spend": -1}
#: Below this many runs in a CVaR tail the estimate is flagged as unreliable.
_MIN_TAIL_RUNS = 10


# ---- the runs ----------------------------------------------------------------


def _load_scenario_dict(scenario: ScenarioLike) -> Dict[str, Any]:
    """The scenario as a dict (to apply patches): a file is read as YAML (JSON is YAML)."""
    import yaml  # type: ignore[import]  # no stubs in Debian (types-PyYAML is not packaged)

    from ._run import _scenario_args, default_scenario

    if scenario is None:
        return default_scenario(as_dict=True)  # type: ignore[return-value]
    if isinstance(scenario, Mapping):
        return copy.deepcopy(dict(scenario))
    text, _, path = _scenario_args(scenario)
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise ConfigError(f"cannot read scenario '{path}': {error.strerror}") from None
    data = yaml.safe_load(text or "")
    if not isinstance(data, dict):
        raise ConfigError(f"scenario {path or '<string>'}: expected a mapping at the top level")
    return data


def apply_patch(scenario: Dict[str, Any], patch: Optional[Patch]) -> Dict[str, Any]:
    """A copy of `scenario` with `patch` applied.

    A patch is a callable (scenario dict -> scenario dict) or a dict whose keys
    are field paths (``"campaigns[0].bid": 0.004``) or plain keys; under a plain
    key a dict value is merged into a dict field recursively, and anything else
    replaces the field (a list replaces the whole list).
    """
    out = copy.deepcopy(scenario)
    if patch is None:
        return out
    if callable(patch):
        return patch(out)

    from ._sweep import _merge  # the field-path syntax and merge rules of adsim.sweep's variations

    _merge(out, patch)
    return out


def _reduce(result: Result, seed: int) -> Tuple[Dict[str, Any], List[Dict[str, Any]], List[Dict[str, Any]]]:
    """A run's result reduced to what risk needs: (run row, campaign rows, day rows)."""
    kpis = result.kpis()
    campaigns = result.campaigns
    truth = pd.DataFrame(result.raw("campaign_truth"))
    daily = result.daily
    offset_us = int((result.start - result.start.normalize()) / pd.Timedelta(microseconds=1))
    campaign_rows = []
    for i, row in kpis.iterrows():
        c = int(row["campaign"])
        days = daily[daily["campaign"] == c]
        spend_micros = np.rint(days["spend"].to_numpy() * _MICROS)
        cap_micros = np.rint(np.where(np.isfinite(days["max_daily_budget"]), days["max_daily_budget"], np.inf) * _MICROS)
        total_budget = float(campaigns["total_budget"].iloc[c])
        over_total = math.isfinite(total_budget) and round(float(truth["spend"].iloc[c]) * _MICROS) > round(
            total_budget * _MICROS)
        campaign_rows.append({
            "campaign": str(row["campaign_name"]),
            "spend": float(row["spend"]),
            "conversions": float(row["conversions"]),
            "value": float(row["value"]),
            "cpa": float(row["cpa"]) if row["conversions"] > 0 else (math.inf if row["spend"] > 0 else math.nan),
            "roas": float(row["roas"]),
            "budget": float(row["budget"]),
            "budget_used": float(row["budget_used"]),
            "true_conversions": float(truth["conversions"].iloc[c]),
            "true_value": float(truth["conversion_value"].iloc[c]),
            "goal": str(campaigns["goal"].iloc[c]),
            "goal_value": float(campaigns["goal_value"].iloc[c]),
            "overspend": bool(np.any(spend_micros > cap_micros) or over_total),
        })
    day_rows = []
    for _, d in daily.iterrows():
        exhausted = int(d["budget_exhausted"]) if "budget_exhausted" in daily.columns else -1
        day_rows.append({
            "campaign": str(d["campaign_name"]),
            "day_start": int(d["day_start"]),
            "daily_budget": float(d["daily_budget"]),
            "spend": float(d["spend"]),
            "budget_exhausted": exhausted,
            # Clock time of day (hours after local midnight of the scenario's calendar).
            "exhausted_hour": ((exhausted + offset_us) % _DAY_US) / 3.6e9 if exhausted >= 0 else math.nan,
        })
    run_row = {"seed": seed, "fingerprint": result.fingerprint}
    return run_row, campaign_rows, day_rows


def missed_goal(kpis: pd.DataFrame) -> np.ndarray:
    """Per row (run x campaign, with columns goal, goal_value, cpa, roas): whether the
    run missed the campaign's CPA or ROAS goal on reported conversions (no
    conversions misses a CPA goal; no goal never misses)."""
    goal_cpa = kpis["goal"] == "cpa"
    goal_roas = kpis["goal"] == "roas"
    return np.where(goal_cpa, ~(kpis["cpa"] <= kpis["goal_value"]),  # no conversions: missed
                    np.where(goal_roas, ~(kpis["roas"] >= kpis["goal_value"]), False))


def run_risk_columns(result: Result) -> pd.DataFrame:
    """One run's risk events per campaign (index: campaign name), for the per-run
    summary of a sweep: goal, goal_value, overspend, miss_goal,
    budget_exhausted_days (days on which the campaign's budget ran out) and
    first_exhausted_hour (earliest clock hour it ran out, NaN if never)."""
    _, campaign_rows, day_rows = _reduce(result, int(result.seed))
    frame = pd.DataFrame(campaign_rows)
    frame["miss_goal"] = missed_goal(frame)
    days = pd.DataFrame(day_rows, columns=["campaign", "budget_exhausted", "exhausted_hour"])
    grouped = days.groupby("campaign", sort=False)
    frame["budget_exhausted_days"] = frame["campaign"].map(
        grouped["budget_exhausted"].agg(lambda x: int((x >= 0).sum()))).fillna(0).astype(int)
    frame["first_exhausted_hour"] = frame["campaign"].map(grouped["exhausted_hour"].min()).astype(float)
    columns = ["goal", "goal_value", "overspend", "miss_goal", "budget_exhausted_days", "first_exhausted_hour"]
    return frame.set_index("campaign")[columns]


def _per_run(scenario: ScenarioLike, seeds: Sequence[int], variations: Optional[Mapping[str, Optional[Patch]]],
             workers: int, progress: bool) -> Tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Runs `scenario` (with each of `variations`, or as is) on every seed.

    Returns (runs, kpis, days), in the shape of ``adsim.sweep``'s ``Sweep.runs``
    and ``Sweep.kpis`` (columns run, variation, seed, ...), plus the per-run,
    per-campaign, per-day ``days`` (campaign, day_start, daily_budget, spend,
    budget_exhausted, exhausted_hour) that Sweep.kpis does not carry. Beyond
    Result.kpis() columns, kpis has true_conversions, true_value, goal,
    goal_value and overspend. The runs go through ``adsim.sweep`` (C++
    threads, the GIL released; the same numbers whatever `workers` is).
    """
    from ._sweep import sweep

    if variations is None:
        base: Any = scenario
        cases: Dict[str, Any] = {"": None}
    else:
        base = _load_scenario_dict(scenario)
        cases = {name: (lambda _scenario, patch=patch: apply_patch(base, patch)) for name, patch in variations.items()}
    seed_list = [int(seed) for seed in seeds]
    done = sweep(base, seeds=seed_list, variations=None if variations is None else cases,
                 workers=max(1, int(workers)), progress=bool(progress), keep="results")
    jobs = [(name, seed) for name in cases for seed in seed_list]  # runs are numbered variation-major
    outputs = [_reduce(done.result(index), seed) for index, (_, seed) in enumerate(jobs)]
    runs, kpis, days = [], [], []
    for index, ((name, seed), (run_row, campaign_rows, day_rows)) in enumerate(zip(jobs, outputs)):
        runs.append({"run": index, "variation": name, **run_row})
        kpis += [{"run": index, "variation": name, "seed": seed, **r} for r in campaign_rows]
        days += [{"run": index, "variation": name, "seed": seed, **r} for r in day_rows]
    return pd.DataFrame(runs), pd.DataFrame(kpis), pd.DataFrame(days)


# ---- statistics --------------------------------------------------------------


def _z(confidence: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Tuple[float, float]:
    """Wilson score interval for a binomial proportion (n > 0)."""
    if n <= 0:
        return math.nan, math.nan
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def zero_count_bound(n: int, confidence: float = 0.95) -> float:
    """Exact one-sided upper bound on p when 0 of n runs had the event: 1 - (1 - confidence)^(1/n)
    (about 3/n at 95 %, the rule of three)."""
    return 1.0 - (1.0 - confidence) ** (1.0 / n)


def cvar(values: np.ndarray, alpha: float, bad: int) -> Tuple[float, int]:
    """Mean of the worst ceil(alpha * n) values (bad = +1: the highest, -1: the lowest) and that count."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return math.nan, 0
    k = max(1, int(math.ceil(alpha * len(values) - 1e-9)))
    ordered = np.sort(values)
    tail = ordered[-k:] if bad > 0 else ordered[:k]
    with np.errstate(invalid="ignore"):
        return float(np.mean(tail)), k


def _parse_clock(clock: str) -> float:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", clock.strip())
    if not match or int(match.group(1)) > 24 or int(match.group(2)) > 59:
        raise ConfigError(f"before: expected a clock time HH:MM such as '18:00', got '{clock}'")
    return int(match.group(1)) + int(match.group(2)) / 60


# ---- the risk report ---------------------------------------------------------


class RiskReport:
    """What :func:`adsim.risk` found. DataFrames:

    * ``runs``: one row per run (run, seed, fingerprint);
    * ``kpis``: one row per run x campaign (spend, conversions, value, cpa,
      roas, budget, budget_used, true_conversions, true_value, goal,
      goal_value, and the events: overspend, miss_goal, under_delivery,
      exhausted_before);
    * ``days``: one row per run x campaign x day, with budget_exhausted (µs,
      -1 never) and exhausted_hour (clock hour of day, NaN never);
    * ``probabilities``: per campaign x event: count, runs, p, its Wilson
      interval (lo, hi), Monte Carlo SE and a note;
    * ``quantiles``: per campaign x metric: mean, the quantiles, CVaR and the
      number of runs in its tail;
    * ``worst``: per campaign, the worst runs with their seeds and the
      command that replays each;
    * ``warnings``: where N runs are too few for what was asked.
    """

    def __init__(self, **fields: Any) -> None:
        self.runs: pd.DataFrame = fields["runs"]
        self.kpis: pd.DataFrame = fields["kpis"]
        self.days: pd.DataFrame = fields["days"]
        self.probabilities: pd.DataFrame = fields["probabilities"]
        self.quantiles: pd.DataFrame = fields["quantiles"]
        self.worst: pd.DataFrame = fields["worst"]
        self.warnings: List[str] = fields["warnings"]
        self.settings: Dict[str, Any] = fields["settings"]

    def probability(self, campaign: str, event: str) -> float:
        """The estimated probability of `event` (overspend, miss_goal, under_delivery,
        exhausted_before, exhausted_before_share) for `campaign`."""
        rows = self.probabilities[(self.probabilities["campaign"] == campaign) & (self.probabilities["event"] == event)]
        if rows.empty:
            raise KeyError(f"no probability of '{event}' for campaign '{campaign}'")
        return float(rows["p"].iloc[0])

    def to_dict(self) -> Dict[str, Any]:
        """Everything as JSON-ready lists of records (``adsim risk --json``)."""

        def records(frame: pd.DataFrame) -> List[Dict[str, Any]]:
            out = json.loads(frame.to_json(orient="records"))
            return out

        return {
            "settings": self.settings,
            "probabilities": records(self.probabilities),
            "quantiles": records(self.quantiles),
            "worst": records(self.worst),
            "runs": records(self.runs),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A printable report: per campaign, each probability with its interval, the quantiles and CVaR,
        the worst runs, then the warnings."""
        s = self.settings
        lines = [f"Pre-launch risk of '{s['scenario']}': {s['runs']} runs (seeds {s['seeds']}), "
                 f"{int(s['confidence'] * 100)} % intervals"]
        labels = {
            "overspend": "overspend (any day or the total)",
            "miss_goal": "miss the goal",
            "under_delivery": f"spend < {s['under_delivery']:.0%} of budget",
            "exhausted_before": f"budget runs out before {s['before']} on some day",
            "exhausted_before_share": f"days the budget runs out before {s['before']}",
            "exhausted": "budget runs out on some day",
        }
        for campaign in self.probabilities["campaign"].unique():
            lines.append("")
            lines.append(f"campaign {campaign}")
            for _, r in self.probabilities[self.probabilities["campaign"] == campaign].iterrows():
                if r["event"] == "miss_goal" and r["note"] == "no goal":
                    lines.append(f"  P({labels['miss_goal']}): n/a (the campaign has no CPA or ROAS goal)")
                    continue
                interval = f"[{r['lo']:.3f}, {r['hi']:.3f}]"
                kind = "mean share, ±SE" if r["event"] == "exhausted_before_share" else f"{r['count']}/{r['runs']}"
                note = f"  ({r['note']})" if r["note"] else ""
                lines.append(f"  P({labels.get(r['event'], r['event'])}) = {r['p']:.3f} {interval}  {kind}{note}")
            q = self.quantiles[self.quantiles["campaign"] == campaign]
            qcols = [c for c in q.columns if c.startswith("q")]
            for _, r in q.iterrows():
                parts = ", ".join(f"{c[1:]}% {r[c]:.4g}" for c in qcols)
                lines.append(f"  {r['metric']:<12} mean {r['mean']:.4g}; {parts}; CVaR{int(s['alpha'] * 100)} "
                             f"{r['cvar']:.4g} ({r['tail']} tail, {r['tail_runs']} runs)")
            w = self.worst[self.worst["campaign"] == campaign]
            if len(w):
                lines.append("  worst runs: " + "; ".join(
                    f"seed {int(r['seed'])} ({r['metric']} {r['value']:.4g})" for _, r in w.iterrows()))
                lines.append(f"  replay: {w['replay'].iloc[0]}")
        if self.warnings:
            lines.append("")
            lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        s = self.settings
        return f"<RiskReport {s['scenario']!r}: {s['runs']} runs, {len(self.warnings)} warning(s)>"


def _seed_list(runs: Optional[int], seeds: Optional[Sequence[int]], first_seed: int) -> List[int]:
    if seeds is not None:
        out = [int(x) for x in seeds]
        if runs is not None and runs != len(out):
            raise ConfigError(f"runs={runs} but {len(out)} seeds were given")
    else:
        if runs is None or int(runs) < 1:
            raise ConfigError(f"runs: expected a positive number of runs, got {runs}")
        out = list(range(first_seed, first_seed + int(runs)))
    if len(out) < 2:
        raise ConfigError("runs: at least 2 runs are needed to estimate anything with an uncertainty")
    if len(set(out)) != len(out):
        raise ConfigError("seeds: every seed must be different (a repeated seed repeats the same run)")
    return out


def _scenario_label(scenario: ScenarioLike) -> Tuple[str, Optional[str]]:
    """(label, path or None) of the scenario, for the report and the replay command."""
    if scenario is None:
        return "<default>", None
    if isinstance(scenario, Mapping):
        return str(scenario.get("name", "<dict>")), None
    from ._run import _scenario_args

    _, _, path = _scenario_args(scenario)
    return (path, path) if path else ("<string>", None)


def risk(
    scenario: ScenarioLike = None,
    runs: Optional[int] = None,
    *,
    seeds: Optional[Sequence[int]] = None,
    first_seed: int = 1,
    campaign: Optional[str] = None,
    under_delivery: float = 0.9,
    before: str = "18:00",
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
    alpha: float = 0.1,
    confidence: float = 0.95,
    worst: int = 3,
    workers: int = 1,
    progress: bool = False,
) -> RiskReport:
    """Pre-launch risk of a plan, from `runs` runs of `scenario` on seeds first_seed, first_seed + 1, ...
    (or the given `seeds`).

    Per campaign (or only `campaign`): the probability of overspending (zero
    by construction, computed from the ledger's daily rows, not assumed), of
    missing the campaign's CPA or ROAS goal (reported conversions), of
    under-delivery (spend < `under_delivery` x budget), of the budget running
    out before the clock time `before` on some day (and the share of days it
    does), each with a Wilson interval at `confidence`; mean, `quantiles` and
    CVaR at `alpha` (the mean of the worst ceil(alpha N) runs) of CPA, ROAS,
    conversions and spend; the `worst` runs with their seeds. Warnings say
    when N is too small for the tail asked (docs/risk.md).
    """
    if not 0 < under_delivery <= 1:
        raise ConfigError(f"under_delivery: expected a fraction of the budget in (0, 1], got {under_delivery}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha: expected a tail fraction in (0, 1), got {alpha}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence: expected a level in (0, 1), got {confidence}")
    if any(not 0 < q < 1 for q in quantiles):
        raise ConfigError(f"quantiles: expected levels in (0, 1), got {list(quantiles)}")
    before_hour = _parse_clock(before)
    seed_list = _seed_list(runs, seeds, first_seed)
    label, path = _scenario_label(scenario)
    runs_df, kpis, days = _per_run(scenario, seed_list, None, workers, progress)
    names = list(dict.fromkeys(kpis["campaign"]))
    if campaign is not None:
        if campaign not in names:
            raise ConfigError(f"campaign: no campaign '{campaign}' in {label}; campaigns: {', '.join(names)}")
        names = [campaign]
        kpis = kpis[kpis["campaign"] == campaign].reset_index(drop=True)
        days = days[days["campaign"] == campaign].reset_index(drop=True)
    n = len(seed_list)
    # Per run x campaign events.
    kpis = kpis.copy()
    kpis["miss_goal"] = missed_goal(kpis)
    finite_budget = np.isfinite(kpis["budget"]) & (kpis["budget"] > 0)
    kpis["under_delivery"] = finite_budget & (kpis["spend"] < under_delivery * kpis["budget"])
    days = days.copy()
    days["exhausted_before"] = days["exhausted_hour"] < before_hour
    per_run_days = days.groupby(["run", "campaign"], sort=False).agg(
        exhausted=("budget_exhausted", lambda x: bool((x >= 0).any())),
        exhausted_before=("exhausted_before", "any"),
        share_before=("exhausted_before", "mean"))
    kpis = kpis.merge(per_run_days, left_on=["run", "campaign"], right_index=True, how="left")
    warnings: List[str] = []
    probability_rows = []
    for name in names:
        k = kpis[kpis["campaign"] == name]
        goal = str(k["goal"].iloc[0])
        never: List[str] = []  # events counted 0 times (overspend aside: zero by construction)
        always: List[str] = []
        for event in ("overspend", "miss_goal", "under_delivery", "exhausted", "exhausted_before"):
            note = ""
            if event == "miss_goal" and goal == "none":
                probability_rows.append({"campaign": name, "event": event, "count": 0, "runs": n, "p": math.nan,
                                         "lo": math.nan, "hi": math.nan, "se": math.nan, "note": "no goal"})
                continue
            if event == "under_delivery" and not finite_budget[k.index].any():
                note = "no finite budget: never under-delivers"
            count = int(k[event].fillna(False).astype(bool).sum())
            p = count / n
            lo, hi = wilson_interval(count, n, confidence)
            if count == 0:
                bound = zero_count_bound(n, confidence)
                note = note or f"0/{n}: p < {bound:.3f} at {confidence:.0%} (rule of three, 3/N = {3 / n:.3f})"
                if event != "overspend":
                    never.append(event)
            elif count == n:
                bound = zero_count_bound(n, confidence)
                note = f"{n}/{n}: p > {1 - bound:.3f} at {confidence:.0%} (rule of three)"
                always.append(event)
            probability_rows.append({"campaign": name, "event": event, "count": count, "runs": n, "p": p,
                                     "lo": lo, "hi": hi, "se": math.sqrt(p * (1 - p) / n), "note": note})
        bound = zero_count_bound(n, confidence)
        if never:
            warnings.append(f"{name}: P({', '.join(never)}) estimated 0 from {n} runs; with {confidence:.0%} "
                            f"confidence each is below {bound:.3f} (about 3/N = {3 / n:.3f}); resolving a "
                            f"probability p needs N well above 3/p")
        if always:
            warnings.append(f"{name}: P({', '.join(always)}) estimated 1 from {n} runs; each can still be as low "
                            f"as {1 - bound:.3f} ({confidence:.0%})")
        # The share of days (a mean over runs of each run's share: runs are independent, days are not).
        share = k["share_before"].astype(float).to_numpy()
        mean_share = float(np.nanmean(share)) if np.isfinite(share).any() else math.nan
        se_share = float(np.nanstd(share, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        z = _z(confidence)
        probability_rows.append({"campaign": name, "event": "exhausted_before_share", "count": -1, "runs": n,
                                 "p": mean_share, "lo": max(0.0, mean_share - z * se_share),
                                 "hi": min(1.0, mean_share + z * se_share), "se": se_share,
                                 "note": "mean over runs of the share of days; normal interval"})
    probabilities = pd.DataFrame(probability_rows)
    # Quantiles and CVaR.
    quantile_rows = []
    for name in names:
        k = kpis[kpis["campaign"] == name]
        thin: List[str] = []
        extreme: List[str] = []
        thin_runs = 0
        for metric, bad in _BAD_DIRECTION.items():
            values = k[metric].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            row: Dict[str, Any] = {"campaign": name, "metric": metric, "runs": int(len(finite)),
                                   "mean": float(np.mean(finite)) if len(finite) else math.nan}
            for q in quantiles:
                row[f"q{q * 100:g}"] = float(np.quantile(finite, q)) if len(finite) else math.nan
            # Infinite CPA (spend, no conversion) is the worst outcome: kept in the tail.
            value, tail = cvar(values[~np.isnan(values)], alpha, bad)
            row.update({"cvar": value, "tail": "high" if bad > 0 else "low", "tail_runs": tail})
            if len(finite) < len(values):
                row["note"] = f"{len(values) - len(finite)} run(s) with an undefined or infinite {metric}"
            else:
                row["note"] = ""
            quantile_rows.append(row)
            if tail < _MIN_TAIL_RUNS:
                thin.append(metric)
                thin_runs = tail
            if len(finite) and (min(quantiles) * len(finite) < 1 or (1 - max(quantiles)) * len(finite) < 1):
                extreme.append(metric)
        if thin:
            warnings.append(f"{name}: CVaR{alpha * 100:g} of {', '.join(thin)} averages only {thin_runs} run(s) "
                            f"(alpha x N = {alpha * n:g}); at least {_MIN_TAIL_RUNS} are needed for a stable tail "
                            f"mean, i.e. N >= {math.ceil(_MIN_TAIL_RUNS / alpha)}")
        if extreme:
            warnings.append(f"{name}: the {min(quantiles):g}/{max(quantiles):g} quantiles of {', '.join(extreme)} are "
                            f"the extreme runs: more runs are needed to estimate them")
    quantile_frame = pd.DataFrame(quantile_rows)
    # The worst runs: by the goal's metric, else conversions.
    worst_rows = []
    for name in names:
        k = kpis[kpis["campaign"] == name]
        goal = str(k["goal"].iloc[0])
        metric = goal if goal in ("cpa", "roas") else "conversions"
        ascending = _BAD_DIRECTION[metric] < 0
        ordered = k.assign(_key=k[metric].fillna(-math.inf if ascending else math.inf)).sort_values(
            ["_key", "seed"], ascending=[ascending, True], kind="mergesort")
        for rank, (_, r) in enumerate(ordered.head(worst).iterrows(), 1):
            seed = int(r["seed"])
            replay = (f"adsim run {path} --seed {seed}" if path else f"adsim.run(scenario, seed={seed})")
            worst_rows.append({"campaign": name, "rank": rank, "seed": seed, "run": int(r["run"]),
                               "metric": metric, "value": float(r[metric]), "spend": float(r["spend"]),
                               "conversions": float(r["conversions"]), "replay": replay})
    worst_frame = pd.DataFrame(worst_rows, columns=["campaign", "rank", "seed", "run", "metric", "value", "spend",
                                                    "conversions", "replay"])
    seeds_text = (f"{seed_list[0]}-{seed_list[-1]}" if seed_list == list(range(seed_list[0], seed_list[-1] + 1))
                  else ",".join(map(str, seed_list)))
    settings = {"scenario": label, "runs": n, "seeds": seeds_text, "campaign": campaign,
                "under_delivery": under_delivery, "before": before, "quantiles": list(quantiles), "alpha": alpha,
                "confidence": confidence}
    return RiskReport(runs=runs_df.drop(columns=["variation"]), kpis=kpis.drop(columns=["variation"]),
                      days=days.drop(columns=["variation"]), probabilities=probabilities,
                      quantiles=quantile_frame, worst=worst_frame, warnings=warnings, settings=settings)


# ---- what-if: two plans on the same seeds ------------------------------------


class WhatIfReport:
    """What :func:`adsim.what_if` found. ``differences``: one row per campaign (and ``(all)``, the
    account) x metric: mean of each plan, the paired difference b - a with its SE and confidence
    interval (t over seeds), the unpaired SE of the same difference (as if the plans had run on
    independent seeds), their ratio, the variance reduction (unpaired / paired variance) and the
    correlation of the plans' per-seed values. ``kpis``: per run x campaign, both plans."""

    def __init__(self, differences: pd.DataFrame, kpis: pd.DataFrame, runs: pd.DataFrame,
                 settings: Dict[str, Any]) -> None:
        self.differences = differences
        self.kpis = kpis
        self.runs = runs
        self.settings = settings

    def summary(self) -> str:
        """A printable table of the paired differences and the common-random-numbers gain."""
        s = self.settings
        lines = [f"What-if '{s['b']}' - '{s['a']}' on {s['runs']} common seeds ({s['seeds']}), "
                 f"{int(s['confidence'] * 100)} % CIs (paired t)"]
        for _, r in self.differences.iterrows():
            lines.append(
                f"  {r['campaign']:<20} {r['metric']:<16} {r['mean_a']:>12.4g} -> {r['mean_b']:<12.4g} "
                f"diff {r['difference']:+.4g} [{r['lo']:+.4g}, {r['hi']:+.4g}]  SE paired {r['se_paired']:.3g} "
                f"unpaired {r['se_unpaired']:.3g} (x{r['se_ratio']:.2f}, corr {r['correlation']:+.2f})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<WhatIfReport {self.settings['a']!r} vs {self.settings['b']!r}: {self.settings['runs']} seeds>"


def paired_difference(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> Dict[str, float]:
    """Paired b - a over common seeds: mean, SE, t interval; the unpaired SE (Welch's, from the two
    plans' own variances), their ratio and the correlation."""
    from scipy import stats

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n < 2:
        return {"n": n, "mean_a": math.nan, "mean_b": math.nan, "difference": math.nan, "se_paired": math.nan,
                "lo": math.nan, "hi": math.nan, "se_unpaired": math.nan, "se_ratio": math.nan,
                "variance_reduction": math.nan, "correlation": math.nan}
    d = b - a
    se_paired = float(np.std(d, ddof=1) / math.sqrt(n))
    se_unpaired = float(math.sqrt(np.var(a, ddof=1) / n + np.var(b, ddof=1) / n))
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = float(np.corrcoef(a, b)[0, 1]) if np.std(a) > 0 and np.std(b) > 0 else math.nan
        ratio = se_unpaired / se_paired if se_paired > 0 else math.inf
    return {"n": n, "mean_a": float(a.mean()), "mean_b": float(b.mean()), "difference": float(d.mean()),
            "se_paired": se_paired, "lo": float(d.mean() - t * se_paired), "hi": float(d.mean() + t * se_paired),
            "se_unpaired": se_unpaired, "se_ratio": ratio, "variance_reduction": ratio * ratio,
            "correlation": correlation}


def what_if(
    scenario: ScenarioLike,
    plans: Mapping[str, Optional[Patch]],
    runs: Optional[int] = None,
    *,
    seeds: Optional[Sequence[int]] = None,
    first_seed: int = 1,
    metrics: Sequence[str] = ("spend", "conversions", "true_conversions", "value", "cpa", "roas"),
    confidence: float = 0.95,
    workers: int = 1,
    progress: bool = False,
) -> WhatIfReport:
    """Compares two plans on the same seeds: ``plans = {"a": patch_a, "b": patch_b}`` (dict patches
    as in :func:`apply_patch`, a callable, or None for the scenario as is). Every seed runs under
    both plans (common random numbers), so the paired difference b - a has a smaller SE than
    independent runs would give; the report states both SEs and their ratio."""
    if len(plans) != 2:
        raise ConfigError(f"plans: expected exactly two plans (name: patch), got {len(plans)}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence: expected a level in (0, 1), got {confidence}")
    seed_list = _seed_list(runs, seeds, first_seed)
    runs_df, kpis, _ = _per_run(scenario, seed_list, plans, workers, progress)
    a_name, b_name = list(plans)
    unknown = [m for m in metrics if m not in kpis.columns]
    if unknown:
        raise ConfigError(f"metrics: unknown {unknown}; choose from spend, conversions, true_conversions, value, "
                          "true_value, cpa, roas, budget_used")
    totals = kpis.groupby(["variation", "seed"], sort=False)[["spend", "conversions", "true_conversions", "value",
                                                               "true_value"]].sum().reset_index()
    totals["campaign"] = "(all)"
    totals["cpa"] = (totals["spend"] / totals["conversions"]).where(totals["conversions"] > 0)
    totals["roas"] = (totals["value"] / totals["spend"]).where(totals["spend"] > 0)
    totals["budget_used"] = math.nan
    both = pd.concat([kpis, totals], ignore_index=True)
    rows = []
    for name in list(dict.fromkeys(kpis["campaign"])) + ["(all)"]:
        part = both[both["campaign"] == name]
        a = part[part["variation"] == a_name].set_index("seed").reindex(seed_list)
        b = part[part["variation"] == b_name].set_index("seed").reindex(seed_list)
        for metric in metrics:
            stats_row = paired_difference(a[metric].to_numpy(), b[metric].to_numpy(), confidence)
            rows.append({"campaign": name, "metric": metric, **stats_row})
    seeds_text = (f"{seed_list[0]}-{seed_list[-1]}" if seed_list == list(range(seed_list[0], seed_list[-1] + 1))
                  else ",".join(map(str, seed_list)))
    settings = {"a": a_name, "b": b_name, "runs": len(seed_list), "seeds": seeds_text, "confidence": confidence}
    return WhatIfReport(pd.DataFrame(rows), kpis, runs_df, settings)


#: Another name for :func:`what_if`.
compare_plans = what_if
