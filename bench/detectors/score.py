"""Windowed scoring of anomaly alarms against labelled windows, in the style of the Numenta Anomaly Benchmark.

Owns the scoring rule of the detector benchmark (bench/detectors/README.md,
"Scoring", states it with a worked example). Per labelled window [start, end]
and per alarm at time t (a row whose alarm is set):

- Relative position: inside a window y = -(end - t) / (end - start), so -1 at
  its start and 0 at its end; after a window y = (t - end) / (end - start) of
  the last window that ended before t. NAB measures the same in rows; the
  benchmark's rows are irregular (gaps, jitter), so time is used instead.
- Scaled sigmoid: sigma(y) = 2 / (1 + exp(5 y)) - 1 (about 0.987 at y = -1,
  0 at y = 0, toward -1 after), and -1 for y > 3 or before every window.
- The first alarm inside a window earns A_TP * sigma(y); later alarms in the
  same window count nothing. A window without an alarm costs A_FN. An alarm
  outside every window costs A_FP * sigma(y) (sigma(y) <= 0 there: an alarm
  just after a window costs little, one far from any window costs A_FP).
- Normalised: 100 * (raw - null) / (perfect - null), with null = -A_FN per
  window (the detector that never alerts scores 0) and perfect the raw score
  of one alarm at the first row of each window (scores 100), over all the
  series scored together.

Profiles (NAB's config/profiles.json): standard A_TP 1, A_FP 0.11, A_FN 1;
reward_low_FP_rate A_FP 0.22; reward_low_FN_rate A_FN 2.

Besides: recall (windows with an alarm / windows), precision (alarms inside a
window / alarms) and the mean and median detection delay (first alarm inside
a window minus its start, hours, over the detected windows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np


@dataclass(frozen=True)
class Profile:
    """NAB's application profile: the weights of a detection, a false positive and a missed window."""

    true_positive: float
    false_positive: float
    false_negative: float


PROFILES: dict[str, Profile] = {
    "standard": Profile(1.0, 0.11, 1.0),
    "reward_low_FP_rate": Profile(1.0, 0.22, 1.0),
    "reward_low_FN_rate": Profile(1.0, 0.11, 2.0),
}


def scaled_sigmoid(position: float) -> float:
    """NAB's scaled sigmoid of a relative position: 2 / (1 + e^(5 y)) - 1, and -1 beyond y = 3."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


@dataclass
class Tally:
    """What one or more series contribute to the score: sums that add across series."""

    raw: dict[str, float] = field(default_factory=lambda: {name: 0.0 for name in PROFILES})
    perfect: dict[str, float] = field(default_factory=lambda: {name: 0.0 for name in PROFILES})
    null: dict[str, float] = field(default_factory=lambda: {name: 0.0 for name in PROFILES})
    windows: int = 0
    detected: int = 0
    alarms: int = 0
    alarms_in_windows: int = 0
    delays_hours: list[float] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        """Adds another tally (another series) to this one."""
        for name in PROFILES:
            self.raw[name] += other.raw[name]
            self.perfect[name] += other.perfect[name]
            self.null[name] += other.null[name]
        self.windows += other.windows
        self.detected += other.detected
        self.alarms += other.alarms
        self.alarms_in_windows += other.alarms_in_windows
        self.delays_hours.extend(other.delays_hours)

    def score(self, profile: str) -> float:
        """The normalised score: 100 for the perfect detector, 0 for the one that never alerts."""
        span = self.perfect[profile] - self.null[profile]
        if span <= 0:
            return float("nan")
        return 100.0 * (self.raw[profile] - self.null[profile]) / span

    def recall(self) -> float:
        """Windows with at least one alarm / windows."""
        return self.detected / self.windows if self.windows else float("nan")

    def precision(self) -> float:
        """Alarms inside a window / alarms (NaN without alarms)."""
        return self.alarms_in_windows / self.alarms if self.alarms else float("nan")

    def mean_delay_hours(self) -> float:
        """Mean of first-alarm-in-window minus window start, hours, over detected windows."""
        return float(np.mean(self.delays_hours)) if self.delays_hours else float("nan")

    def median_delay_hours(self) -> float:
        """Median of the same delays."""
        return float(np.median(self.delays_hours)) if self.delays_hours else float("nan")

    def summary(self) -> dict[str, float]:
        """Every measure of the tally, by name (the columns of the benchmark's tables)."""
        result = {name: self.score(name) for name in PROFILES}
        result.update({"recall": self.recall(), "precision": self.precision(),
                       "mean_delay_hours": self.mean_delay_hours(),
                       "median_delay_hours": self.median_delay_hours(),
                       "windows": float(self.windows), "alarms": float(self.alarms)})
        return result


def score_series(times: Sequence[float], alarms: Sequence[bool],
                 windows: Iterable[tuple[float, float]]) -> Tally:
    """Scores one series under every profile.

    times: the rows' times in hours (any origin), increasing; alarms: per row,
    whether the detector alarmed; windows: (start, end) in the same unit,
    disjoint. Windows that hold no row are an error (nothing could detect
    them)."""
    times = np.asarray(times, dtype=float)
    alarms = np.asarray(alarms, dtype=bool)
    if times.shape != alarms.shape:
        raise ValueError(f"times ({times.shape[0]}) and alarms ({alarms.shape[0]}) differ in length")
    if times.size > 1 and np.any(np.diff(times) < 0):
        raise ValueError("times must be non-decreasing")
    ordered = sorted((float(start), float(end)) for start, end in windows)
    for (start, end), (next_start, _) in zip(ordered, ordered[1:]):
        if next_start <= end:
            raise ValueError(f"windows overlap: [{start}, {end}] and one starting at {next_start}")
    tally = Tally()
    for start, end in ordered:
        if not end > start:
            raise ValueError(f"window [{start}, {end}] is empty")
        inside = np.flatnonzero((times >= start) & (times <= end))
        if inside.size == 0:
            raise ValueError(f"window [{start}, {end}] holds no row")
        best = scaled_sigmoid(-(end - times[inside[0]]) / (end - start))
        for name, profile in PROFILES.items():
            tally.perfect[name] += profile.true_positive * best
            tally.null[name] -= profile.false_negative
        tally.windows += 1
    alarm_times = times[alarms]
    tally.alarms = int(alarm_times.size)
    window_index = 0
    detected_in: set[int] = set()
    for time in alarm_times:
        while window_index < len(ordered) and ordered[window_index][1] < time:
            window_index += 1
        if window_index < len(ordered) and ordered[window_index][0] <= time:
            start, end = ordered[window_index]
            tally.alarms_in_windows += 1
            if window_index in detected_in:
                continue
            detected_in.add(window_index)
            reward = scaled_sigmoid(-(end - time) / (end - start))
            for name, profile in PROFILES.items():
                tally.raw[name] += profile.true_positive * reward
            tally.delays_hours.append(time - start)
        else:
            if window_index == 0:
                weight = -1.0  # before every window
            else:
                start, end = ordered[window_index - 1]
                weight = scaled_sigmoid((time - end) / (end - start))
            for name, profile in PROFILES.items():
                tally.raw[name] += profile.false_positive * weight
    tally.detected = len(detected_in)
    for name, profile in PROFILES.items():
        tally.raw[name] -= profile.false_negative * (tally.windows - tally.detected)
    return tally
