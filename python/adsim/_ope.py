"""Off-policy evaluation (OPE) of creative-selection and bandit policies on logged data.

Owns: reading a bandit log with propensities (the Open Bandit Dataset's CSV
layout as it is, or any layout through a column mapping), checking its rows,
resolving the policy to evaluate (``uniform``, a registered creative
strategy run on the log's counts, or a Python function ``module.py:function``), the estimators (replay, IPW, SNIPW, DM, DR, DR with
optimistic shrinkage), their seeded bootstrap confidence intervals, the
effective sample size and the per-position variant; ``adsim.ope``. The
command line is python/adsim/commands/ope.py; docs/ope.md describes the rules.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ._errors import ConfigError, DataError, IoError

__all__ = ["ope", "read_bandit_log", "BanditLog", "ESTIMATORS", "OBD_COLUMNS"]

#: Every estimator, in the order results are listed.
ESTIMATORS: Tuple[str, ...] = ("replay", "ipw", "snipw", "dm", "dr", "dr-os")

#: The Open Bandit Dataset's column names for each role (the default mapping).
OBD_COLUMNS: Dict[str, Optional[str]] = {
    "action": "item_id",
    "position": "position",
    "reward": "click",
    "propensity": "propensity_score",
}

#: How many bad rows an error message lists before it only counts the rest.
_LISTED_BAD_ROWS = 10

PolicyFunction = Callable[[pd.DataFrame, int], Any]


@dataclass
class BanditLog:
    """A checked bandit log: one row per logged decision (one slot of a slate in slotted logs).

    ``action`` holds 0-based action codes (< ``n_actions``), ``position`` the
    1-based slot (all 1 in unslotted logs), ``reward`` the observed reward,
    ``propensity`` the logging policy's probability of the logged action at
    that position (in (0, 1]). ``frame`` is the log as read (every column, in
    file order), handed to Python policy functions.
    """

    source: str
    frame: pd.DataFrame
    action: np.ndarray
    position: np.ndarray
    reward: np.ndarray
    propensity: np.ndarray
    n_actions: int

    def __len__(self) -> int:
        return int(self.action.shape[0])


def _bad_rows_error(source: str, problems: List[Tuple[int, str, str, str]]) -> DataError:
    """One DataError listing the first bad rows (line, column, expected, found) and a count per kind."""
    problems = sorted(problems)
    counts: Dict[str, int] = {}
    for _, column, expected, _ in problems:
        key = f"{column}: {expected}"
        counts[key] = counts.get(key, 0) + 1
    lines = [f"{source}: {len(problems)} bad value{'s' if len(problems) != 1 else ''} in the log"]
    for line, column, expected, found in problems[:_LISTED_BAD_ROWS]:
        lines.append(f"  {source}:{line}: {column}: expected {expected}, found {found!r}")
    if len(problems) > _LISTED_BAD_ROWS:
        lines.append(f"  ... and {len(problems) - _LISTED_BAD_ROWS} more")
    lines.append("  per kind: " + "; ".join(f"{key} ({count})" for key, count in sorted(counts.items())))
    return DataError("\n".join(lines))


def _n_actions_beside(path: Path) -> Optional[int]:
    """Rows of the item_context.csv next to an OBD log (the number of items), or None."""
    context = path.parent / "item_context.csv"
    if not context.is_file():
        return None
    try:
        return int(len(pd.read_csv(context)))
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def read_bandit_log(
    log: Union[str, Path, pd.DataFrame],
    columns: Optional[Mapping[str, Optional[str]]] = None,
    n_actions: Optional[int] = None,
) -> BanditLog:
    """Reads and checks a bandit log (CSV, optionally gzip-compressed, or a DataFrame).

    ``columns`` maps the roles ``action``, ``reward``, ``propensity`` and
    ``position`` to column names; roles not given keep the Open Bandit
    Dataset's names (``item_id``, ``click``, ``propensity_score``,
    ``position``); ``position: None`` (or a log without a ``position``
    column when the mapping does not name one) means an unslotted log.
    ``n_actions`` is the number of actions the policies choose from; by
    default the rows of an ``item_context.csv`` beside the log (the OBD
    layout), else the largest action code + 1.

    Raises IoError when the file cannot be read, ConfigError for an unknown
    role or a missing column, and DataError listing bad rows by line number
    (the header is line 1) and a count per kind.
    """
    mapping: Dict[str, Optional[str]] = dict(OBD_COLUMNS)
    explicit_position = False
    for role, name in (columns or {}).items():
        if role not in OBD_COLUMNS:
            raise ConfigError(f"columns: expected roles among {', '.join(OBD_COLUMNS)}, found unknown role {role!r}")
        mapping[role] = name
        explicit_position = explicit_position or role == "position"
    if isinstance(log, pd.DataFrame):
        source = "<DataFrame>"
        frame = log.reset_index(drop=True)
        path: Optional[Path] = None
    else:
        path = Path(log)
        source = str(log)
        if not path.is_file():
            raise IoError(f"{source}: the log does not exist or is not a file")
        try:
            # Every column as text first, so a bad value is reported with its line instead of
            # silently turning a column into floats or objects.
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, UnicodeDecodeError, EOFError) as error:
            raise IoError(f"{source}: cannot read the log: {error}") from error
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise DataError(f"{source}: not a CSV log: {error}") from error
    if not explicit_position and mapping["position"] not in frame.columns:
        mapping["position"] = None
    missing = [f"{role} ({name!r})" for role, name in mapping.items() if name is not None and name not in frame.columns]
    if missing:
        raise ConfigError(
            f"{source}: expected the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"the log has {', '.join(map(str, frame.columns))} (map other names with columns=/--columns)"
        )
    if len(frame) == 0:
        raise DataError(f"{source}: the log has no rows")
    lines = np.arange(len(frame)) + 2  # line 1 is the header
    problems: List[Tuple[int, str, str, str]] = []

    def numbers(role: str, expected: str, valid: Callable[[np.ndarray], np.ndarray], integral: bool) -> np.ndarray:
        name = mapping[role]
        assert name is not None
        raw = frame[name]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(values)
        if integral:
            ok &= np.floor(np.where(ok, values, 0)) == np.where(ok, values, 0)
        ok &= valid(np.where(ok, values, 0))
        for index in np.flatnonzero(~ok):
            problems.append((int(lines[index]), name, expected, str(raw.iloc[index])))
        return values

    action = numbers("action", "an integer action code >= 0", lambda v: v >= 0, True)
    reward = numbers("reward", "a number", lambda v: np.ones(v.shape, dtype=bool), False)
    propensity = numbers("propensity", "a probability in (0, 1]", lambda v: (v > 0) & (v <= 1), False)
    if mapping["position"] is not None:
        position = numbers("position", "an integer position >= 1", lambda v: v >= 1, True)
    else:
        position = np.ones(len(frame))
    if n_actions is None and path is not None:
        n_actions = _n_actions_beside(path)
    if n_actions is not None:
        if n_actions < 1:
            raise ConfigError(f"n_actions: expected at least 1, found {n_actions}")
        name = mapping["action"]
        for index in np.flatnonzero(np.isfinite(action) & (action >= n_actions)):
            problems.append((int(lines[index]), str(name), f"an action code below n_actions = {n_actions}",
                             str(frame[name].iloc[index])))
    if problems:
        raise _bad_rows_error(source, problems)
    if n_actions is None:
        n_actions = int(action.max()) + 1
    return BanditLog(source=source, frame=frame, action=action.astype(np.int64), position=position.astype(np.int64),
                     reward=reward, propensity=propensity, n_actions=int(n_actions))


def _load_function(spec: str) -> PolicyFunction:
    """``path/to/module.py:function`` → the function (the module is imported from its file)."""
    file_name, _, function_name = spec.rpartition(":")
    path = Path(file_name)
    if not path.is_file():
        raise ConfigError(f"--policy {spec}: expected module.py:function with an existing file, "
                          f"found no file {file_name!r}")
    module_name = f"adsim_ope_policy_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise ConfigError(f"--policy {spec}: cannot import {file_name!r} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 (any failure of user code is reported the same way)
        raise ConfigError(f"--policy {spec}: importing {file_name} raised {type(error).__name__}: {error}") from error
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"--policy {spec}: expected a function {function_name!r} in {file_name}, found none")
    return function


def _creative_strategy_names() -> List[str]:
    """The registered creative-selection controllers (``creative_*``)."""
    from ._run import components

    return sorted(c["name"] for c in components() if c["kind"] == "controller" and c["name"].startswith("creative_"))


def _creative_matrix(name: str, log: BanditLog, params: Mapping[str, float], cycle_rows: int,
                     seed: int) -> np.ndarray:
    """A registered creative controller's rotation as action probabilities per row.

    The log is cut, in file order, into control cycles of ``cycle_rows`` rows (each one hour of
    simulated time for the controller's half-lives). At the end of each cycle the controller sees that
    cycle's impressions and clicks per action (every position together) and sets its rotation; the rows
    of cycle c get the rotation in force during it, decided from cycles 0..c-1 only. The controller
    runs in C++ (_adsim.creative_rotation), its draws from ``seed``.
    """
    from . import _adsim

    if cycle_rows < 1:
        raise ConfigError(f"cycle_rows: expected at least 1 row per control cycle, found {cycle_rows}")
    n, k = len(log), log.n_actions
    cycle = np.arange(n) // cycle_rows
    cycles = int(cycle[-1]) + 1
    impressions = np.zeros((cycles, k))
    clicks = np.zeros((cycles, k))
    np.add.at(impressions, (cycle, log.action), 1.0)
    if np.any((log.reward != 0) & (log.reward != 1)):
        raise ConfigError(f"policy {name!r}: a creative strategy learns from clicks: expected rewards 0 or 1")
    np.add.at(clicks, (cycle, log.action), log.reward)
    shares = np.asarray(_adsim.creative_rotation(name, {str(key): float(value) for key, value in params.items()},
                                                 impressions, clicks, 3_600_000_000, seed))
    return shares[cycle]


def _policy_matrix(policy: Union[str, PolicyFunction], log: BanditLog, params: Optional[Mapping[str, float]] = None,
                   cycle_rows: int = 1000, seed: int = 0) -> Tuple[str, np.ndarray]:
    """The evaluated policy's action probabilities per row, shape (rows, n_actions), and its label."""
    n, k = len(log), log.n_actions
    if isinstance(policy, str) and policy == "uniform":
        return "uniform", np.full((n, k), 1.0 / k)
    if isinstance(policy, str) and ":" in policy and policy.rpartition(":")[0].endswith(".py"):
        label, function = policy, _load_function(policy)
    elif callable(policy):
        label, function = getattr(policy, "__name__", "policy"), policy
    else:
        creative = _creative_strategy_names()
        if policy in creative:
            return policy, _creative_matrix(policy, log, params or {}, cycle_rows, seed)
        raise ConfigError(f"policy: expected 'uniform', module.py:function, a Python callable or a registered "
                          f"creative strategy ({', '.join(creative)}), found {policy!r}")
    try:
        probabilities = function(log.frame, k)
    except Exception as error:  # noqa: BLE001
        raise ConfigError(f"policy {label}: raised {type(error).__name__}: {error}") from error
    matrix = np.asarray(probabilities, dtype=float)
    if matrix.shape != (n, k):
        raise ConfigError(f"policy {label}: expected action probabilities of shape (rows, n_actions) = ({n}, {k}), "
                          f"found shape {matrix.shape}")
    bad = np.flatnonzero(~np.isfinite(matrix).all(axis=1) | (matrix < 0).any(axis=1)
                         | (np.abs(matrix.sum(axis=1) - 1.0) > 1e-6))
    if bad.size:
        row = int(bad[0])
        raise ConfigError(f"policy {label}: expected non-negative probabilities summing to 1 on every row; "
                          f"{bad.size} rows are not, the first is row {row} (log line {row + 2}), "
                          f"summing to {matrix[row].sum()!r}")
    return label, matrix


def _reward_model(action: np.ndarray, position: np.ndarray, reward: np.ndarray, k: int, slots: int,
                  weight: np.ndarray) -> np.ndarray:
    """q[p, a]: the mean reward per (position, action), shrunk toward the position's mean by one pseudo-row.

    ``weight`` counts each row (bootstrap multiplicities; all ones for the log itself).
    """
    cell = position * k + action
    count = np.bincount(cell, weights=weight, minlength=slots * k).reshape(slots, k)
    total = np.bincount(cell, weights=weight * reward, minlength=slots * k).reshape(slots, k)
    slot_count = count.sum(axis=1, keepdims=True)
    slot_mean = np.divide(total.sum(axis=1, keepdims=True), slot_count, out=np.zeros_like(slot_count),
                          where=slot_count > 0)
    return (total + slot_mean) / (count + 1.0)


@dataclass
class _Inputs:
    """Per-row arrays every estimator needs (for one position, or the whole log)."""

    action: np.ndarray
    slot: np.ndarray  # 0-based position
    reward: np.ndarray
    weight: np.ndarray  # pi_e(a_i | x_i) / pi_b(a_i | x_i)
    policy: np.ndarray  # pi_e(. | x_i), rows x actions
    accept_draw: np.ndarray  # the replay's uniform draw per row
    n_actions: int
    slots: int


def _estimate_all(names: Sequence[str], data: _Inputs, counts: np.ndarray, shrinkage: float,
                  max_weight: float) -> Dict[str, float]:
    """Each estimator's value on the rows weighted by ``counts`` (bootstrap multiplicities).

    The reward model is fitted once on the same rows and shared by dm, dr and dr-os.
    """
    n = counts.sum()
    w, r = data.weight, data.reward
    values: Dict[str, float] = {}
    if "ipw" in names:
        values["ipw"] = float(np.dot(counts, w * r) / n)
    if "snipw" in names:
        denominator = np.dot(counts, w)
        values["snipw"] = float(np.dot(counts, w * r) / denominator) if denominator > 0 else math.nan
    if "replay" in names:
        accepted = counts * (data.accept_draw * max_weight < w)
        values["replay"] = float(np.dot(accepted, r) / accepted.sum()) if accepted.sum() > 0 else math.nan
    if {"dm", "dr", "dr-os"} & set(names):
        q = _reward_model(data.action, data.slot, r, data.n_actions, data.slots, counts)
        rows = np.arange(len(r))
        # sum_a pi(a | x_i) q(position_i, a), as one product (rows x positions) and a pick.
        direct = (data.policy @ q.T)[rows, data.slot]
        residual = r - q[data.slot, data.action]
        values["dm"] = float(np.dot(counts, direct) / n)
        values["dr"] = float(np.dot(counts, direct + w * residual) / n)
        shrunk = shrinkage * w / (w * w + shrinkage)
        values["dr-os"] = float(np.dot(counts, direct + shrunk * residual) / n)
    return values


def _ess(name: str, data: _Inputs, max_weight: float) -> float:
    """Effective sample size: Kish's (sum w)^2 / sum w^2 for weighted estimators, accepted rows for
    replay, the rows for DM (no weights)."""
    w = data.weight
    if name == "dm":
        return float(len(w))
    if name == "replay":
        return float(np.sum(data.accept_draw * max_weight < w))
    if name == "dr-os":
        return float("nan")  # filled by the caller with the shrunk weights
    square = np.sum(w * w)
    return float(np.sum(w) ** 2 / square) if square > 0 else 0.0


def _evaluate(data: _Inputs, names: Sequence[str], bootstrap: int, level: float, seed: int,
              shrinkage: float) -> List[Dict[str, Any]]:
    """Value, bootstrap percentile interval and ESS of each estimator on one set of rows."""
    n = len(data.reward)
    max_weight = float(data.weight.max()) if n else 0.0
    ones = np.ones(n)
    generator = np.random.Generator(np.random.PCG64(seed))
    samples = {name: np.empty(bootstrap) for name in names}
    for b in range(bootstrap):
        counts = np.bincount(generator.integers(0, n, n), minlength=n).astype(float)
        values = _estimate_all(names, data, counts, shrinkage, max_weight)
        for name in names:
            samples[name][b] = values[name]
    rows = []
    tail = (1.0 - level) / 2.0
    point = _estimate_all(names, data, ones, shrinkage, max_weight)
    for name in names:
        value = point[name]
        finite = samples[name][np.isfinite(samples[name])]
        low, high = ((float(np.quantile(finite, tail)), float(np.quantile(finite, 1.0 - tail)))
                     if finite.size else (math.nan, math.nan))
        ess = _ess(name, data, max_weight)
        if name == "dr-os":
            shrunk = shrinkage * data.weight / (data.weight ** 2 + shrinkage)
            square = np.sum(shrunk * shrunk)
            ess = float(np.sum(shrunk) ** 2 / square) if square > 0 else 0.0
        rows.append({"estimator": name, "value": value, "ci_low": low, "ci_high": high, "ess": ess})
    return rows


def ope(
    log: Union[str, Path, pd.DataFrame, BanditLog],
    policy: Union[str, PolicyFunction] = "uniform",
    estimators: Union[str, Sequence[str]] = ESTIMATORS,
    *,
    columns: Optional[Mapping[str, Optional[str]]] = None,
    n_actions: Optional[int] = None,
    by_position: bool = False,
    bootstrap: int = 200,
    level: float = 0.95,
    seed: int = 0,
    shrinkage: float = 100.0,
    policy_params: Optional[Mapping[str, float]] = None,
    cycle_rows: int = 1000,
) -> pd.DataFrame:
    """Evaluates ``policy`` on a logged bandit dataset without running it (docs/ope.md).

    ``log``: a CSV path (``.csv`` or ``.csv.gz``; the Open Bandit Dataset
    layout is read as is, other layouts through ``columns``), a DataFrame or
    a ``BanditLog``. ``policy``: ``"uniform"`` (each of the ``n_actions``
    actions with probability 1/n_actions at every position), a callable
    ``f(frame, n_actions)`` or ``"module.py:function"`` naming one; it returns
    the action probabilities per row, shape (rows, n_actions), for the row's
    context and position. ``estimators``: names among ``replay, ipw, snipw,
    dm, dr, dr-os`` (a list or a comma-separated string). ``by_position``:
    evaluate each position as its own bandit (independent-item assumption:
    a slot's reward depends only on the item in it), one row per position
    and estimator with a ``position`` column; otherwise the rows of every
    position are pooled (the position is part of the context).
    ``bootstrap`` resamples (0: no interval) drawn from ``seed``, interval
    ``level``; ``shrinkage`` is dr-os's lambda. A registered creative
    strategy (``creative_thompson``, ...) takes ``policy_params`` (its
    parameters, as in a scenario) and sees the log in control cycles of
    ``cycle_rows`` rows (docs/ope.md, "Policies").

    Returns a DataFrame with the columns estimator, value, ci_low, ci_high,
    ess (and position when ``by_position``), one row per estimator (per
    position).
    """
    names = [name.strip() for name in (estimators.split(",") if isinstance(estimators, str) else estimators)]
    unknown = [name for name in names if name not in ESTIMATORS]
    if unknown or not names:
        raise ConfigError(f"estimators: expected names among {', '.join(ESTIMATORS)}, "
                          f"found {', '.join(map(repr, unknown)) or 'none'}")
    if bootstrap < 0:
        raise ConfigError(f"bootstrap: expected a number of resamples >= 0, found {bootstrap}")
    if not 0.0 < level < 1.0:
        raise ConfigError(f"level: expected a confidence level in (0, 1), found {level}")
    if not shrinkage > 0:
        raise ConfigError(f"shrinkage: expected a lambda > 0, found {shrinkage}")
    data = log if isinstance(log, BanditLog) else read_bandit_log(log, columns=columns, n_actions=n_actions)
    _, matrix = _policy_matrix(policy, data, policy_params, cycle_rows, seed)
    rows_index = np.arange(len(data))
    weight = matrix[rows_index, data.action] / data.propensity
    slots = int(data.position.max())
    # The replay's acceptance draws come from their own stream, so adding a bootstrap does not move them.
    accept_draw = np.random.Generator(np.random.PCG64([seed, 1])).random(len(data))
    full = _Inputs(action=data.action, slot=data.position - 1, reward=data.reward, weight=weight, policy=matrix,
                   accept_draw=accept_draw, n_actions=data.n_actions, slots=slots)
    if not by_position:
        return pd.DataFrame(_evaluate(full, names, bootstrap, level, seed, shrinkage),
                            columns=["estimator", "value", "ci_low", "ci_high", "ess"])
    rows = []
    for position in np.unique(data.position):
        mask = data.position == position
        part = _Inputs(action=data.action[mask], slot=np.zeros(int(mask.sum()), dtype=np.int64),
                       reward=data.reward[mask], weight=weight[mask], policy=matrix[mask],
                       accept_draw=accept_draw[mask], n_actions=data.n_actions, slots=1)
        for row in _evaluate(part, names, bootstrap, level, seed, shrinkage):
            rows.append({"position": int(position), **row})
    return pd.DataFrame(rows, columns=["position", "estimator", "value", "ci_low", "ci_high", "ess"])
