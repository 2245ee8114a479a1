"""Shared fixtures of the adsim Python suite.

Scenarios here are small (two simulated days, a few thousand opportunities per
hour) so the whole suite runs in seconds; the engine itself is exercised at
scale by the C++ suite and the benchmarks.
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def bench_import():
    """importlib.import_module with bench/ on sys.path for the test module's
    lifetime, for the tests of the bench scripts (which import each other)."""
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module
    finally:
        sys.path.remove(str(BENCH))

_SMALL: Dict[str, Any] = {
    "name": "small",
    "seed": 7,
    "start": "2026-03-02T00:00:00",
    "duration": "2d",
    "bucket": "1h",
    "control_cycle": "30m",
    "channels": [
        {
            "name": "display",
            "auction": "second_price",
            "billing": "impression",
            "floor": 0.0005,
            "traffic": {"per_hour": 20000},
            "competition": {"competitors": 5, "median": 0.002, "sigma": 0.7},
        },
        {
            "name": "search",
            "auction": {"type": "gsp", "slots": 2, "click_factors": [1.0, 0.6]},
            "billing": "click",
            "floor": 0.02,
            "traffic": {"per_hour": 6000},
            "competition": {"competitors": 4, "median": 0.012, "sigma": 0.6},
            "ctr_factor": 3.0,
        },
    ],
    "segments": [
        {
            "name": "young",
            "users": 50000,
            "share": {"display": 0.6, "search": 0.4},
            "ctr": 0.004,
            "cvr": 0.05,
            "conversion_value": {"distribution": "lognormal", "mean": 40, "sigma": 0.5},
            "conversion_delay": {"distribution": "exponential", "mean": "2h"},
        },
        {
            "name": "mature",
            "users": 30000,
            "share": {"display": 0.4, "search": 0.6},
            "ctr": 0.003,
            "cvr": 0.08,
            "conversion_value": {"distribution": "fixed", "mean": 70},
            "conversion_delay": {"distribution": "exponential", "mean": "4h"},
        },
    ],
    "campaigns": [
        {
            "name": "alpha",
            "channels": ["display", "search"],
            "creatives": ["banner_a", "banner_b"],
            "bid": 0.004,
            "budget": {"daily": 60},
            "goal": {"cpa": 20},
        },
        {
            "name": "beta",
            "channels": ["display"],
            "segments": ["mature"],
            "creatives": ["video"],
            "bid": 0.003,
            "budget": {"daily": 25},
            "controllers": [{"type": "pid_pacing"}],
        },
    ],
    "guardrails": {"min_bid": 0.0001, "max_bid": 5.0, "max_change": 0.5, "review_threshold": 2.0},
}


@pytest.fixture
def small() -> Dict[str, Any]:
    """A fresh copy of the small scenario (tests may modify it)."""
    return copy.deepcopy(_SMALL)


@pytest.fixture(scope="session")
def small_result():
    """One run of the small scenario, shared by read-only tests."""
    import adsim

    return adsim.run(copy.deepcopy(_SMALL))


def small_scenario() -> Dict[str, Any]:
    return copy.deepcopy(_SMALL)


@pytest.fixture
def python_exe() -> str:
    return sys.executable


@pytest.fixture(autouse=True)
def _no_cwd_pollution(tmp_path, monkeypatch):
    """Tests that write files do so under tmp_path."""
    monkeypatch.chdir(tmp_path)
    yield
    os.chdir(tmp_path)


@pytest.fixture(scope="session")
def adsim_cli() -> str:
    """The build's `adsim` command line (ADSIM_BUILD_DIR, default build/)."""
    build = os.environ.get("ADSIM_BUILD_DIR", str(Path(__file__).resolve().parents[2] / "build"))
    path = Path(build) / "adsim"
    if not path.exists():
        pytest.fail(f"{path} not found: build first (scripts/setup.sh) or set ADSIM_BUILD_DIR")
    return str(path)
