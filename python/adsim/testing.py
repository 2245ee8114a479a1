"""`adsim.testing`: one-line statistical assertions and a pytest plugin for strategy regression tests.

Owns ``assert_not_worse`` (one-sided paired test), ``assert_equivalent``
(TOST on paired differences) and the pytest fixture ``adsim_regression``
that checks a baseline file (docs/regression.md). Enable the fixture in a
test suite with ``pytest_plugins = ["adsim.testing"]`` in its conftest.py
(or ``-p adsim.testing`` on the command line).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _regress
from ._regress import Comparison

#: A side of a comparison: per-seed values (a pandas Series indexed by seed, or a sequence in
#: seed order), a scenario (path, YAML text or a dict with scenario fields), or a strategy patch
#: (a dict of field path -> value, applied to the `scenario` argument; None: the embedded default).
Side = Union[pd.Series, Sequence[float], str, os.PathLike, Dict[str, Any]]

_SCENARIO_KEYS = {"channels", "segments", "campaigns", "duration", "name", "seed"}


def _seed_list(seeds: Union[int, Sequence[int]]) -> List[int]:
    if isinstance(seeds, int):
        if seeds < 2:
            raise ValueError(f"seeds: a paired test needs at least 2 seeds, found {seeds}")
        return list(range(1, seeds + 1))
    return [int(s) for s in seeds]


def per_seed(side: Side, metric: str, seeds: Union[int, Sequence[int]] = 30, scenario: Any = None,
             campaign: Optional[str] = None, workers: int = 1) -> pd.Series:
    """`metric` per seed for one side (see :data:`Side`), as a Series indexed by seed.

    `campaign` names the campaign whose KPI counts; None means the account total when the
    scenario has several campaigns (sums, ratios recomputed) and the campaign when it has one.
    """
    if isinstance(side, pd.Series):
        return side.astype(float)
    if isinstance(side, (list, tuple)) or (hasattr(side, "__array__") and not isinstance(side, (str, dict))):
        values = [float(v) for v in side]  # type: ignore[union-attr]
        seed_list = _seed_list(seeds) if not isinstance(seeds, int) or seeds >= 2 else []
        index = seed_list if len(seed_list) == len(values) else list(range(1, len(values) + 1))
        return pd.Series(values, index=index, dtype=float)
    if isinstance(side, dict) and not (_SCENARIO_KEYS & set(side)):
        base, patch = scenario, side  # a strategy patch of `scenario`
    else:
        base, patch = side, {}
    seed_list = _seed_list(seeds)
    _, kpis = _regress._per_run(base, seed_list, {"candidate": patch}, workers=workers)
    if metric not in kpis.columns:
        raise ValueError(f"metric '{metric}': not a KPI; use one of {_regress.KPI_COLUMNS}")
    names = list(dict.fromkeys(kpis["campaign"]))
    if campaign is None:
        rows = kpis if len(names) == 1 else _regress.account_total(kpis)
    else:
        if campaign not in names:
            raise ValueError(f"campaign '{campaign}': not in the scenario; campaigns: {names}")
        rows = kpis[kpis["campaign"] == campaign]
    return rows.set_index("seed")[metric].astype(float).rename(metric)


def _paired(candidate: pd.Series, baseline: pd.Series) -> Tuple[np.ndarray, np.ndarray]:
    """Both sides' values seed by seed: the same seeds on both sides, or a clear error."""
    if set(candidate.index) != set(baseline.index) or len(candidate) != len(baseline):
        raise ValueError(f"paired comparison needs the same seeds on both sides; candidate seeds "
                         f"{list(candidate.index)}, baseline seeds {list(baseline.index)}")
    return candidate.to_numpy(), baseline.reindex(candidate.index).to_numpy()


def compare_not_worse(candidate: Side, baseline: Side, metric: str = "cpa", seeds: Union[int, Sequence[int]] = 30,
                      alpha: float = 0.05, scenario: Any = None, campaign: Optional[str] = None,
                      direction: Optional[int] = None, workers: int = 1) -> Comparison:
    """The comparison behind :func:`assert_not_worse`, without asserting."""
    c = per_seed(candidate, metric, seeds, scenario, campaign, workers)
    b = per_seed(baseline, metric, seeds, scenario, campaign, workers)
    direction = _regress.DIRECTIONS.get(metric, 0) if direction is None else direction
    if not direction:
        raise ValueError(f"metric '{metric}' has no direction of 'worse'; pass direction=+1 (higher is worse) "
                         f"or -1 (lower is worse); known: {sorted(_regress.DIRECTIONS)}")
    paired_candidate, paired_baseline = _paired(c, b)
    return _regress.not_worse(paired_candidate, paired_baseline, metric=metric, alpha=alpha, direction=direction)


def assert_not_worse(candidate: Side, baseline: Side, metric: str = "cpa", seeds: Union[int, Sequence[int]] = 30,
                     alpha: float = 0.05, scenario: Any = None, campaign: Optional[str] = None,
                     direction: Optional[int] = None, workers: int = 1) -> Comparison:
    """Fails when `candidate` is worse than `baseline` on `metric`: a one-sided paired t-test
    on the per-seed differences (same seeds, common random numbers) at level `alpha`.

    "Worse" is higher for costs (cpa, cpc, cpm) and lower for outcomes (conversions,
    value, roas, ...); `direction` overrides it (+1 higher is worse, -1 lower is
    worse). `seeds` is a count (seeds 1..n) or a list. Raises AssertionError with
    the means, the mean difference, its confidence interval and p; returns the
    comparison otherwise.
    """
    comparison = compare_not_worse(candidate, baseline, metric, seeds, alpha, scenario, campaign, direction, workers)
    if comparison.verdict in ("worse", "too few seeds"):
        raise AssertionError(f"candidate worse than baseline: {comparison.describe()}")
    return comparison


def compare_equivalent(candidate: Side, baseline: Side, metric: str = "cpa", margin: float = 0.0,
                       seeds: Union[int, Sequence[int]] = 30, alpha: float = 0.05, scenario: Any = None,
                       campaign: Optional[str] = None, workers: int = 1) -> Comparison:
    """The comparison behind :func:`assert_equivalent`, without asserting."""
    c = per_seed(candidate, metric, seeds, scenario, campaign, workers)
    b = per_seed(baseline, metric, seeds, scenario, campaign, workers)
    paired_candidate, paired_baseline = _paired(c, b)
    return _regress.equivalent(paired_candidate, paired_baseline, metric=metric, margin=margin, alpha=alpha)


def assert_equivalent(candidate: Side, baseline: Side, metric: str = "cpa", margin: float = 0.0,
                      seeds: Union[int, Sequence[int]] = 30, alpha: float = 0.05, scenario: Any = None,
                      campaign: Optional[str] = None, workers: int = 1) -> Comparison:
    """Fails unless `candidate` and `baseline` are equivalent on `metric` within ±`margin`
    (in the metric's units): TOST, two one-sided paired t-tests at `alpha`, i.e. the
    (1 − 2 alpha) confidence interval of the mean paired difference lies inside
    (−margin, +margin). Raises AssertionError with the numbers."""
    comparison = compare_equivalent(candidate, baseline, metric, margin, seeds, alpha, scenario, campaign, workers)
    if comparison.verdict != "equivalent":
        raise AssertionError(f"not shown equivalent within ±{margin:g}: {comparison.describe()}")
    return comparison


# ---------------------------------------------------------------- pytest plugin


class RegressionChecker:
    """What the ``adsim_regression`` fixture gives: call it with a baseline file."""

    def __call__(self, baseline: Union[str, os.PathLike], only: Optional[Sequence[str]] = None,
                 exact: bool = False, alpha: Optional[float] = None, workers: int = 1) -> List[_regress.CaseReport]:
        """Reruns the baseline's cases and raises AssertionError with the report when a KPI is
        worse beyond its paired tolerance (or, with `exact`, a fingerprint changed)."""
        loaded = _regress.read_baseline(baseline)
        reports = _regress.check(loaded, only, alpha, exact, workers=workers)
        failed = [r for r in reports if r.worse or r.missing or (exact and r.fingerprint_changes)]
        if failed:
            raise AssertionError("strategy regression: " + ", ".join(r.name for r in failed) + "\n"
                                 + _regress.format_report(loaded, reports, exact)
                                 + f"\nif the change is intended: adsim regress {os.fspath(baseline)} --update")
        return reports


def _fixture() -> Callable[..., Any]:
    import pytest

    @pytest.fixture
    def adsim_regression() -> RegressionChecker:
        """Checks a strategy regression baseline: ``adsim_regression("baseline.yaml")``."""
        return RegressionChecker()

    return adsim_regression


try:  # the plugin part: only when pytest is importable
    adsim_regression = _fixture()
except ImportError:  # pragma: no cover - adsim works without pytest
    pass


__all__ = ["assert_not_worse", "assert_equivalent", "compare_not_worse", "compare_equivalent", "per_seed",
           "RegressionChecker", "Comparison"]
