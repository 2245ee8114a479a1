"""Reference detectors of the detector benchmark, in Python: the null detector and a seasonal robust z.

Owns the two baselines that stay in the benchmark's table whatever the
library offers: `never` (never alerts: the windowed score's 0) and
`seasonal_robust_z` (the hour-of-day median and MAD of the transformed value
over the last `seasons` days, with a threshold on the robust z and a
cooldown). Both see only the past of each row, as a live detector would.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
import pandas as pd

# Consistency constant of the MAD for a normal distribution: sigma = 1.4826 MAD.
MAD_TO_SIGMA = 1.4826

# Defaults. min_seasons: the MAD of a few values is so unstable that with 5
# past days |z| > 5 happens on 7 % of normal rows (3 % with 7, 0.4 % with 14;
# Monte Carlo, standard normal data), so the baseline waits for a week.

SEASONAL_DEFAULTS = {"threshold": 5.0, "cooldown_hours": 12.0, "seasons": 14, "min_seasons": 7}


def transformed(frame: pd.DataFrame, kind: str) -> np.ndarray:
    """The value on the scale the robust z is taken: log for costs; for rates log of the rate, with a zero
    count replaced by half a click (0.5 / impressions) so an hour without clicks is finite."""
    values = frame["value"].to_numpy(dtype=float)
    if kind == "rate":
        floor = 0.5 / frame["impressions"].to_numpy(dtype=float)
        return np.log(np.maximum(values, floor))
    return np.log(values)


def robust_z(hours: np.ndarray, values: np.ndarray, seasons: int, min_seasons: int) -> np.ndarray:
    """Per row: (x - median) / (1.4826 MAD) of the same clock hour over the last `seasons` days (NaN with fewer
    than `min_seasons` past values, or a zero MAD)."""
    slots: dict[int, deque] = {}
    result = np.full(values.shape, np.nan)
    for row, (hour, value) in enumerate(zip(hours, values)):
        slot = int(math.floor(hour)) % 24
        history = slots.setdefault(slot, deque())
        while history and history[0][0] < hour - seasons * 24 + 0.5:
            history.popleft()
        if len(history) >= min_seasons:
            past = np.fromiter((item[1] for item in history), dtype=float)
            median = float(np.median(past))
            scale = MAD_TO_SIGMA * float(np.median(np.abs(past - median)))
            if scale > 0:
                result[row] = (value - median) / scale
        history.append((hour, value))
    return result


def alarms_from_z(hours: np.ndarray, z: np.ndarray, threshold: float, cooldown_hours: float) -> np.ndarray:
    """Alarm where |z| >= threshold, except within cooldown_hours after the previous alarm."""
    alarms = np.zeros(z.shape, dtype=bool)
    last = -math.inf
    for row in np.flatnonzero(np.nan_to_num(np.abs(z)) >= threshold):
        if hours[row] - last >= cooldown_hours:
            alarms[row] = True
            last = hours[row]
    return alarms
