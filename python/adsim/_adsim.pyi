# Type stubs of adsim's compiled module (python/bindings/, built by CMake).
# Hand-written: pybind11-stubgen is not packaged for Debian.
# tests/python/test_stubs.py checks that these names and signatures match the
# built module, and runs mypy's stubtest when mypy is installed.
# The pure-Python package (adsim/*.py) is the public API: this module is its
# implementation, and its raw dicts are documented where they are turned into
# objects (adsim._result, adsim._controller, adsim._review).
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy

__version__: str
schema_version: int
boost_version: str

def default_scenario_text() -> str:
    """The embedded default scenario (YAML text)."""

def run(
    text: Optional[str],
    source_name: str,
    path: Optional[str],
    seed: Optional[int],
    out: str,
    progress: Optional[Callable[[float], Any]],
    check_signals: bool,
    reviewer: Optional[Callable[[Any], Any]] = None,
    oracle: bool = False,
    oracle_all: float = 0.0,
    oracle_all_cell_truth: bool = False,
    oracle_user_truth: bool = True,
) -> Dict[str, Any]:
    """Parses and runs a scenario with the GIL released; returns the raw result
    layout {"tables": [{"name", "description", "columns": [{"name", "unit",
    "description", "data"}]}], "attrs": {...}}. Exactly one of text and path is
    set (neither: the default scenario)."""

def validate(text: Optional[str], source_name: str, path: Optional[str]) -> Dict[str, Any]:
    """Parses a scenario and resolves its components; returns a short description."""

def python_modules(text: Optional[str], source_name: str, path: Optional[str]) -> List[Tuple[str, int]]:
    """The scenario's `python:` module files as [(path as written, line)]."""

def write_results(raw: Dict[str, Any], path: str) -> None:
    """Writes a raw result layout to HDF5 (temporary file, then rename)."""

def format_summary(raw: Dict[str, Any]) -> str:
    """The KPI summary printed by `adsim run`."""

def results_image(raw: Dict[str, Any]) -> bytes:
    """The bytes of the HDF5 file write_results would write (built in memory)."""

def run_many(
    scenarios: List[Tuple[Optional[str], str, Optional[str]]],
    runs: List[Tuple[int, int]],
    workers: int,
    progress: Optional[Callable[[int], Any]],
    check_signals: bool,
    images: bool = False,
    consume: Optional[Callable[..., Any]] = None,
) -> List[Any]:
    """Runs (scenario index, seed) pairs on `workers` C++ threads with the GIL
    released; returns their raw results in order (with images=True, (raw,
    bytes of the HDF5 file)). With `consume`, each run is instead passed as
    consume(position, raw[, bytes]) in order as it finishes, while the workers
    go on, and the returned list is empty."""

def components() -> List[Dict[str, Any]]:
    """Every registered component: dicts with name, kind, description, origin,
    campaign_scoped and params."""

def register_controller(
    name: str,
    description: str,
    params: List[Dict[str, Any]],
    campaign_scoped: bool,
    factory: Callable[[Dict[str, Any], int, str, int], Any],
) -> None:
    """Registers (or replaces) a Python controller in the C++ registry."""

def register_bidder(
    name: str,
    description: str,
    params: List[Dict[str, Any]],
    per_request: bool,
    factory: Callable[[Dict[str, Any], int, str, int], Any],
) -> None:
    """Registers (or replaces) a Python bidder in the C++ registry."""

def action_kinds() -> Dict[str, int]:
    """Action kind names and their codes."""

def snapshot_fields() -> Dict[str, Tuple[str, ...]]:
    """The fields of Snapshot, CampaignState, Alert and ObservedStats
    (core/snapshot_fields.h), by struct."""

def snapshot_leaves() -> Dict[str, Any]:
    """The C++ snapshot a Python controller is reading, flattened to
    {path: value}; only inside on_cycle() (ValueError elsewhere)."""

def creative_rotation(
    name: str,
    params: Dict[str, float],
    impressions: numpy.ndarray,
    clicks: numpy.ndarray,
    control_cycle_us: int,
    seed: int,
) -> numpy.ndarray:
    """Runs a registered creative controller on per-cycle (impressions,
    clicks) per creative, arrays (cycles, creatives); returns the rotation
    shares in force in each cycle, (cycles + 1) x creatives (adsim.ope)."""

def detect_csv(
    text: str,
    source: str,
    detector: str,
    params: Dict[str, str],
    timestamp_column: str,
    value_column: str,
    successes_column: str,
    trials_column: str,
) -> Dict[str, Any]:
    """Runs a named detector over CSV text (the code of `adsim detect`);
    returns columns {"timestamp", "value", "score", "alarm", "baseline",
    "scale", "reason", "line", "scored"}, "issues" [(line, kind, message)]
    and "summary" (see adsim._detect)."""

def detectors() -> List[Tuple[str, str, Dict[str, str]]]:
    """The named detectors: (name, description, {parameter: default})."""

def attribute_csv(
    text: str,
    source: str,
    models: List[str],
    params: Dict[str, str],
    holdout_counts: List[List[float]] = ...,
    holdout_channels: List[str] = ...,
) -> Dict[str, Any]:
    """Runs attribution models over path data given as CSV text (the code of
    `adsim attribute`), with optional user-holdout counts per channel (10 per
    channel: held-out then exposed users, conversions, conversions_sq, value,
    value_sq) for the `holdout` model; returns columns {"model", "channel", "conversions",
    "value", "conversions_se", "value_se"}, "notes" [(model, note)] and the
    totals "paths", "total_conversions", "total_value", "total_nulls" (see
    adsim._attribute)."""

def fit_logistic(
    x: numpy.ndarray, trials: numpy.ndarray, successes: numpy.ndarray, l2: float, prior: numpy.ndarray
) -> Dict[str, Any]:
    """L2 logistic regression (the project's Eigen fitter,
    strategies/bidders/lib/logistic_model.h) of successes out of trials on the
    rows of x, penalty l2/2 |w - prior|^2; returns {"coefficients",
    "covariance" (inverse penalised Hessian), "iterations"} (adsim._lookalike)."""

def attribution_models() -> Tuple[List[Tuple[str, str]], Dict[str, str]]:
    """The attribution models [(name, description)] and their parameters
    {name: default}."""

def attribution_accuracy_score(model_credit: Dict[str, float], true_credit: Dict[str, float]) -> float:
    """1 - 1/2 sum |model share - true share| over the players (names) of two
    credits; NaN when a total is 0 (see adsim.attribution_accuracy_score)."""
