"""The report's pacing target: what a pacing controller aims to have spent by each time.

Owns recomputing, from the scenario text stored in a result file, the target
curve that ``pid_pacing`` steers towards (strategies/controllers/pid_pacing.cc
and strategies/lib/traffic_curve.h): within a day, the share of the day's
expected traffic already past (the campaign's channels' hour-of-day profiles
weighted by their volumes), renormalised over what is left of the first day;
over the flight, the share of the flight's expected traffic (hour-of-day and
day-of-week profiles). A result file that carries the target itself (the
``pacing_target`` table, schema 4) is drawn from that table by the report;
this module is the fallback for older files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd

MICROS_PER_HOUR = 3_600_000_000
MICROS_PER_DAY = 24 * MICROS_PER_HOUR


@dataclass
class TrafficProfile:
    """A campaign's expected traffic: per clock hour of the day and per weekday (Monday first)."""

    hourly: np.ndarray  # (24,) per_hour x hour_of_day summed over the campaign's channels
    weekly: np.ndarray  # (7, 24) per_hour x hour_of_day x day_of_week summed over channels
    even: bool  # the controller's curve is "even" (elapsed time), not traffic
    paced: bool = False  # the campaign has a pid_pacing controller


def _normalised(values: Optional[List[float]], n: int) -> np.ndarray:
    """A profile normalised to mean 1, as the scenario parser does (all ones when absent)."""
    if not values:
        return np.ones(n)
    array = np.asarray(values, dtype=float)
    total = array.sum()
    return array * (n / total) if total > 0 else np.ones(n)


def _names(field: Any, all_names: List[str]) -> List[str]:
    if field is None or field == "all":
        return list(all_names)
    return [str(x) for x in field]


def campaign_profiles(scenario: Dict[str, Any]) -> List[TrafficProfile]:
    """One TrafficProfile per campaign of a parsed scenario (a dict from its YAML/JSON text)."""
    channels = scenario.get("channels") or []
    by_name = {str(c.get("name")): c for c in channels}
    profiles = []
    for campaign in scenario.get("campaigns") or []:
        hourly = np.zeros(24)
        weekly = np.zeros((7, 24))
        for name in _names(campaign.get("channels"), list(by_name)):
            traffic = (by_name.get(name) or {}).get("traffic") or {}
            per_hour = float(traffic.get("per_hour", 0.0))
            hour = _normalised(traffic.get("hour_of_day"), 24)
            day = _normalised(traffic.get("day_of_week"), 7)
            hourly += per_hour * hour
            weekly += per_hour * np.outer(day, hour)
        even = paced = False
        for controller in campaign.get("controllers") or []:
            if isinstance(controller, dict) and controller.get("type") == "pid_pacing":
                params = controller.get("params") or controller
                even = params.get("curve") == "even"
                paced = True
        profiles.append(TrafficProfile(hourly, weekly, even, paced))
    return profiles


def _day_share(profile: TrafficProfile, hours: np.ndarray) -> np.ndarray:
    """Share of the day's expected traffic before hour of day `hours` (ElapsedTrafficShare)."""
    time_share = np.clip(hours / 24.0, 0.0, 1.0)
    total = profile.hourly.sum()
    if profile.even or total <= 0:
        return time_share
    within = np.clip(hours[:, None] - np.arange(24)[None, :], 0.0, 1.0)
    return (within * profile.hourly[None, :]).sum(axis=1) / total


def _flight_share(profile: TrafficProfile, times: np.ndarray, duration: int, offset: int, weekday: int) -> np.ndarray:
    """Share of the flight's expected traffic before each time (FlightTrafficCurve::Share)."""
    duration = max(1, duration)
    times = np.asarray(times, dtype=np.int64)
    if profile.even or profile.weekly.sum() <= 0:
        return np.clip(times / duration, 0.0, 1.0)
    # Pieces end at clock-hour boundaries of the absolute time.
    first_end = MICROS_PER_HOUR - (offset % MICROS_PER_HOUR)
    begins = [0]
    while True:
        nxt = first_end if begins[-1] == 0 else begins[-1] + MICROS_PER_HOUR
        if nxt >= duration:
            break
        begins.append(nxt)
    begins_array = np.asarray(begins, dtype=np.int64)
    ends = np.append(begins_array[1:], duration)
    absolute = begins_array + offset
    hour = (absolute // MICROS_PER_HOUR) % 24
    day = (weekday + absolute // MICROS_PER_DAY) % 7
    rate = profile.weekly[day, hour] / MICROS_PER_HOUR
    amount = rate * (ends - begins_array)
    cumulative = np.concatenate([[0.0], np.cumsum(amount)])
    total = cumulative[-1]
    if total <= 0:
        return np.clip(times / duration, 0.0, 1.0)
    k = np.clip(np.searchsorted(begins_array, times, side="right") - 1, 0, len(begins_array) - 1)
    share = (cumulative[k] + rate[k] * (times - begins_array[k])) / total
    return np.where(times <= 0, 0.0, np.where(times >= duration, 1.0, np.minimum(1.0, share)))


def target_curve(
    profile: TrafficProfile,
    times: np.ndarray,
    *,
    duration: int,
    start: pd.Timestamp,
    day_starts: np.ndarray,
    daily_budget: np.ndarray,
    total_budget: float,
    spend_before_day: np.ndarray,
) -> np.ndarray:
    """Cumulative spend that pid_pacing aims for at each of `times` (µs since the start).

    `day_starts` are the run's budget days (0, then each midnight);
    `daily_budget[d]` the daily budget in force on day d (inf: none),
    `total_budget` the total budget (inf: none) and `spend_before_day[d]` the
    spend before day d. With a daily budget, the target is the spend before
    today plus today's plan times the day's traffic share so far (the plan
    being the smaller of the daily budget and, with a total budget, the
    lifetime plan's share of today); with a total budget only, it is the total
    times the flight's traffic share. Without a budget the target is NaN.
    """
    times = np.asarray(times, dtype=np.int64)
    offset = int((start - start.normalize()) / pd.Timedelta(microseconds=1))
    weekday = int(start.weekday())
    flight = _flight_share(profile, times, duration, offset, weekday)
    day = np.clip(np.searchsorted(day_starts, times, side="right") - 1, 0, len(day_starts) - 1)
    # A time exactly at midnight (or the end of the run at midnight) closes the
    # day before: its whole plan is due.
    at_midnight = (times > 0) & ((times + offset) % MICROS_PER_DAY == 0)
    day = np.where(at_midnight & np.isin(times, day_starts), day - 1, day)
    day_start = day_starts[day]
    hours_now = ((times + offset) % MICROS_PER_DAY) / MICROS_PER_HOUR
    hours_now = np.where(at_midnight, 24.0, hours_now)
    share_now = _day_share(profile, hours_now)
    # The first day may start mid-day: its share is renormalised over what is left.
    first = _day_share(profile, np.array([(offset % MICROS_PER_DAY) / MICROS_PER_HOUR]))[0]
    first_day = day_start == 0
    share_now = np.where(first_day, np.clip((share_now - first) / max(1e-9, 1.0 - first), 0.0, 1.0), share_now)
    budget_today = daily_budget[day]
    before = spend_before_day[day]
    target = np.full(len(times), np.nan)
    daily = np.isfinite(budget_today)
    total = np.isfinite(total_budget)
    if total:
        left = np.maximum(0.0, total_budget - before)
        f0 = _flight_share(profile, day_start, duration, offset, weekday)
        rest = np.maximum(1e-12, 1.0 - f0)
        lifetime_now = left * (flight - f0) / rest
        with np.errstate(invalid="ignore"):  # no daily budget (inf) times a zero share: not used below
            with_both = np.minimum(budget_today * share_now, lifetime_now)
        target = np.where(daily, before + with_both, total_budget * flight)
    else:
        target = np.where(daily, before + budget_today * share_now, np.nan)
    return target
