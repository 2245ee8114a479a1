"""Spend matching: the bid multiplier at which a scenario spends a given amount.

A comparison of two strategies at equal *budget* can reward the one that
merely spends more of it. :func:`spend_matched` finds, for one seed, the
multiplier of a scenario's bids (by default every campaign's ``bid``, see
:func:`scale_bids`) at which the run spends a target amount (typically what
the candidate strategy spent on the same seed: common random numbers), so the
candidate can be compared with the baseline *at equal spend*.

The search is on log(multiplier): it brackets the target by doubling (or
halving) from the start multiplier, then narrows the bracket by regula falsi
with the Illinois modification (a secant step that always keeps the target
bracketed and cannot stall on one side), until the spend is within
``tolerance`` of the target. Spend grows with the bids but is capped by the
budgets, so a target above what the scenario can spend at
``max_multiplier`` is reported as not matched (``matched`` False) rather than
forced. See docs/strategy-comparison.md ("Equal spend") and docs/python.md.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, List, Mapping, Optional, Tuple, Union

import yaml  # type: ignore[import]

from ._errors import ConfigError
from ._result import Result

#: What spend_matched accepts as a scenario: a mapping or a YAML/JSON file.
ScenarioSource = Union[str, "os.PathLike[str]", Mapping[str, Any]]


@dataclass
class SpendMatch:
    """The outcome of :func:`spend_matched` for one seed.

    * ``multiplier``: the bid multiplier of the run kept (the closest to the
      target among those tried);
    * ``spend`` and ``target``: that run's spend and the spend asked for;
    * ``matched``: whether ``|spend - target| <= tolerance * target``;
    * ``result``: that run's :class:`Result`;
    * ``tried``: every (multiplier, spend) run, in order (``runs`` of them).
    """

    multiplier: float
    spend: float
    target: float
    matched: bool
    result: Result
    tried: List[Tuple[float, float]] = field(default_factory=list)

    @property
    def runs(self) -> int:
        """How many runs the search made."""
        return len(self.tried)


def scale_bids(scenario: Mapping[str, Any], multiplier: float) -> dict:
    """A copy of ``scenario`` with every campaign's ``bid`` times ``multiplier``.

    For a static setup (``fixed`` bidders) this scales every bid the
    campaigns make; bidders that compute their own bids follow the base bid
    only if they are built to (``follow_base_bid``).
    """
    scaled = copy.deepcopy(dict(scenario))
    for index, campaign in enumerate(scaled.get("campaigns") or []):
        if not isinstance(campaign, dict) or not isinstance(campaign.get("bid"), (int, float)):
            raise ConfigError(issues=[{"file": "<dict>", "path": f"campaigns[{index}].bid", "line": 0,
                                       "expected": "a number (the bid to scale)",
                                       "found": repr(campaign.get("bid") if isinstance(campaign, dict)
                                                     else campaign)[:200]}])
        campaign["bid"] = float(campaign["bid"]) * multiplier
    return scaled


def total_spend(result: Result) -> float:
    """A run's spend over every campaign (the ``daily`` table)."""
    return float(result.table("daily")["spend"].sum())


def _argument_error(path: str, expected: str, found: Any) -> ConfigError:
    return ConfigError(issues=[{"file": "<argument>", "path": path, "line": 0, "expected": expected,
                                "found": repr(found)[:200]}])


def spend_matched(
    scenario: ScenarioSource,
    target_spend: float,
    *,
    seed: int,
    scale: Callable[[Mapping[str, Any], float], Mapping[str, Any]] = scale_bids,
    spend: Callable[[Result], float] = total_spend,
    tolerance: float = 0.005,
    start: float = 1.0,
    min_multiplier: float = 1.0 / 64,
    max_multiplier: float = 64.0,
    max_runs: int = 16,
    step: float = 2.0,
    first: Optional[Result] = None,
) -> SpendMatch:
    """The run of ``scale(scenario, m)`` on ``seed`` whose spend matches ``target_spend``.

    Searches the multiplier m in [min_multiplier, max_multiplier] (on log m:
    multiplying or dividing by ``step`` (2) from ``start`` until the target
    is bracketed (a smaller step when ``start`` is already a good guess, such
    as the previous seed's match), then
    Illinois regula falsi) until ``|spend - target| <= tolerance * target``
    or ``max_runs`` runs; returns the closest run found, with ``matched``
    telling whether it is within the tolerance. ``first``: the run at
    ``start`` if it was already made (saves one run). The same ``seed`` in
    every run: common random numbers, so the multiplier is the only
    difference. Raises :class:`adsim.ConfigError` for bad arguments.
    """
    from ._run import run  # here: _run imports the compiled module

    if not (isinstance(target_spend, (int, float)) and math.isfinite(target_spend) and target_spend > 0):
        raise _argument_error("target_spend", "a finite number > 0", target_spend)
    if not (0 < tolerance < 1):
        raise _argument_error("tolerance", "a relative tolerance in (0, 1)", tolerance)
    if not (0 < min_multiplier <= start <= max_multiplier and math.isfinite(max_multiplier)):
        raise _argument_error("start", "0 < min_multiplier <= start <= max_multiplier < inf",
                              (min_multiplier, start, max_multiplier))
    if max_runs < 2:
        raise _argument_error("max_runs", "at least 2", max_runs)
    if not (isinstance(step, (int, float)) and 1 < step < math.inf):
        raise _argument_error("step", "a finite factor > 1", step)
    base: Mapping[str, Any]
    if isinstance(scenario, Mapping):
        base = scenario
    else:
        path = os.fspath(scenario)
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = yaml.safe_load(handle)
        except OSError as error:
            raise ConfigError(issues=[{"file": path, "path": "", "line": 0, "expected": "a readable scenario file",
                                       "found": str(error)}]) from None
        if not isinstance(loaded, Mapping):
            raise ConfigError(issues=[{"file": path, "path": "", "line": 1, "expected": "a scenario mapping",
                                       "found": type(loaded).__name__}])
        base = loaded

    tried: List[Tuple[float, float]] = []
    best: Optional[Tuple[float, float, Result]] = None  # (multiplier, spend, result) closest to the target

    def measure(multiplier: float, known: Optional[Result] = None) -> float:
        nonlocal best
        result = known if known is not None else run(scale(base, multiplier), seed=seed)
        spent = spend(result)
        tried.append((multiplier, spent))
        if best is None or abs(spent - target_spend) < abs(best[1] - target_spend):
            best = (multiplier, spent, result)
        return spent - target_spend  # f(m): increasing in m, the root is the match

    def done(gap: float) -> bool:
        return abs(gap) <= tolerance * target_spend

    def outcome() -> SpendMatch:
        assert best is not None
        return SpendMatch(multiplier=best[0], spend=best[1], target=float(target_spend),
                          matched=done(best[1] - target_spend), result=best[2], tried=tried)

    # Bracket: from start, multiply (spend too low) or divide (too high) by step until
    # the sign of f changes, within [min_multiplier, max_multiplier].
    x = math.log(start)
    gap = measure(start, first)
    if done(gap):
        return outcome()
    up = gap < 0
    limit = math.log(max_multiplier if up else min_multiplier)
    other = (x, gap)
    while True:
        if len(tried) >= max_runs or x == limit:
            return outcome()  # the target is not reachable in [min, max] (or out of runs)
        x = min(x + math.log(step), limit) if up else max(x - math.log(step), limit)
        gap = measure(math.exp(x))
        if done(gap):
            return outcome()
        if (gap > 0) == up:  # the sign changed: bracketed
            break
        other = (x, gap)
    low, high = (other, (x, gap)) if up else ((x, gap), other)  # f(low) < 0 < f(high)
    # Illinois regula falsi on [low, high]: the secant's root; when the same
    # end is replaced twice in a row, the other end's f is halved so that it
    # moves too (plain regula falsi can keep one end for ever).
    side = 0  # which end was replaced last: -1 low, +1 high
    while len(tried) < max_runs and high[0] - low[0] > 1e-6:
        x = high[0] - high[1] * (high[0] - low[0]) / (high[1] - low[1])
        gap = measure(math.exp(x))
        if done(gap):
            break
        if gap < 0:
            low = (x, gap)
            if side == -1:
                high = (high[0], high[1] / 2)
            side = -1
        else:
            high = (x, gap)
            if side == 1:
                low = (low[0], low[1] / 2)
            side = 1
    return outcome()
