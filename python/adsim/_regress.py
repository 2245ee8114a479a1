"""Strategy regression checks: the baseline file, the paired tests, the per-seed runs.

Owns: the baseline file format (docs/regression.md), reading and writing it;
applying a strategy patch to a scenario; running cases over a fixed seed set
(``_per_run``, the one place that runs many seeds, through
``adsim.sweep``); the paired one-sided test ("not worse") and
TOST ("equivalent") on per-seed values; and the comparison of a rerun with a
baseline that ``adsim regress`` and the pytest fixture of ``adsim.testing``
report.
"""

from __future__ import annotations

import copy
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ._errors import ConfigError, DataError

#: Version of the baseline file format (the ``format`` field).
BASELINE_FORMAT = 1

#: Which way is worse for each KPI: +1 = higher is worse (costs), -1 = lower is
#: worse (outcomes); KPIs not listed have no direction and are only reported.
DIRECTIONS: Dict[str, int] = {
    "cpa": +1,
    "cpc": +1,
    "cpm": +1,
    "conversions": -1,
    "value": -1,
    "roas": -1,
    "clicks": -1,
    "impressions": -1,
    "ctr": -1,
    "cvr": -1,
    "true_conversions": -1,
    "true_value": -1,
}

#: The KPIs a baseline stores when it does not list its own.
DEFAULT_METRICS = ["spend", "conversions", "value", "cpa", "roas"]

#: Every KPI column _per_run gives per run x campaign.
KPI_COLUMNS = ["opportunities", "bids", "wins", "impressions", "clicks", "conversions", "spend", "value", "ctr",
               "cvr", "cpc", "cpm", "cpa", "roas", "budget", "budget_used", "true_conversions", "true_value"]

Scenario = Union[str, os.PathLike, Dict[str, Any], None]
#: Per-seed values: a sequence or a numpy array, in seed order.
Values = Union[Sequence[float], np.ndarray]


# ---------------------------------------------------------------- patches


_STEP = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def _path_steps(path: str) -> List[Union[str, int]]:
    """``campaigns[0].bidder`` -> ["campaigns", 0, "bidder"]; ``campaigns[brand]`` selects by name."""
    steps: List[Union[str, int]] = []
    position = 0
    for match in _STEP.finditer(path):
        between = path[position:match.start()]
        if between not in ("", "."):
            raise ConfigError(f"strategy patch: cannot read the field path '{path}' at '{between}'")
        position = match.end()
        key, index = match.group(1), match.group(2)
        if key is not None:
            steps.append(key)
        else:
            steps.append(int(index) if re.fullmatch(r"-?\d+", index) else f"[{index}]")
    if position != len(path) or not steps:
        raise ConfigError(f"strategy patch: cannot read the field path '{path}' "
                          "(expected e.g. campaigns[0].bid or campaigns[brand].controllers)")
    return steps


def apply_patch(scenario: Dict[str, Any], patch: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """A copy of `scenario` (a dict) with each ``path: value`` of `patch` set.

    A path is dotted fields with list indices, ``campaigns[0].bidder``; an
    index may be a name (``campaigns[brand].controllers``), which selects the
    list entry with that ``name``. The value replaces what is there (or adds
    the field). Raises ConfigError naming the path when it does not lead
    anywhere.
    """
    result = copy.deepcopy(scenario)
    for path, value in (patch or {}).items():
        steps = _path_steps(str(path))
        node: Any = result
        for depth, step in enumerate(steps):
            last = depth == len(steps) - 1
            where = str(path) if last else "".join(
                f"[{s}]" if isinstance(s, int) else (s if s.startswith("[") else f".{s}") for s in steps[:depth + 1]
            ).lstrip(".")
            if isinstance(step, str) and step.startswith("["):
                name = step[1:-1]
                if not isinstance(node, list):
                    raise ConfigError(f"strategy patch '{path}': '{where}' selects by name in something not a list")
                matches = [i for i, entry in enumerate(node) if isinstance(entry, dict) and entry.get("name") == name]
                if not matches:
                    names = [entry.get("name") for entry in node if isinstance(entry, dict)]
                    raise ConfigError(f"strategy patch '{path}': no entry named '{name}'; names: {names}")
                step = matches[0]
            if isinstance(step, int):
                if not isinstance(node, list) or not -len(node) <= step < len(node):
                    size = len(node) if isinstance(node, list) else "not a list"
                    raise ConfigError(f"strategy patch '{path}': index {step} out of range ({size})")
            elif not isinstance(node, dict):
                raise ConfigError(f"strategy patch '{path}': '{where}' is not a mapping")
            if last:
                node[step] = copy.deepcopy(value)
            else:
                if isinstance(step, str) and step not in node:
                    node[step] = {}
                node = node[step]
    return result


def load_scenario(scenario: Scenario, base_dir: Optional[str] = None) -> Dict[str, Any]:
    """A scenario as a dict: None (the embedded default), a dict, a YAML/JSON path (relative to
    `base_dir` when given) or YAML/JSON text."""
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    from ._run import default_scenario

    if scenario is None or scenario == "default":
        loaded_default: Dict[str, Any] = default_scenario(as_dict=True)  # type: ignore[assignment]
        return loaded_default
    if isinstance(scenario, dict):
        return copy.deepcopy(scenario)
    text = os.fspath(scenario)
    candidate = os.path.join(base_dir, text) if base_dir and not os.path.isabs(text) else text
    if "\n" not in text and (os.path.exists(candidate) or text.endswith((".yaml", ".yml", ".json"))):
        try:
            with open(candidate, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise ConfigError(f"scenario '{candidate}': cannot be read: {error.strerror}") from None
        where = candidate
    else:
        where = "<string>"
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"scenario {where}: not valid YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"scenario {where}: expected a mapping of scenario fields, found {type(loaded).__name__}")
    return loaded


# ---------------------------------------------------------------- runs


def _per_run(scenario: Scenario, seeds: Sequence[int], variations: Optional[Mapping[str, Mapping[str, Any]]] = None,
             workers: int = 1, progress: bool = False) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Runs `scenario` under each variation (name -> strategy patch; None = the scenario as is,
    named "base") on every seed. Returns (runs, kpis):

    - runs: one row per run: run, variation, seed, fingerprint;
    - kpis: one row per run x campaign: run, variation, seed, campaign (name), then the columns of
      Result.kpis() (spend, conversions, value, cpa, roas, budget, budget_used, ...) and
      true_conversions, true_value (from campaign_truth).

    These are ``adsim.sweep(...).runs`` / ``.kpis``: the runs go through the sweep engine (C++
    threads with the GIL released; the same numbers whatever `workers` is), each variation's
    patch applied in this module's path syntax (`apply_patch`).
    """
    from ._sweep import sweep

    base = load_scenario(scenario)
    variations = dict(variations) if variations else {"base": {}}
    patched = {name: (lambda _scenario, patch=patch: apply_patch(base, patch)) for name, patch in variations.items()}
    done = sweep(base, seeds=[int(seed) for seed in seeds], variations=patched, workers=max(1, int(workers)),
                 progress=bool(progress))
    runs = done.runs[["run", "variation", "seed", "fingerprint"]].reset_index(drop=True)
    kpis = done.kpis
    columns = ["run", "variation", "seed", "campaign"] + [c for c in KPI_COLUMNS if c in kpis.columns]
    missing = [c for c in KPI_COLUMNS if c not in kpis.columns]
    if missing:
        raise RuntimeError(f"adsim.sweep(...).kpis lacks the columns {missing} that regress compares")
    return runs, kpis[columns].reset_index(drop=True)


def account_total(kpis: pd.DataFrame) -> pd.DataFrame:
    """Per-run account totals of a _per_run kpis frame (campaign "total"): sums, ratios recomputed."""
    keys = ["run", "variation", "seed"]
    sums = kpis.groupby(keys, sort=True)[["opportunities", "bids", "wins", "impressions", "clicks", "conversions",
                                          "spend", "value", "budget", "true_conversions", "true_value"]].sum(
        min_count=1).reset_index()
    sums.insert(3, "campaign", "total")

    def ratio(num: str, den: str, scale: float = 1.0) -> pd.Series:
        return (scale * sums[num].astype(float) / sums[den].astype(float)).where(sums[den] > 0)

    sums["ctr"], sums["cvr"] = ratio("clicks", "impressions"), ratio("conversions", "clicks")
    sums["cpc"], sums["cpm"] = ratio("spend", "clicks"), ratio("spend", "impressions", 1000.0)
    sums["cpa"], sums["roas"] = ratio("spend", "conversions"), ratio("value", "spend")
    finite = np.isfinite(sums["budget"]) & (sums["budget"] > 0)
    sums["budget_used"] = (sums["spend"] / sums["budget"]).where(finite)
    return sums[keys + ["campaign"] + KPI_COLUMNS]


# ---------------------------------------------------------------- statistics


@dataclass
class Comparison:
    """A paired comparison of per-seed values: difference = candidate - baseline, seed by seed."""

    metric: str
    n: int  # pairs where both values are defined
    baseline_mean: float
    candidate_mean: float
    mean_diff: float
    se: float  # standard error of the mean paired difference
    ci_low: float  # two-sided (1 - 2 alpha) interval of the mean difference
    ci_high: float
    p: float  # one-sided p-value (not worse) or the larger TOST p-value (equivalent)
    alpha: float
    verdict: str  # "worse", "ok", "no direction", "equivalent", "not equivalent", "too few seeds"
    dropped: int = 0  # pairs dropped because a value is NaN (e.g. CPA without conversions)
    direction: int = 0

    @property
    def relative(self) -> float:
        return self.mean_diff / abs(self.baseline_mean) if self.baseline_mean else math.nan

    def describe(self) -> str:
        rel = f" ({100 * self.relative:+.2f}%)" if math.isfinite(self.relative) else ""
        level = 100 * (1 - 2 * self.alpha)
        dropped = f", {self.dropped} seed(s) without a value dropped" if self.dropped else ""
        return (f"{self.metric}: {self.baseline_mean:.6g} -> {self.candidate_mean:.6g}, mean diff "
                f"{self.mean_diff:+.6g}{rel}, {level:g}% CI [{self.ci_low:+.6g}, {self.ci_high:+.6g}], "
                f"SE {self.se:.3g}, p = {self.p:.3g}, n = {self.n}{dropped}: {self.verdict}")


def _pairs(candidate: Values, baseline: Values) -> Tuple[np.ndarray, np.ndarray, int]:
    c = np.asarray(candidate, dtype=float)
    b = np.asarray(baseline, dtype=float)
    if c.shape != b.shape:
        raise ValueError(f"paired comparison needs one value per seed on both sides; found {len(c)} and {len(b)}")
    keep = np.isfinite(c) & np.isfinite(b)
    return c[keep], b[keep], int((~keep).sum())


def _moments(c: np.ndarray, b: np.ndarray) -> Tuple[float, float]:
    d = c - b
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan
    return mean, se


def not_worse(candidate: Values, baseline: Values, metric: str, alpha: float = 0.05,
              direction: Optional[int] = None) -> Comparison:
    """One-sided paired t-test on d_i = candidate_i - baseline_i (same seeds).

    With `direction` +1 (higher is worse, e.g. CPA) the null hypothesis is
    "mean d <= 0", with -1 (lower is worse) "mean d >= 0"; the verdict is
    "worse" when the null is rejected at `alpha`, i.e. the difference is
    beyond t_{1-alpha, n-1} standard errors of the paired mean. A
    difference that is exactly constant (SE 0) is worse if it goes the
    wrong way at all. `direction` 0 only reports.
    """
    from scipy import stats

    direction = DIRECTIONS.get(metric, 0) if direction is None else direction
    c, b, dropped = _pairs(candidate, baseline)
    n = len(c)
    if n < 2:
        return Comparison(metric, n, float(b.mean()) if n else math.nan, float(c.mean()) if n else math.nan,
                          math.nan, math.nan, math.nan, math.nan, math.nan, alpha, "too few seeds", dropped, direction)
    mean, se = _moments(c, b)
    quantile = float(stats.t.ppf(1 - alpha, n - 1))
    low, high = mean - quantile * se, mean + quantile * se
    if not direction:
        p = math.nan
    elif se > 0:
        p = float(stats.t.sf(direction * mean / se, n - 1))
    else:  # every seed moved by exactly the same amount (0 when nothing changed)
        p = 0.0 if direction * mean > 0 else 1.0
    verdict = "no direction" if not direction else ("worse" if p < alpha else "ok")
    return Comparison(metric, n, float(b.mean()), float(c.mean()), mean, se, low, high, p, alpha, verdict, dropped,
                      direction)


def equivalent(candidate: Values, baseline: Values, metric: str, margin: float,
               alpha: float = 0.05) -> Comparison:
    """TOST on paired differences: equivalent when both one-sided tests reject at `alpha`, i.e. the
    (1 - 2 alpha) confidence interval of the mean difference lies inside (-margin, +margin)."""
    from scipy import stats

    if not margin > 0:
        raise ValueError(f"assert_equivalent: margin must be > 0 (in {metric}'s units), found {margin}")
    c, b, dropped = _pairs(candidate, baseline)
    n = len(c)
    if n < 2:
        return Comparison(metric, n, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan, alpha,
                          "too few seeds", dropped)
    mean, se = _moments(c, b)
    quantile = float(stats.t.ppf(1 - alpha, n - 1))
    if se > 0:
        p = max(float(stats.t.sf((mean + margin) / se, n - 1)), float(stats.t.sf((margin - mean) / se, n - 1)))
    else:
        p = 0.0 if abs(mean) < margin else 1.0
    verdict = "equivalent" if p < alpha else "not equivalent"
    return Comparison(metric, n, float(b.mean()), float(c.mean()), mean, se, mean - quantile * se,
                      mean + quantile * se, p, alpha, verdict, dropped)


# ---------------------------------------------------------------- baseline file


@dataclass
class Case:
    """A named scenario + strategy patch of a baseline, and what it recorded."""

    name: str
    scenario: str  # as written in the file: a path relative to the baseline, or "default"
    strategy: Dict[str, Any] = field(default_factory=dict)
    fingerprints: Dict[int, str] = field(default_factory=dict)
    # campaign -> metric -> per-seed values (in the order of Baseline.seeds)
    values: Dict[str, Dict[str, List[float]]] = field(default_factory=dict)


@dataclass
class Baseline:
    path: str
    seeds: List[int]
    metrics: List[str]
    cases: List[Case]
    adsim_version: str = ""
    note: str = ""
    alpha: float = 0.05

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))


def _expect(condition: bool, path: str, where: str, expected: str, found: Any) -> None:
    if not condition:
        raise DataError(f"baseline '{path}': {where}: expected {expected}, found {found!r}")


def read_baseline(path: Union[str, os.PathLike]) -> Baseline:
    """Reads and checks a baseline file; errors name the file, the field and what was expected."""
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as error:
        from ._errors import IoError

        raise IoError(f"baseline '{path}': cannot be read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise DataError(f"baseline '{path}': not valid YAML: {error}") from None
    _expect(isinstance(data, dict), path, "top level", "a mapping (format, seeds, cases, ...)", type(data).__name__)
    _expect(data.get("format") == BASELINE_FORMAT, path, "format", f"{BASELINE_FORMAT}", data.get("format"))
    seeds = data.get("seeds")
    _expect(isinstance(seeds, list) and len(seeds) >= 2 and all(isinstance(s, int) for s in seeds), path, "seeds",
            "a list of at least 2 whole numbers", seeds)
    _expect(len(set(seeds)) == len(seeds), path, "seeds", "distinct seeds", seeds)
    metrics = data.get("metrics", DEFAULT_METRICS)
    _expect(isinstance(metrics, list) and bool(metrics) and all(m in KPI_COLUMNS for m in metrics), path, "metrics",
            f"a list of KPI names among {KPI_COLUMNS}", metrics)
    alpha = data.get("alpha", 0.05)
    _expect(isinstance(alpha, (int, float)) and 0 < alpha < 0.5, path, "alpha", "a number in (0, 0.5)", alpha)
    cases_data = data.get("cases")
    _expect(isinstance(cases_data, list) and bool(cases_data), path, "cases", "a non-empty list of cases", cases_data)
    cases: List[Case] = []
    for i, entry in enumerate(cases_data):
        where = f"cases[{i}]"
        _expect(isinstance(entry, dict), path, where, "a mapping with name, scenario, strategy", entry)
        name = entry.get("name")
        _expect(isinstance(name, str) and name != "", path, f"{where}.name", "a name", name)
        _expect(name not in [c.name for c in cases], path, f"{where}.name", "a name no other case has", name)
        scenario = entry.get("scenario", "default")
        _expect(isinstance(scenario, str), path, f"{where}.scenario", "a scenario file (relative to the baseline) "
                "or 'default'", scenario)
        strategy = entry.get("strategy") or {}
        _expect(isinstance(strategy, dict), path, f"{where}.strategy", "a mapping of field path -> value", strategy)
        fingerprints = entry.get("fingerprints") or {}
        _expect(isinstance(fingerprints, dict), path, f"{where}.fingerprints", "a mapping seed -> fingerprint",
                fingerprints)
        kpis = entry.get("kpis") or {}
        _expect(isinstance(kpis, dict), path, f"{where}.kpis", "a mapping campaign -> metric -> summary", kpis)
        values: Dict[str, Dict[str, List[float]]] = {}
        for campaign, per_metric in kpis.items():
            _expect(isinstance(per_metric, dict), path, f"{where}.kpis.{campaign}", "a mapping metric -> summary",
                    per_metric)
            values[str(campaign)] = {}
            for metric, summary in per_metric.items():
                at = f"{where}.kpis.{campaign}.{metric}"
                _expect(isinstance(summary, dict) and isinstance(summary.get("per_seed"), list), path, at,
                        "{mean, se, per_seed: [one value per seed]}", summary)
                per_seed = summary["per_seed"]
                _expect(len(per_seed) == len(seeds), path, f"{at}.per_seed", f"{len(seeds)} values (one per seed)",
                        len(per_seed))
                try:
                    values[str(campaign)][str(metric)] = [math.nan if v is None else float(v) for v in per_seed]
                except (TypeError, ValueError):
                    _expect(False, path, f"{at}.per_seed", "numbers (or null for an undefined value)", per_seed)
        cases.append(Case(name, scenario, strategy, {int(k): str(v) for k, v in fingerprints.items()}, values))
    return Baseline(path, [int(s) for s in seeds], [str(m) for m in metrics], cases,
                    str(data.get("adsim_version", "")), str(data.get("note", "") or ""), float(alpha))


def _number(value: float) -> str:
    """A float as YAML: shortest round-trip repr; null for NaN (undefined); .inf for infinity."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _short(value: float) -> str:
    """A summary number for the reader (6 significant digits); the tests use the exact per-seed values."""
    if not math.isfinite(value):
        return _number(value)
    return f"{value:.6g}"


def _flow(value: Any) -> str:
    """A value on one line (YAML flow style, JSON-compatible)."""
    import json

    return json.dumps(value, sort_keys=False, separators=(", ", ": "))


def write_baseline(baseline: Baseline) -> None:
    """Writes `baseline` as readable YAML: one KPI per line, seeds and fingerprints one per line.
    Written to a temporary file renamed into place, so a failure leaves the old file whole."""
    lines = [
        "# adsim strategy regression baseline (docs/regression.md). Written by `adsim regress --update`;",
        "# review changes to it as a diff: each KPI is one line (mean, standard error, one value per seed).",
        f"format: {BASELINE_FORMAT}",
        f"adsim_version: {_flow(baseline.adsim_version)}",
        f"note: {_flow(baseline.note)}",
        f"alpha: {_number(baseline.alpha)}",
        f"seeds: [{', '.join(str(s) for s in baseline.seeds)}]",
        f"metrics: [{', '.join(baseline.metrics)}]",
        "cases:",
    ]
    for case in baseline.cases:
        lines.append(f"  - name: {_flow(case.name)}")
        lines.append(f"    scenario: {_flow(case.scenario)}")
        if case.strategy:
            lines.append("    strategy:")
            for key, value in case.strategy.items():
                lines.append(f"      {_flow(str(key))}: {_flow(value)}")
        else:
            lines.append("    strategy: {}")
        lines.append("    fingerprints:")
        for seed in baseline.seeds:
            lines.append(f"      {seed}: {_flow(case.fingerprints.get(seed, ''))}")
        lines.append("    kpis:")
        for campaign, per_metric in case.values.items():
            lines.append(f"      {_flow(campaign)}:")
            for metric in baseline.metrics:
                if metric not in per_metric:
                    continue
                values = np.asarray(per_metric[metric], dtype=float)
                finite = values[np.isfinite(values)]
                mean = float(finite.mean()) if len(finite) else math.nan
                se = float(finite.std(ddof=1) / math.sqrt(len(finite))) if len(finite) > 1 else math.nan
                per_seed = ", ".join(_number(v) for v in values)
                lines.append(f"        {metric}: {{mean: {_short(mean)}, se: {_short(se)}, per_seed: [{per_seed}]}}")
    text = "\n".join(lines) + "\n"
    temporary = f"{baseline.path}.tmp{os.getpid()}"
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, baseline.path)
    except OSError as error:
        from ._errors import IoError

        if os.path.exists(temporary):
            os.unlink(temporary)
        raise IoError(f"baseline '{baseline.path}': cannot be written: {error.strerror}") from None


# ---------------------------------------------------------------- rerun and compare


@dataclass
class CaseReport:
    name: str
    comparisons: Dict[str, List[Comparison]] = field(default_factory=dict)  # campaign -> comparisons
    fingerprint_changes: List[Tuple[int, str, str]] = field(default_factory=list)  # seed, baseline, now
    missing: List[str] = field(default_factory=list)  # what the baseline has and the rerun does not

    @property
    def worse(self) -> List[Tuple[str, Comparison]]:
        return [(campaign, c) for campaign, cs in self.comparisons.items() for c in cs if c.verdict == "worse"]


def rerun_case(baseline: Baseline, case: Case, workers: int = 1, progress: bool = False) -> Case:
    """Runs `case` on the baseline's seeds; returns a Case with the new fingerprints and values."""
    scenario = load_scenario(case.scenario, baseline.directory)
    runs, kpis = _per_run(scenario, baseline.seeds, {case.name: case.strategy}, workers=workers, progress=progress)
    fingerprints = dict(zip(runs["seed"].astype(int), runs["fingerprint"].astype(str)))
    values: Dict[str, Dict[str, List[float]]] = {}
    for campaign, rows in kpis.groupby("campaign", sort=False):
        rows = rows.set_index("seed").reindex(baseline.seeds)
        values[str(campaign)] = {m: rows[m].astype(float).tolist() for m in baseline.metrics}
    return Case(case.name, case.scenario, case.strategy, fingerprints, values)


def compare_case(baseline: Baseline, old: Case, new: Case, alpha: Optional[float] = None,
                 exact: bool = False) -> CaseReport:
    """Compares a rerun with the baseline: every metric with a direction by the paired one-sided test
    (or, with `exact`, every fingerprint)."""
    report = CaseReport(old.name)
    alpha = baseline.alpha if alpha is None else alpha
    if exact:
        for seed in baseline.seeds:
            before, now = old.fingerprints.get(seed, ""), new.fingerprints.get(seed, "")
            if before != now:
                report.fingerprint_changes.append((seed, before, now))
    if not old.values:
        report.missing.append("recorded KPIs: the baseline has none for this case (write them with --update)")
    for campaign, per_metric in old.values.items():
        if campaign not in new.values:
            report.missing.append(f"campaign '{campaign}'")
            continue
        report.comparisons[campaign] = [
            not_worse(new.values[campaign][metric], values, metric, alpha) for metric, values in per_metric.items()
            if metric in new.values[campaign]
        ]
    return report


def format_report(baseline: Baseline, reports: List[CaseReport], exact: bool) -> str:
    """The text `adsim regress` prints: per case and campaign, each KPI's change and verdict."""
    from . import __version__

    lines = [f"baseline {baseline.path}: {len(reports)} case(s), seeds {baseline.seeds[0]}..{baseline.seeds[-1]} "
             f"({len(baseline.seeds)}), written by adsim {baseline.adsim_version or '?'}, rerun with adsim {__version__}"]
    for report in reports:
        status = "FAIL" if report.worse or report.fingerprint_changes or report.missing else "ok"
        lines.append(f"case {report.name}: {status}")
        for message in report.missing:
            lines.append(f"  missing in the rerun: {message}")
        if exact:
            for seed, before, now in report.fingerprint_changes:
                lines.append(f"  seed {seed}: fingerprint {before or '(none)'} -> {now}")
            if not report.fingerprint_changes:
                lines.append(f"  fingerprints: all {len(baseline.seeds)} unchanged")
        for campaign, comparisons in report.comparisons.items():
            for comparison in comparisons:
                mark = "WORSE" if comparison.verdict == "worse" else "     "
                lines.append(f"  {mark} {campaign}.{comparison.describe()}")
    return "\n".join(lines)


def check(baseline: Baseline, only: Optional[Sequence[str]] = None, alpha: Optional[float] = None,
          exact: bool = False, workers: int = 1, progress: bool = False,
          rerun: Callable[..., Case] = rerun_case) -> List[CaseReport]:
    """Reruns the baseline's cases (those named in `only`, all by default) and compares them."""
    cases = select(baseline, only)
    return [compare_case(baseline, case, rerun(baseline, case, workers=workers, progress=progress), alpha, exact)
            for case in cases]


def select(baseline: Baseline, only: Optional[Sequence[str]]) -> List[Case]:
    if not only:
        return list(baseline.cases)
    names = [c.name for c in baseline.cases]
    unknown = [o for o in only if o not in names]
    if unknown:
        raise ConfigError(f"baseline '{baseline.path}': no case named {', '.join(unknown)}; cases: {', '.join(names)}")
    return [c for c in baseline.cases if c.name in only]


def update(baseline: Baseline, only: Optional[Sequence[str]] = None, workers: int = 1,
           progress: bool = False) -> Baseline:
    """Reruns the cases (all, or those in `only`) and rewrites the baseline file with the new values."""
    from . import __version__

    chosen = {c.name for c in select(baseline, only)}
    cases = [rerun_case(baseline, c, workers=workers, progress=progress) if c.name in chosen else c
             for c in baseline.cases]
    updated = Baseline(baseline.path, baseline.seeds, baseline.metrics, cases, __version__, baseline.note,
                       baseline.alpha)
    write_baseline(updated)
    return updated
