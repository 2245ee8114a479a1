"""Units of result columns: a point in simulated time (unit ``us``) gets a
calendar-time twin ``<column>_at``; a duration (unit ``us_duration``, such as
a ramp's step or a fatigue recovery constant) does not, because adding it to
the scenario's start would turn a length of time into a date.
"""

from __future__ import annotations

import adsim
import pandas as pd


def _with_ramp_and_fatigue(small):
    small["duration"] = "6h"
    small["shocks"] = [
        {"name": "drift", "start": "1h", "end": "5h", "shape": "ramp", "ramp_step": "30m", "multiply": {"ctr": 0.5}}
    ]
    small["segments"][0]["fatigue"] = {"half_life": 20000, "recovery": "1d"}
    return small


def test_durations_get_no_calendar_twin(small):
    r = adsim.run(_with_ramp_and_fatigue(small))
    shocks = r.table("truth_shocks")
    assert "ramp_step" in shocks.columns
    assert "ramp_step_at" not in shocks.columns
    # 30 minutes, in microseconds: a length, not a date.
    assert shocks["ramp_step"].tolist() == [30 * 60 * 1_000_000]
    truth = r.table("truth_rates")
    assert "fatigue_recovery" in truth.columns
    assert "fatigue_recovery_at" not in truth.columns


def test_time_columns_still_get_their_calendar_twin(small):
    r = adsim.run(_with_ramp_and_fatigue(small))
    start = pd.Timestamp("2026-03-02T00:00:00")
    shocks = r.table("truth_shocks")
    # start = 1h after the scenario's start, end = 5h after it.
    assert shocks["start_at"].tolist() == [start + pd.Timedelta(hours=1)]
    assert shocks["end_at"].tolist() == [start + pd.Timedelta(hours=5)]
    aggregates = r.table("aggregates")
    assert (aggregates["bucket_start_at"] == start + pd.to_timedelta(aggregates["bucket_start"], unit="us")).all()
    actions = r.table("actions")
    assert "time_at" in actions.columns
