"""The detector benchmark (bench/detectors/): its windowed scorer on hand-worked cases, its data, its doc table.

Owns the checks that the scoring rule is NAB's (bench/detectors/score.py),
that the committed series and labels are what the generator writes and hold
what the docs claim, that the Python baselines behave, and that the table in
docs/monitoring.md is the render of the saved measurements.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "detectors"
sys.path.insert(0, str(BENCH))

import baselines  # noqa: E402
from score import PROFILES, scaled_sigmoid, score_series  # noqa: E402

HOURS = np.arange(100.0)  # one row an hour, hours 0..99
WINDOW = (10.0, 20.0)


def sigma(y: float) -> float:
    """NAB's scaled sigmoid, written out: 2 / (1 + e^(5y)) - 1."""
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def alarms_at(*hours: float) -> np.ndarray:
    """An alarm column with alarms at the given hours."""
    alarms = np.zeros(HOURS.shape, dtype=bool)
    for hour in hours:
        alarms[int(hour)] = True
    return alarms


def test_scaled_sigmoid_values():
    # sigma(-1) = 2/(1+e^-5) - 1 = 0.986614; sigma(0) = 0; beyond y = 3 it is -1 exactly.
    assert scaled_sigmoid(-1.0) == pytest.approx(0.986614, abs=1e-6)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(3.5) == -1.0


@pytest.mark.parametrize("profile", list(PROFILES))
def test_perfect_detector_scores_100_and_null_scores_0(profile: str):
    perfect = score_series(HOURS, alarms_at(10), [WINDOW])
    null = score_series(HOURS, alarms_at(), [WINDOW])
    assert perfect.score(profile) == pytest.approx(100.0)
    assert null.score(profile) == pytest.approx(0.0)
    assert (perfect.recall(), perfect.precision(), perfect.mean_delay_hours()) == (1.0, 1.0, 0.0)
    assert null.recall() == 0.0 and math.isnan(null.precision())


@pytest.mark.parametrize("profile", list(PROFILES))
def test_an_early_detection_outscores_a_late_one(profile: str):
    # Alarm at hour 12: y = -(20-12)/10 = -0.8; at hour 18: y = -0.2. Score =
    # 100 (A_TP sigma(y) + A_FN) / (A_TP sigma(-1) + A_FN).
    weights = PROFILES[profile]
    early = score_series(HOURS, alarms_at(12), [WINDOW]).score(profile)
    late = score_series(HOURS, alarms_at(18), [WINDOW]).score(profile)
    span = weights.true_positive * sigma(-1) + weights.false_negative
    assert early == pytest.approx(100 * (sigma(-0.8) + weights.false_negative) / span)
    assert late == pytest.approx(100 * (sigma(-0.2) + weights.false_negative) / span)
    assert early > late > 0


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_false_positive_lowers_the_score_by_its_stated_cost(profile: str):
    weights = PROFILES[profile]
    span = weights.true_positive * sigma(-1) + weights.false_negative
    # Before every window an alarm costs A_FP in full: 100 A_FP / span points.
    before = score_series(HOURS, alarms_at(10, 5), [WINDOW]).score(profile)
    assert before == pytest.approx(100 - 100 * weights.false_positive / span)
    # One hour after the window's end: y = (21 - 20) / 10 = 0.1, cost A_FP |sigma(0.1)| (a small part).
    just_after = score_series(HOURS, alarms_at(10, 21), [WINDOW]).score(profile)
    assert just_after == pytest.approx(100 + 100 * weights.false_positive * sigma(0.1) / span)
    # Far after (y > 3): the full cost again.
    far_after = score_series(HOURS, alarms_at(10, 60), [WINDOW]).score(profile)
    assert far_after == pytest.approx(before)
    assert before < just_after < 100


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_missed_window_costs_a_fn(profile: str):
    # Two windows, the first detected at its start, the second missed:
    # raw = sigma(-1) - A_FN, null = -2 A_FN, perfect = 2 sigma(-1), so the score is 50 in every profile.
    tally = score_series(HOURS, alarms_at(10), [WINDOW, (50.0, 60.0)])
    assert tally.score(profile) == pytest.approx(50.0)
    assert tally.recall() == 0.5


def test_later_alarms_in_a_window_count_only_for_precision_and_delay_is_the_first():
    # Alarms at 13, 15 in the window and 80 outside: one detection (delay 3 h), precision 2/3;
    # raw = sigma(-0.7) - A_FP (hour 80 is 6 window lengths after it: y > 3, the full cost).
    tally = score_series(HOURS, alarms_at(13, 15, 80), [WINDOW])
    assert tally.detected == 1 and tally.alarms == 3 and tally.alarms_in_windows == 2
    assert tally.precision() == pytest.approx(2 / 3)
    assert tally.mean_delay_hours() == 3.0
    assert tally.raw["standard"] == pytest.approx(sigma(-0.7) - 0.11)


def test_irregular_rows_use_time_not_row_index():
    # Rows at 0, 1, 2, 14, 19 (a gap over the window's start): the perfect
    # detector's first chance is hour 14 (y = -0.6), and that is what 100 means.
    hours = np.array([0.0, 1.0, 2.0, 14.0, 19.0])
    tally = score_series(hours, np.array([False, False, False, True, False]), [WINDOW])
    assert tally.perfect["standard"] == pytest.approx(sigma(-0.6))
    assert tally.score("standard") == pytest.approx(100.0)


def test_bad_windows_are_refused():
    with pytest.raises(ValueError, match="overlap"):
        score_series(HOURS, alarms_at(), [(10.0, 20.0), (15.0, 30.0)])
    with pytest.raises(ValueError, match="holds no row"):
        score_series(np.array([0.0, 30.0]), np.zeros(2, dtype=bool), [WINDOW])
    with pytest.raises(ValueError, match="differ in length"):
        score_series(HOURS, np.zeros(3, dtype=bool), [WINDOW])


def test_generator_rewrites_the_committed_data_byte_for_byte(tmp_path: Path):
    result = subprocess.run([sys.executable, str(BENCH / "generate.py"), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    committed = sorted(path.name for path in (BENCH / "data").iterdir())
    assert sorted(path.name for path in tmp_path.iterdir()) == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (BENCH / "data" / name).read_bytes(), name


def test_committed_labels_hold_what_the_docs_claim():
    labels = json.loads((BENCH / "data" / "labels.json").read_text())
    total = 0
    types = set()
    for name, record in labels.items():
        frame = pd.read_csv(BENCH / "data" / f"{name}.csv")
        times = pd.to_datetime(frame["timestamp"])
        assert times.is_monotonic_increasing and times.is_unique, name
        values = frame["value"].to_numpy()
        if record["kind"] == "cost":
            assert list(frame.columns) == ["timestamp", "value"] and (values > 0).all(), name
        else:
            assert list(frame.columns) == ["timestamp", "value", "clicks", "impressions"], name
            assert np.allclose(values, frame["clicks"] / frame["impressions"], atol=5e-7), name
        # Gaps: at least one step longer than 2 hours in every series.
        assert times.diff().max() > pd.Timedelta(hours=2), name
        split = pd.Timestamp(record["split"])
        previous_end = None
        for window in record["windows"]:
            start, end = pd.Timestamp(window["start"]), pd.Timestamp(window["end"])
            assert ((times >= start) & (times <= end)).any(), (name, window)
            assert (end < split) or (start >= split), (name, window)
            assert previous_end is None or start > previous_end, (name, window)
            previous_end = end
            types.add((record["kind"], window["type"], window["direction"]))
        total += len(record["windows"])
    assert total >= 300
    kinds = {kind for kind, _, _ in types}
    assert kinds == {"cost", "rate"}
    assert {(t, d) for _, t, d in types} >= {("level_shift", "up"), ("level_shift", "down"), ("spike", "up"),
                                             ("spike", "down"), ("drift", "up"), ("drift", "down"),
                                             ("variance", "up")}
    # Heavy tails: some cost series peak at tens of times its median.
    peaks = [pd.read_csv(BENCH / "data" / f"{name}.csv")["value"].pipe(lambda v: v.max() / v.median())
             for name, record in labels.items() if record["kind"] == "cost"]
    assert max(peaks) > 20


def test_seasonal_robust_z_baseline_flags_a_spike_and_rarely_the_quiet_days():
    # 21 days of a daily pattern with lognormal noise (sd 0.1), a x5 spike
    # (log 5 = 16 noise sd) at day 18, 12:00. From day 14 on each z uses 14
    # past days; for normal data P(|z| > 5) is then about 0.004 per row (Monte
    # Carlo: the MAD of 14 values is unstable), so the 167 quiet rows of days
    # 14-21 expect 0.64 false alarms; more than 4 has probability 0.0005.
    rng = np.random.default_rng(7)
    hours = np.arange(21 * 24, dtype=float)
    log_value = np.sin(2 * np.pi * hours / 24) + rng.normal(0, 0.1, hours.size)
    spike = 18 * 24 + 12
    log_value[spike] += math.log(5)
    frame = pd.DataFrame({"value": np.exp(log_value)})
    z = baselines.robust_z(hours, baselines.transformed(frame, "cost"), seasons=14, min_seasons=7)
    alarms = baselines.alarms_from_z(hours, z, threshold=5.0, cooldown_hours=0.0)
    assert np.isnan(z[:7 * 24]).all()  # fewer than min_seasons past days: no score
    assert not np.isnan(z[7 * 24:]).any()
    assert alarms[spike] and z[spike] > 10
    quiet = np.ones(hours.size, dtype=bool)
    quiet[:14 * 24] = False
    quiet[spike] = False
    assert alarms[quiet].sum() <= 4


def test_monitoring_page_section_is_what_the_harness_renders(tmp_path: Path):
    """The detector table of docs/monitoring.md is generated (bench/detectors/run.py): a hand edit, or a
    harness change without re-rendering, fails here."""
    saved = REPO / "bench" / "results" / "detector_benchmark.json"
    page = REPO / "docs" / "monitoring.md"
    assert saved.is_file(), f"{saved.relative_to(REPO)} missing: run .venv/bin/python bench/detectors/run.py --save " \
                            f"{saved.relative_to(REPO)} --doc docs/monitoring.md"
    rendered = tmp_path / "monitoring.md"
    rendered.write_text(page.read_text())
    result = subprocess.run([sys.executable, str(BENCH / "run.py"), "--render", str(saved), "--doc", str(rendered)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert rendered.read_text() == page.read_text(), (
        "docs/monitoring.md's detector benchmark section differs from what bench/detectors/run.py renders from "
        f"{saved.relative_to(REPO)}: re-render with --render {saved.relative_to(REPO)} --doc docs/monitoring.md")
