"""Running and validating scenarios, and listing components."""

from __future__ import annotations

import json
import math
import os
import sys
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from . import _adsim
from ._errors import ConfigError, Error
from ._io import note_existing_output
from ._modules import load_scenario_modules
from ._result import Result
from ._review import Reviewer

#: What adsim.run and adsim.validate accept as a scenario.
ScenarioLike = Union[None, str, bytes, "os.PathLike[str]", Mapping[str, Any]]
ProgressLike = Union[None, bool, Callable[[float], Any]]

_SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise ConfigError(
        issues=[
            {
                "file": "<dict>",
                "path": "",
                "line": 0,
                "expected": "only dict, list, str, number, bool and None values",
                "found": f"a {type(value).__name__}: {value!r}"[:200],
            }
        ]
    )


def _scenario_args(scenario: ScenarioLike) -> Tuple[Optional[str], str, Optional[str]]:
    """(text, source_name, path) for the compiled module: exactly one of text and path is set
    (neither for the default scenario)."""
    if scenario is None:
        return None, "<default>", None
    if isinstance(scenario, Mapping):
        return json.dumps(scenario, default=_json_default), "<dict>", None
    if isinstance(scenario, bytes):
        scenario = scenario.decode("utf-8")
    if isinstance(scenario, os.PathLike):
        return None, "", os.fspath(scenario)
    if isinstance(scenario, str):
        one_line = "\n" not in scenario and "\r" not in scenario
        if one_line and (scenario.strip().lower().endswith(_SCENARIO_SUFFIXES) or os.path.isfile(scenario)):
            return None, "", scenario.strip()
        return scenario, "<string>", None
    raise TypeError(
        "scenario must be None (the default scenario), a path (str or pathlib.Path), YAML/JSON text "
        f"or a dict, not {type(scenario).__name__}"
    )


def _check_seed(seed: Any) -> Optional[int]:
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**64:
        raise ConfigError(
            issues=[{"file": "<argument>", "path": "seed", "line": 0, "expected": "an integer in [0, 2**64)", "found": repr(seed)}]
        )
    return int(seed)


class _ProgressBar:
    """The bar of ``progress=True``: tqdm on stderr, in percent of simulated
    time. ``tqdm.auto`` draws a widget in Jupyter when ipywidgets is installed
    and text everywhere else."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            raise ImportError(
                "adsim.run(progress=True) needs tqdm (Debian: apt-get install python3-tqdm); "
                "pass a callable as progress to report progress without it"
            ) from None
        self.bar = tqdm(total=100, desc="simulated time", unit="%", file=sys.stderr,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]")
        self.percent = 0

    def __call__(self, fraction: float) -> None:
        percent = int(100 * min(max(fraction, 0.0), 1.0))
        if percent > self.percent:
            self.bar.update(percent - self.percent)
            self.percent = percent

    def done(self, completed: bool) -> None:
        """Closes the bar, filled to 100% if the run completed (left where it
        stopped if it failed)."""
        if completed:
            self(1.0)
        self.bar.close()


def _load_python_modules(text: Optional[str], source: str, path: Optional[str]) -> None:
    """Imports the scenario's ``python:`` modules (once per process), so the
    components they register resolve by name."""
    modules = _adsim.python_modules(text, source, path)
    if modules:
        load_scenario_modules(modules, source, path)


def run(
    scenario: ScenarioLike = None,
    seed: Optional[int] = None,
    out: Union[None, str, "os.PathLike[str]"] = None,
    progress: ProgressLike = False,
    reviewer: Optional[Reviewer] = None,
    oracle: bool = False,
    oracle_all: Optional[float] = None,
    oracle_all_cell_truth: bool = False,
    oracle_user_truth: bool = True,
) -> Result:
    """Runs a scenario with the C++ engine and returns its :class:`Result`.

    * `scenario`: None for the embedded default scenario; a path (str or
      pathlib.Path) to a YAML or JSON file; YAML/JSON text; or a dict with the
      same structure as a scenario file (errors then name ``<dict>`` and the
      field path, e.g. ``campaigns[1].budget.daily``).
    * `seed`: overrides the scenario's seed. A run needs a seed from one or
      the other (adsim never seeds from the clock): ConfigError otherwise.
    * `out`: also write the result to this HDF5 file (written to a temporary
      name and renamed when complete). The path is checked before the run
      (IoError at once if it cannot be written); if the run fails, the error
      says that an existing file at `out` was left as it was.
    * `progress`: True for a progress bar on stderr (tqdm; a widget in
      Jupyter), or a callable receiving the fraction of simulated time done,
      once per control cycle.
    * `reviewer`: a callable that decides every action held for review, in
      place of the scenario's review rule, when the decision is due (the
      campaign's ``guardrails.review.latency`` after the hold, 0 if none). It
      receives an :class:`adsim.HeldAction` and returns True/"approve",
      False/"reject", a number (approve at that value) or (answer, note); see
      docs/python.md. Its exceptions abort the run like a controller's.
    * `oracle`: also run each campaign's oracle and record the regret, as
      ``adsim run --oracle`` (the scenario's ``oracle: true``).
    * `oracle_all`: a reference for benchmarks and tests, not a strategy:
      a multiplier λ > 0 with which EVERY campaign bids λ × the true
      probability that the opportunity converts (per click on click-billed
      channels, as the oracle bids), without value, goal or pacing scale,
      and of the scenario's campaigns only the highest auction score bids
      in each auction. With the budgets lifted and λ chosen so that the run
      spends a given total, it is the policy that maximises conversions for
      that spend (bench/oracle_bound.py; docs/strategy-comparison.md, "Are
      the targets reachable?"). None (default): off. Not with `oracle`.
    * `oracle_all_cell_truth`: with `oracle_all`, bid on the true rates of
      each (channel, segment, creative) cell and the live shocks only,
      without the user's own propensity and the creative's fatigue.
    * `oracle_user_truth`: False makes every oracle bid (the per-campaign
      oracles of `oracle` or the scenario's ``oracle: true``, and
      `oracle_all`) leave out the user's own click propensity and
      conversion shift while keeping the true cell rates, the live shocks
      and the creative's fatigue at that moment: what a bidder could know
      without observing the user (bench/oracle_gap.py, the rung "+ known
      fatigue"). True (default): the oracles as documented. False without
      any oracle raises ValueError (it would change nothing). The run itself
      (every campaign that is not an oracle) is unchanged.

    A scenario's ``python:`` list of module files (relative to the scenario
    file, or to the working directory for text and dicts) is imported first,
    once per process, so the Python bidders and controllers they register
    resolve by name.

    The GIL is released while the engine runs (other Python threads keep
    running); it is taken back only to call Python controllers and the
    progress callback, and about every 100 ms to run Python's signal handlers:
    Ctrl-C interrupts a run started from the main thread (KeyboardInterrupt).
    Raises ConfigError, DataError, IoError, InvariantError or Error, and
    MemoryError (naming what the scenario needs) when memory runs out.
    """
    text, source, path = _scenario_args(scenario)
    seed = _check_seed(seed)
    _load_python_modules(text, source, path)
    out_path = os.fspath(out) if out is not None else ""
    if out is not None and not out_path:
        raise ValueError("out must be a non-empty path")
    bar: Optional[_ProgressBar] = None
    callback: Optional[Callable[[float], Any]] = None
    if progress is True:
        bar = _ProgressBar()
        callback = bar
    elif callable(progress):
        callback = progress
    elif progress not in (False, None):
        raise TypeError("progress must be a bool or a callable taking a fraction in [0, 1]")
    if reviewer is not None and not callable(reviewer):
        raise TypeError("reviewer must be None or a callable taking an adsim.HeldAction")
    if oracle_all is not None:
        if isinstance(oracle_all, bool) or not isinstance(oracle_all, (int, float)) or not (
                math.isfinite(oracle_all) and oracle_all > 0):
            raise ValueError(f"oracle_all: expected a finite multiplier > 0 (or None: off), not {oracle_all!r}")
        if oracle:
            raise ValueError("oracle_all: not with oracle=True (the oracle runs would inherit it)")
    elif oracle_all_cell_truth:
        raise ValueError("oracle_all_cell_truth: only with oracle_all (a multiplier > 0)")
    if not isinstance(oracle_user_truth, bool):
        raise TypeError(f"oracle_user_truth: expected True or False, not {oracle_user_truth!r}")
    in_main = threading.current_thread() is threading.main_thread()
    completed = False
    try:
        raw = _adsim.run(text, source, path, seed, out_path, callback, in_main, reviewer=reviewer, oracle=bool(oracle),
                         oracle_all=float(oracle_all or 0.0), oracle_all_cell_truth=bool(oracle_all_cell_truth),
                         oracle_user_truth=oracle_user_truth)
        completed = True
    except Error as e:
        note_existing_output(e, out_path)
        raise
    finally:
        if bar is not None:
            bar.done(completed)
    return Result(raw, path=out_path or None)


def validate(scenario: ScenarioLike = None) -> Dict[str, Any]:
    """Parses a scenario and checks that every component name and its
    parameters resolve, as a run would before starting. Raises ConfigError
    (with every issue) if not; otherwise returns a short description: name,
    description, source, seed (None if the scenario has none), start,
    duration_us, bucket_us, control_cycle_us, channels, segments, campaigns,
    shocks. The scenario's ``python:`` modules are imported first, as by run()."""
    text, source, path = _scenario_args(scenario)
    _load_python_modules(text, source, path)
    return _adsim.validate(text, source, path)


def default_scenario(as_dict: bool = False) -> Union[str, Dict[str, Any]]:
    """The embedded default scenario: its YAML text, or (as_dict=True) the
    parsed dict, handy to modify and pass to run()."""
    text = _adsim.default_scenario_text()
    if not as_dict:
        return text
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian), only needed here

    return yaml.safe_load(text)


def components(as_frame: bool = False) -> Any:
    """Every registered component (bidders and controllers, C++ and Python).

    A list of dicts with name, kind ("bidder", "controller", "monitor" or "analysis"), description,
    origin ("C++" or "Python"), campaign_scoped (controllers; None for
    bidders) and params (a list of dicts: name, type, default, description,
    min, max). With as_frame=True, a DataFrame with one row per component.
    """
    items: List[Dict[str, Any]] = _adsim.components()
    if not as_frame:
        return items
    import pandas as pd

    return pd.DataFrame(items, columns=["name", "kind", "origin", "campaign_scoped", "description", "params"])


__all__ = ["run", "validate", "default_scenario", "components", "ScenarioLike"]
