"""``Result.plot``: the pictures people look at, on matplotlib.

Owns the plot accessor of a :class:`adsim.Result` (``result.plot.pacing``,
``result.plot.kpi``, ``result.plot.timeline``) and the pacing-target curve it
draws (:func:`pacing_target`). Each plot draws into ``ax=`` (or a new figure)
and returns the Axes; every artist carries a label (``"spend"``,
``"pacing target"``, ``"shock: NAME"``, ...) so that tests and users can find
what was drawn. matplotlib is imported only when a plot is made, so
``import adsim`` does not need it. Documented in docs/plots.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ._result import Result

HOUR_US = 3600 * 10**6
DAY_US = 24 * HOUR_US

#: Counters of ``aggregates`` that kpi() sums, with their ``kpis()`` names.
_SUMS = {
    "opportunities": "opportunities",
    "bids": "bids",
    "wins": "wins",
    "impressions": "impressions",
    "clicks": "clicks",
    "conversions": "conversions",
    "value": "conversion_value",
    "spend": "spend",
}
#: Ratios kpi() computes per time bin, as in Result.kpis(): (numerator, denominator, scale).
_RATIOS = {
    "ctr": ("clicks", "impressions", 1.0),
    "cvr": ("conversions", "clicks", 1.0),
    "cpc": ("spend", "clicks", 1.0),
    "cpm": ("spend", "impressions", 1000.0),
    "cpa": ("spend", "conversions", 1.0),
    "roas": ("value", "spend", 1.0),
    "win_rate": ("wins", "bids", 1.0),
}
#: Action statuses and the marker colour timeline() gives them.
_STATUS_COLOURS = {
    "applied": "tab:green",
    "approved": "tab:green",
    "clamped": "tab:orange",
    "held": "tab:purple",
    "rejected": "tab:red",
}
_SEVERITY_COLOURS = {"info": "tab:blue", "warning": "tab:orange", "critical": "tab:red"}


def _axes(ax: Optional["Axes"], figsize: Tuple[float, float] = (10, 3.5)) -> "Axes":
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def _campaign_index(result: "Result", campaign: Union[int, str]) -> int:
    names = [str(n) for n in result.raw("campaigns")["name"]]
    if isinstance(campaign, (int, np.integer)) and not isinstance(campaign, bool):
        if 0 <= int(campaign) < len(names):
            return int(campaign)
        raise ValueError(f"campaign index {campaign} out of range: the run has {len(names)} campaigns ({', '.join(names)})")
    if campaign in names:
        return names.index(str(campaign))
    raise ValueError(f"no campaign {campaign!r} in this run; campaigns: {', '.join(names)}")


# ---- the pacing target ------------------------------------------------------


def _scenario_dict(result: "Result") -> Dict[str, Any]:
    """The scenario the run used, parsed from the text stored in the result (YAML or JSON)."""
    import yaml  # type: ignore[import]  # PyYAML; JSON is YAML too

    data = yaml.safe_load(result.scenario) if result.scenario else None
    if not isinstance(data, dict):
        raise ValueError("the result holds no scenario text to compute the pacing target from")
    return data


def _normalised(values: Optional[Sequence[float]], size: int) -> np.ndarray:
    """A traffic profile scaled to mean 1, as the scenario parser does (all 1 when absent)."""
    if not values:
        return np.ones(size)
    array = np.asarray(values, dtype=float)
    return array * size / array.sum()


class _TrafficProfile:
    """The campaign's expected traffic, as strategies/lib/traffic_curve.h computes it.

    ``hourly[h]`` is the expected traffic in clock hour h of a day (hour-of-day
    profiles weighted by per_hour, no day of week), and ``flight_share(t)`` the
    share of the flight's expected traffic before t (with day of week).
    """

    def __init__(self, result: "Result", campaign: int) -> None:
        scenario = _scenario_dict(result)
        channels = {str(c.get("name")): c for c in scenario.get("channels", [])}
        listed = scenario.get("campaigns", [])[campaign].get("channels", "all")
        used = list(channels) if listed in (None, "all") else [str(name) for name in listed]
        self.hourly = np.zeros(24)
        self._weekly = np.zeros((7, 24))
        for name in used:
            traffic = channels[name].get("traffic", {})
            per_hour = float(traffic.get("per_hour", 0))
            hour_of_day = _normalised(traffic.get("hour_of_day"), 24)
            day_of_week = _normalised(traffic.get("day_of_week"), 7)
            self.hourly += per_hour * hour_of_day
            self._weekly += per_hour * np.outer(day_of_week, hour_of_day)
        start = result.start
        self.offset_in_day = int((start - start.normalize()) / pd.Timedelta(microseconds=1))
        self.weekday = int(start.weekday())  # 0 = Monday, as day_of_week
        self.duration = max(1, int(result.attrs.get("duration_us", 0)))
        self._build_flight()

    def _build_flight(self) -> None:
        # Pieces end at clock-hour boundaries (the first may be shorter).
        first_end = HOUR_US - self.offset_in_day % HOUR_US
        ends, rates, begin = [], [], 0
        while begin < self.duration:
            end = min(self.duration, first_end if begin == 0 else begin + HOUR_US)
            absolute = begin + self.offset_in_day
            hour = (absolute // HOUR_US) % 24
            weekday = (self.weekday + absolute // DAY_US) % 7
            rates.append(self._weekly[weekday, hour] / HOUR_US)
            ends.append(end)
            begin = end
        self._ends = np.asarray(ends, dtype=np.int64)
        self._begins = np.concatenate([[0], self._ends[:-1]])
        self._rates = np.asarray(rates)
        self._cumulative = np.concatenate([[0.0], np.cumsum(self._rates * (self._ends - self._begins))])
        self._total = float(self._cumulative[-1])

    def day_share(self, hours: np.ndarray, even: bool) -> np.ndarray:
        """Share of a day's expected traffic before hour of day `hours` (ElapsedTrafficShare)."""
        time_share = np.clip(hours / 24.0, 0.0, 1.0)
        total = self.hourly.sum()
        if even or not total > 0:
            return time_share
        before = np.clip(hours[:, None] - np.arange(24)[None, :], 0.0, 1.0) @ self.hourly
        return before / total

    def flight_share(self, t: np.ndarray, even: bool) -> np.ndarray:
        """Share of the flight's expected traffic before t (FlightTrafficCurve::Share)."""
        t = np.asarray(t, dtype=np.int64)
        if even or not self._total > 0:
            return np.clip(t / self.duration, 0.0, 1.0)
        k = np.clip(np.searchsorted(self._ends, t, side="right"), 0, len(self._rates) - 1)
        share = (self._cumulative[k] + self._rates[k] * (t - self._begins[k])) / self._total
        return np.where(t <= 0, 0.0, np.where(t >= self.duration, 1.0, np.minimum(1.0, share)))


def _pacing_params(result: "Result", campaign: int) -> Optional[Dict[str, Any]]:
    """The campaign's pid_pacing parameters (curve, pace_total) as in the scenario, or None if it has none."""
    scenario = _scenario_dict(result)
    for controller in scenario.get("campaigns", [])[campaign].get("controllers", []) or []:
        if isinstance(controller, dict) and controller.get("type") == "pid_pacing":
            params = controller.get("params", {}) or {}
            return {"curve": str(params.get("curve", "traffic")), "pace_total": bool(params.get("pace_total", True))}
    return None


def _budget_steps(result: "Result", campaign: int, kind: str, initial: float) -> Tuple[np.ndarray, np.ndarray]:
    """(times, values) of the campaign's daily or total budget: the initial one, then every change that took effect."""
    times, values = [0], [initial]
    if result.has_table("actions"):
        actions = result.raw("actions")
        took_effect = np.isin(np.asarray(actions["status"], dtype=object), ["applied", "clamped", "approved"])
        mine = (np.asarray(actions["campaign"]) == campaign) & (np.asarray(actions["kind"], dtype=object) == kind)
        for time, value in zip(np.asarray(actions["time"])[mine & took_effect], np.asarray(actions["new"])[mine & took_effect]):
            times.append(int(time))
            values.append(float(value))
    return np.asarray(times, dtype=np.int64), np.asarray(values, dtype=float)


def _in_force(steps: Tuple[np.ndarray, np.ndarray], t: np.ndarray) -> np.ndarray:
    times, values = steps
    return values[np.searchsorted(times, t, side="right") - 1]


def _day_starts(t: np.ndarray, offset_in_day: int) -> np.ndarray:
    """The start of the day containing each t: 0 on the first day, then each midnight."""
    day_start = ((t + offset_in_day) // DAY_US) * DAY_US - offset_in_day
    return np.maximum(day_start, 0)


def _cumulative_spend(result: "Result", campaign: int) -> pd.Series:
    """Cumulative spend of the campaign at the end of each bucket (indexed by simulated µs), from 0 at t = 0."""
    aggregates = result.raw("aggregates")
    mine = np.asarray(aggregates["campaign"]) == campaign
    bucket = int(result.attrs.get("bucket_us", HOUR_US))
    per_bucket = pd.Series(np.asarray(aggregates["spend"])[mine]).groupby(np.asarray(aggregates["bucket_start"])[mine]).sum()
    duration = int(result.attrs.get("duration_us", 0))
    starts = np.arange(0, max(duration, bucket), bucket, dtype=np.int64)
    per_bucket = per_bucket.reindex(starts, fill_value=0.0)
    ends = np.minimum(starts + bucket, max(duration, bucket))
    return pd.concat([pd.Series([0.0], index=[0]), pd.Series(per_bucket.cumsum().to_numpy(), index=ends)])


def _pacing_target_from_table(result: "Result", campaign: int) -> Optional[pd.Series]:
    """The pacing target the controller itself recorded (the ``pacing_target`` table), or None.

    A ``day`` row's target_spend is today's spend aimed at, so the run's
    cumulative target adds the spend before today (from ``daily``); a
    ``flight`` row's is already cumulative since the start.
    """
    if not result.has_table("pacing_target"):
        return None
    table = pd.DataFrame(result.raw("pacing_target"))
    table = table[table["campaign"] == campaign]
    if table.empty:
        return None
    table = table[table["controller"] == table["controller"].iloc[0]]  # the first pacing controller
    time = table["time"].to_numpy(dtype=np.int64)
    target = table["target_spend"].to_numpy(dtype=float)
    day = table["scope"].astype(str).to_numpy() == "day"
    if day.any():
        cumulative = _cumulative_spend(result, campaign)
        offset = _TrafficProfile(result, campaign).offset_in_day
        before_today = np.interp(_day_starts(time, offset), cumulative.index.to_numpy(), cumulative.to_numpy())
        target = np.where(day, before_today + target, target)
    return pd.Series(target, index=time, name="pacing target")


def _pacing_target_from_profile(result: "Result", campaign: int) -> Optional[pd.Series]:
    """The pacing target recomputed from the scenario's traffic profile, as pid_pacing does.

    At each control cycle t (strategies/controllers/pid_pacing.cc), with B the
    daily budget in force and S0 the spend before today:

    * daily budget: S0 + B x (share of the day's expected traffic before t,
      or of its time for curve "even", renormalised over the first day's rest
      when the run starts mid-day);
    * with a total budget T too (pace_total): S0 + min(that, (T - S0) x
      (F(t) - F(day start)) / (1 - F(day start))), F the flight's traffic share;
    * total budget only: T x F(t).

    None when the campaign has no pid_pacing controller or nothing to pace.
    """
    params = _pacing_params(result, campaign)
    if params is None:
        return None
    even = params["curve"] == "even"
    campaigns = result.raw("campaigns")
    profile = _TrafficProfile(result, campaign)
    cycle = int(result.attrs.get("control_cycle_us", 15 * 60 * 10**6))
    t = np.arange(0, profile.duration, cycle, dtype=np.int64)  # the control cycles
    daily = _in_force(_budget_steps(result, campaign, "set_daily_budget", float(campaigns["daily_budget"][campaign])), t)
    total = _in_force(_budget_steps(result, campaign, "set_total_budget", float(campaigns["total_budget"][campaign])), t)
    if not (np.isfinite(daily).any() or np.isfinite(total).any()):
        return None
    cumulative = _cumulative_spend(result, campaign)
    day_start = _day_starts(t, profile.offset_in_day)
    spend_before_today = np.interp(day_start, cumulative.index.to_numpy(), cumulative.to_numpy())
    hours = ((t + profile.offset_in_day) % DAY_US) / HOUR_US
    first_day_start = profile.day_share(np.array([profile.offset_in_day / HOUR_US]), even)[0]
    share = profile.day_share(hours, even)
    f0 = np.where(day_start == 0, first_day_start, 0.0)
    day_fraction = np.clip((share - f0) / np.maximum(1e-9, 1.0 - f0), 0.0, 1.0)
    with np.errstate(invalid="ignore"):
        today = np.where(np.isfinite(daily), daily * day_fraction, np.inf)
        flight = profile.flight_share(t, even)
        if np.isfinite(daily).any() and params["pace_total"]:
            f_day = profile.flight_share(day_start, even)
            left = np.maximum(0.0, total - spend_before_today)
            lifetime = left * (flight - f_day) / np.maximum(1e-12, 1.0 - f_day)
            today = np.where(np.isfinite(total), np.minimum(today, lifetime), today)
        target = np.where(np.isfinite(daily), spend_before_today + today, total * flight)
    return pd.Series(target, index=t, name="pacing target")


def pacing_target(result: "Result", campaign: Union[int, str], source: str = "auto") -> Optional[pd.Series]:
    """The cumulative spend pacing aimed at, per control cycle (index: simulated µs), or None.

    ``source="table"`` reads what the controller recorded in the result's
    ``pacing_target`` table (results that have it); ``"profile"`` recomputes
    it from the scenario's traffic profiles as ``pid_pacing`` does;
    ``"auto"`` (default) uses the table when the result has one and the
    profile otherwise. This is the one place the choice is made.
    """
    index = _campaign_index(result, campaign)
    if source not in ("auto", "table", "profile"):
        raise ValueError(f"pacing_target(source=...): expected 'auto', 'table' or 'profile', found {source!r}")
    if source in ("auto", "table"):
        from_table = _pacing_target_from_table(result, index)
        if from_table is not None or source == "table":
            return from_table
    return _pacing_target_from_profile(result, index)


# ---- the accessor -----------------------------------------------------------


class PlotAccessor:
    """``result.plot``: matplotlib plots of one run. Each method returns the Axes it drew on."""

    def __init__(self, result: "Result") -> None:
        self._result = result

    def pacing(self, campaign: Union[int, str], ax: Optional["Axes"] = None, target: str = "auto") -> "Axes":
        """Cumulative spend of `campaign` (name or index) against its budgets and its pacing target.

        Lines (by label): ``spend`` (cumulative, at each bucket's end; its last
        point is the campaign's spend over the run), ``daily budget`` (spend
        before today + the daily budget in force at the end of the day, from
        ``daily``; absent without a daily budget), ``total budget`` (horizontal;
        absent without one) and ``pacing target`` (see :func:`pacing_target`,
        `target` is its ``source``; absent for a campaign without pacing).
        """
        result = self._result
        index = _campaign_index(result, campaign)
        name = str(result.raw("campaigns")["name"][index])
        ax = _axes(ax)
        spend = _cumulative_spend(result, index)
        ax.plot(result.to_datetime(spend.index.to_numpy()), spend.to_numpy(), label="spend", color="tab:blue", lw=1.8)
        daily = pd.DataFrame(result.raw("daily"))
        daily = daily[daily["campaign"] == index].sort_values("day_start")
        if len(daily) and np.isfinite(daily["daily_budget"]).any():
            before = (daily["spend_total"] - daily["spend"]).to_numpy()
            starts = daily["day_start"].to_numpy(dtype=np.int64)
            ends = np.append(starts[1:], int(result.attrs.get("duration_us", starts[-1])))
            x = np.stack([starts, ends], axis=1).ravel()  # each day: from its start to its end
            y = np.repeat(before + daily["daily_budget"].to_numpy(), 2)
            ax.plot(result.to_datetime(x), y, label="daily budget", color="tab:gray", ls="--", lw=1)
        total_budget = daily["total_budget"].to_numpy() if len(daily) else np.array([])
        if len(total_budget) and np.isfinite(total_budget[-1]):
            ax.axhline(float(total_budget[-1]), label="total budget", color="k", ls=":", lw=1)
        aimed = pacing_target(result, index, source=target)
        if aimed is not None:
            ax.plot(result.to_datetime(aimed.index.to_numpy()), aimed.to_numpy(), label="pacing target",
                    color="tab:orange", lw=1.2)
        ax.set_title(f"{name}: cumulative spend")
        ax.set_ylabel("spend (currency)")
        ax.legend(loc="upper left", fontsize=8)
        return ax

    def kpi(self, metric: str = "spend", by: str = "campaign", ax: Optional["Axes"] = None,
            freq: Optional[str] = None, cumulative: bool = False) -> "Axes":
        """Timeline of one KPI, one line per campaign, channel or segment (`by`).

        `metric` is a counter (opportunities, bids, wins, impressions, clicks,
        conversions, value, spend) or a ratio (ctr, cvr, cpc, cpm, cpa, roas,
        win_rate), computed per time bin from the summed counters as in
        :meth:`Result.kpis` (NaN, so a gap, where the denominator is 0). Bins are
        the result's buckets, or `freq` (a pandas offset such as ``"6h"`` or
        ``"1D"``, a multiple of the bucket). Every member of `by` gets a line,
        labelled by its name, even one without activity. `cumulative` sums
        counters over time (ratios of the running sums for ratios).
        """
        result = self._result
        if metric not in _SUMS and metric not in _RATIOS:
            raise ValueError(f"kpi(metric={metric!r}): expected one of {', '.join(list(_SUMS) + list(_RATIOS))}")
        dictionaries = {"campaign": "campaigns", "channel": "channels", "segment": "segments"}
        if by not in dictionaries:
            raise ValueError(f"kpi(by={by!r}): expected one of {', '.join(dictionaries)}")
        names = [str(n) for n in result.raw(dictionaries[by])["name"]]
        aggregates = pd.DataFrame(result.raw("aggregates"))
        bucket = int(result.attrs.get("bucket_us", HOUR_US))
        width = bucket if freq is None else int(pd.Timedelta(freq) / pd.Timedelta(microseconds=1))
        if width <= 0 or width % bucket:
            raise ValueError(f"kpi(freq={freq!r}): expected a positive multiple of the bucket ({bucket // 10**6} s)")
        duration = int(result.attrs.get("duration_us", 0))
        bins = np.arange(0, max(duration, width), width, dtype=np.int64)
        aggregates["bin"] = (aggregates["bucket_start"] // width) * width
        sums = aggregates.groupby([by, "bin"])[list(_SUMS.values())].sum()
        sums.columns = list(_SUMS)
        full = pd.MultiIndex.from_product([range(len(names)), bins], names=[by, "bin"])
        sums = sums.reindex(full, fill_value=0)
        if cumulative:
            sums = sums.groupby(level=by).cumsum()
        if metric in _SUMS:
            values = sums[metric].astype(float)
        else:
            numerator, denominator, scale = _RATIOS[metric]
            den = sums[denominator].astype(float)
            values = (scale * sums[numerator].astype(float) / den).where(den > 0)
        ax = _axes(ax)
        x = result.to_datetime(bins)
        for code, name in enumerate(names):
            ax.plot(x, values.xs(code, level=by).reindex(bins).to_numpy(), label=name, lw=1.2,
                    drawstyle="steps-post")
        ax.set_title(f"{'cumulative ' if cumulative else ''}{metric} by {by}")
        ax.set_ylabel(metric)
        ax.legend(loc="best", fontsize=8)
        return ax

    def timeline(self, ax: Optional["Axes"] = None, campaign: Optional[Union[int, str]] = None) -> "Axes":
        """Alerts, controller actions and injected shocks on one time axis.

        Shocks are shaded spans over [start, end) labelled ``shock: NAME``;
        above them one lane per monitor (``alerts: MONITOR``, a marker per
        alert coloured by severity) and one lane per controller (``actions:
        CONTROLLER``, a marker per action coloured by status: green applied or
        approved, orange clamped, purple held, red rejected). `campaign` keeps
        only the alerts and actions about that campaign (alerts about all
        campaigns stay).
        """
        result = self._result
        ax = _axes(ax, figsize=(10, 3.0))
        keep = None if campaign is None else _campaign_index(result, campaign)
        lanes: List[str] = []
        if result.has_table("truth_shocks"):
            shocks = result.raw("truth_shocks")
            for i, (name, start, end) in enumerate(zip(shocks["name"], shocks["start"], shocks["end"])):
                ax.axvspan(result.to_datetime(int(start)), result.to_datetime(min(int(end), int(result.attrs.get("duration_us", end)))),
                           color=f"C{i % 10}", alpha=0.15, label=f"shock: {name}")
        if result.has_table("alerts"):
            alerts = pd.DataFrame(result.raw("alerts"))
            if keep is not None and len(alerts):
                alerts = alerts[(alerts["campaign"] == keep) | (alerts["campaign"] < 0)]
            for monitor, group in alerts.groupby("monitor", sort=True):
                lane = len(lanes)
                lanes.append(f"alerts: {monitor}")
                colours = [_SEVERITY_COLOURS.get(str(s), "tab:gray") for s in group["severity"]]
                ax.scatter(result.to_datetime(group["time"].to_numpy()), np.full(len(group), lane), c=colours,
                           marker="v", s=25, label=f"alerts: {monitor}", zorder=3)
        if result.has_table("actions"):
            actions = pd.DataFrame(result.raw("actions"))
            if keep is not None and len(actions):
                actions = actions[actions["campaign"] == keep]
            for controller, group in actions.groupby("controller", sort=True):
                lane = len(lanes)
                lanes.append(f"actions: {controller}")
                colours = [_STATUS_COLOURS.get(str(s), "tab:gray") for s in group["status"]]
                ax.scatter(result.to_datetime(group["time"].to_numpy()), np.full(len(group), lane), c=colours,
                           marker="|", s=60, label=f"actions: {controller}", zorder=3)
        ax.set_yticks(range(len(lanes)))
        ax.set_yticklabels(lanes, fontsize=8)
        ax.set_ylim(-0.75, max(len(lanes), 1) - 0.25)
        ax.set_xlim(result.to_datetime(0), result.to_datetime(int(result.attrs.get("duration_us", 0))))
        ax.set_title("alerts, actions and shocks")
        return ax

    def __repr__(self) -> str:
        return "<adsim plot accessor: pacing(campaign), kpi(metric, by=...), timeline()>"


__all__ = ["PlotAccessor", "pacing_target"]
