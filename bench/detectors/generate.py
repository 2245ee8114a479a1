#!/usr/bin/env python3
"""Generates the detector benchmark: realistic synthetic hourly KPI series with labelled anomaly windows.

Owns the series model of the detector benchmark (bench/detectors/README.md
documents it, with every parameter): hourly cost series (CPC and CPM: positive,
heavy-tailed, daily and weekly rhythm) and rate series (CTR from click and
impression counts), with gaps, irregular timestamps, and labelled anomalies
(level shifts up and down that persist, spikes, slow drifts, variance changes).
Everything comes from fixed seeds, so the committed data can be regenerated
byte for byte:

    .venv/bin/python bench/detectors/generate.py [--out bench/detectors/data]

writes one CSV per series (`timestamp,value` for costs,
`timestamp,value,clicks,impressions` for rates; ISO timestamps in UTC without
a zone, header row) and labels.json (per series: its kind, the split time
between the tuning and the held-out half, its model parameters, and its
anomaly windows).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import pathlib
from dataclasses import dataclass

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent

# Calendar: every series starts on a Monday at midnight UTC and lasts 8 weeks.
START = datetime.datetime(2025, 1, 6)
HOURS = 8 * 7 * 24
# The first 5 days hold no anomaly (a detector's warm-up, NAB's "probationary
# period"); no window may start or end within a day of the split between the
# tuning half (weeks 1-4) and the held-out half (weeks 5-8).
PROBATION_HOURS = 5 * 24
SPLIT_HOUR = HOURS // 2
SPLIT_MARGIN_HOURS = 24
# Quiet time between the end of a window and the next anomaly, so that
# windows never overlap and a detector has time to settle (hours, uniform).
SPACING_HOURS = (36, 110)

# The anomaly mix: probability of each type.
ANOMALY_TYPES = {"level_shift": 0.32, "spike": 0.30, "drift": 0.20, "variance": 0.18}

# The series of the benchmark: (name prefix, metric, count). Base seed of
# series i is BASE_SEED + i, so adding series never changes the existing ones.
SERIES = [("cpc", "cpc", 12), ("cpm", "cpm", 8), ("ctr", "ctr", 8), ("ctr_low", "ctr", 6)]
BASE_SEED = 20250106


@dataclass
class Window:
    """A labelled anomaly: its window [start, end) in hours from the series start."""

    kind: str
    direction: str
    start: int
    end: int
    magnitude: float
    duration: int


def daily_profile(rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """A smooth 24-hour log-profile: a first and a second harmonic with a random peak hour."""
    hours = np.arange(24)
    peak = rng.uniform(10, 20)
    second = rng.uniform(0.2, 0.5) * amplitude
    phase = rng.uniform(0, 2 * math.pi)
    profile = amplitude * np.cos(2 * math.pi * (hours - peak) / 24) + second * np.cos(4 * math.pi * hours / 24 + phase)
    return profile - profile.mean()


def weekly_profile(rng: np.random.Generator, weekend: float) -> np.ndarray:
    """Log-multipliers per weekday (Monday first): weekdays vary a little, the weekend by `weekend`."""
    days = rng.normal(0, 0.04, 7)
    days[5:] += weekend
    return days - days.mean()


def place_anomalies(rng: np.random.Generator, metric: str) -> list[Window]:
    """Anomaly windows after the probation, spaced, none near the split; each type's window as documented."""
    windows: list[Window] = []
    hour = PROBATION_HOURS + int(rng.uniform(*SPACING_HOURS)) // 2
    types, probabilities = list(ANOMALY_TYPES), list(ANOMALY_TYPES.values())
    is_rate = metric == "ctr"
    while True:
        kind = str(rng.choice(types, p=probabilities))
        if kind == "spike":
            duration = int(rng.integers(1, 5))
            length = duration + 3
            up = rng.random() < (0.3 if is_rate else 0.8)
            magnitude = rng.uniform(0.1, 0.35) if not up else (rng.uniform(1.8, 3.0) if is_rate else rng.uniform(4, 20))
        elif kind == "level_shift":
            duration = 0  # persists
            length = 24
            up = rng.random() < 0.5
            factor = rng.uniform(1.5, 3.0) if not is_rate else rng.uniform(1.4, 2.2)
            magnitude = factor if up else 1 / factor
        elif kind == "drift":
            duration = int(rng.integers(24, 97))
            length = duration
            up = rng.random() < 0.5
            factor = rng.uniform(1.6, 3.0) if not is_rate else rng.uniform(1.5, 2.5)
            magnitude = factor if up else 1 / factor
        else:  # variance
            duration = int(rng.integers(24, 97))
            length = min(duration, 48)
            up = True
            magnitude = rng.uniform(2.5, 4.0)
        start, end = hour, hour + length
        effect_end = end + max(duration - length, 0)
        crosses_split = start < SPLIT_HOUR + SPLIT_MARGIN_HOURS and effect_end > SPLIT_HOUR - SPLIT_MARGIN_HOURS
        if crosses_split:
            hour = SPLIT_HOUR + SPLIT_MARGIN_HOURS
            continue
        if effect_end > HOURS - 24:
            break
        windows.append(Window(kind, "up" if up else "down", start, end, float(magnitude), duration))
        hour = effect_end + int(rng.uniform(*SPACING_HOURS))
    return windows


def anomaly_effects(windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Per hour: the additive log (or logit) level change and the noise multiplier the anomalies cause."""
    level = np.zeros(HOURS)
    noise = np.ones(HOURS)
    hours = np.arange(HOURS)
    for window in windows:
        log_magnitude = math.log(window.magnitude)
        if window.kind == "spike":
            level[window.start:window.start + window.duration] += log_magnitude
        elif window.kind == "level_shift":
            level[window.start:] += log_magnitude
        elif window.kind == "drift":
            ramp = np.clip((hours - window.start) / window.duration, 0, 1)
            level += log_magnitude * ramp
        else:
            noise[window.start:window.start + window.duration] *= window.magnitude
    return level, noise


def revert_levels(windows: list[Window]) -> None:
    """Flips persisting shifts and drifts whose direction would push the cumulative level beyond x4 either way."""
    cumulative = 0.0
    for window in windows:
        if window.kind in ("level_shift", "drift"):
            step = math.log(window.magnitude)
            if abs(cumulative + step) > math.log(4):
                window.magnitude = 1 / window.magnitude
                window.direction = "up" if window.direction == "down" else "down"
                step = -step
            cumulative += step


def gaps_and_jitter(rng: np.random.Generator, windows: list[Window]) -> tuple[np.ndarray, np.ndarray]:
    """Which hours are observed, and each observed row's offset in seconds within its hour.

    A few outages of 2 to 36 hours, away from the first 6 hours of every window
    (so each window's onset is observed), and about 1 % single missing rows;
    half the series report at irregular minutes (0 to 20 past the hour), the
    others on the hour."""
    observed = np.ones(HOURS, dtype=bool)
    protected = np.zeros(HOURS, dtype=bool)
    for window in windows:
        protected[max(window.start - 2, 0):window.start + 6] = True
    for _ in range(int(rng.integers(2, 6))):
        length = int(rng.integers(2, 37))
        begin = int(rng.integers(24, HOURS - length - 1))
        if not protected[begin:begin + length].any():
            observed[begin:begin + length] = False
    single = rng.random(HOURS) < 0.01
    observed &= ~(single & ~protected)
    jitter = rng.uniform(0, 20 * 60, HOURS).astype(int) if rng.random() < 0.5 else np.zeros(HOURS, dtype=int)
    return observed, jitter


def generate_series(index: int, prefix: str, metric: str, number: int) -> tuple[str, dict, list[str]]:
    """One series: its name, its label record and its CSV lines."""
    rng = np.random.default_rng(BASE_SEED + index)
    name = f"{prefix}_{number:02d}"
    windows = place_anomalies(rng, metric)
    revert_levels(windows)
    level, noise_multiplier = anomaly_effects(windows)
    observed, jitter = gaps_and_jitter(rng, windows)
    hours = np.arange(HOURS)
    hour_of_day, day_of_week = hours % 24, (hours // 24) % 7
    params: dict = {"metric": metric}
    if metric in ("cpc", "cpm"):
        median = rng.uniform(0.3, 3.0) if metric == "cpc" else rng.uniform(1.5, 12.0)
        sigma = rng.uniform(0.15, 0.3) if metric == "cpc" else rng.uniform(0.1, 0.2)
        tail = 3.0 if metric == "cpc" else 5.0
        daily = daily_profile(rng, rng.uniform(0.1, 0.35))
        weekly = weekly_profile(rng, rng.uniform(-0.25, 0.1))
        # A slow, mean-reverting wander of the level (AR(1) in log, hourly),
        # legitimate variation a detector must not alarm on.
        wander = np.zeros(HOURS)
        for hour in range(1, HOURS):
            wander[hour] = 0.995 * wander[hour - 1] + rng.normal(0, 0.01)
        log_value = (math.log(median) + daily[hour_of_day] + weekly[day_of_week] + wander + level
                     + sigma * noise_multiplier * rng.standard_t(tail, HOURS))
        values = np.exp(log_value)
        rows = [f"{values[hour]:.4f}" for hour in hours]
        header = "timestamp,value"
        params.update({"median": round(median, 4), "sigma": round(sigma, 4), "student_t_df": tail})
    else:
        low_volume = prefix.endswith("low")
        volume = rng.uniform(60, 300) if low_volume else rng.uniform(1000, 8000)
        rate = rng.uniform(0.005, 0.04)
        traffic_daily = daily_profile(rng, rng.uniform(0.5, 0.9))
        traffic_weekly = weekly_profile(rng, rng.uniform(-0.4, 0.0))
        rate_daily = daily_profile(rng, rng.uniform(0.05, 0.2))
        # Overdispersion: the hour's rate varies around its expectation
        # (normal on the logit scale), and traffic is lognormal around its profile.
        rate_noise = rng.uniform(0.04, 0.1)
        wander = np.zeros(HOURS)
        for hour in range(1, HOURS):
            wander[hour] = 0.99 * wander[hour - 1] + rng.normal(0, 0.01)
        expected_impressions = volume * np.exp(traffic_daily[hour_of_day] + traffic_weekly[day_of_week]
                                               + rng.normal(0, 0.15, HOURS))
        impressions = rng.poisson(expected_impressions)
        logit = (math.log(rate / (1 - rate)) + rate_daily[hour_of_day] + wander + level
                 + rate_noise * noise_multiplier * rng.standard_normal(HOURS))
        probability = 1 / (1 + np.exp(-logit))
        clicks = rng.binomial(impressions, probability)
        # An hour without impressions has no rate: it is not reported.
        observed &= impressions > 0
        rows = [f"{clicks[hour] / impressions[hour]:.6f},{clicks[hour]},{impressions[hour]}" if impressions[hour] else ""
                for hour in hours]
        header = "timestamp,value,clicks,impressions"
        params.update({"impressions_per_hour": round(volume, 1), "ctr": round(rate, 5),
                       "logit_noise_sd": round(rate_noise, 4)})

    def stamp(hour: int, seconds: int = 0) -> str:
        return (START + datetime.timedelta(hours=int(hour), seconds=int(seconds))).isoformat()

    lines = [header] + [f"{stamp(hour, jitter[hour])},{rows[hour]}" for hour in hours if observed[hour]]
    # A window starts at its onset row (the first observed row of its anomaly)
    # and ends at the end of its hour span.
    labels = [{"start": stamp(w.start, jitter[w.start]), "end": stamp(w.end), "type": w.kind,
               "direction": w.direction, "magnitude": round(w.magnitude, 3), "duration_hours": w.duration}
              for w in windows]
    record = {"kind": "rate" if metric == "ctr" else "cost", "split": stamp(SPLIT_HOUR), "params": params,
              "windows": labels}
    return name, record, lines


def main() -> int:
    """Writes every series and labels.json to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "data"), help="output directory (default bench/detectors/data)")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    labels: dict = {}
    index = 0
    for prefix, metric, count in SERIES:
        for number in range(1, count + 1):
            name, record, lines = generate_series(index, prefix, metric, number)
            (out / f"{name}.csv").write_text("\n".join(lines) + "\n")
            labels[name] = record
            index += 1
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    windows = sum(len(record["windows"]) for record in labels.values())
    print(f"{len(labels)} series, {windows} labelled windows, written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
