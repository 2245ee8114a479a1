"""result.plot (python/adsim/_plot.py): what is drawn, checked against the run's own tables.

Every plot is made with the Agg backend on real runs of small scenarios; the
tests read the drawn artists back (line data, spans, scatter offsets) and
compare them with the result's tables, and the recomputed pacing target
with what pid_pacing itself reported in its actions' reasons.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import adsim  # noqa: E402
from adsim._plot import pacing_target  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line(ax, label):
    lines = [line for line in ax.get_lines() if line.get_label() == label]
    assert len(lines) == 1, f"expected one line labelled {label!r}, found {[l.get_label() for l in ax.get_lines()]}"
    return lines[0]


def _as_us(result, x):
    """Drawn x values (matplotlib date numbers or datetimes) -> simulated µs."""
    x = np.asarray(x)
    stamps = pd.to_datetime(mdates.num2date(x)).tz_localize(None) if x.dtype.kind == "f" else pd.to_datetime(x)
    return np.round((stamps - result.start) / pd.Timedelta(microseconds=1)).astype(np.int64)


def _shocked(small):
    """The small scenario with a click-rate shock on display, a rule that sees it and a pace forecast."""
    small["duration"] = "3d"
    small["channels"][0]["traffic"]["per_hour"] = 60000
    small["shocks"] = [{"name": "ctr_drop", "start": "36h", "end": "48h", "channels": ["display"],
                        "multiply": {"ctr": 0.4}}]
    small["monitors"] = [{"type": "alert_rule", "params": {"rule": "performance_drop", "metric": "ctr", "threshold": 0.7}},
                         "pace_alert"]
    return small


# ---- pacing -----------------------------------------------------------------


def test_pacing_spend_line_ends_at_the_runs_spend_and_budgets_are_drawn(small_result):
    ax = small_result.plot.pacing("beta")
    kpis = small_result.kpis().set_index("campaign_name")
    spend = _line(ax, "spend")
    # Cumulative spend from 0 at t = 0 to the campaign's total at the end of the run.
    assert spend.get_ydata()[0] == 0.0
    assert spend.get_ydata()[-1] == pytest.approx(kpis.loc["beta", "spend"], rel=1e-12)
    assert np.all(np.diff(spend.get_ydata()) >= 0)
    assert _as_us(small_result, spend.get_xdata())[-1] == small_result.attrs["duration_us"]
    # Daily budget line: spend before each day + 25, so it ends at spend(day 1) + 25.
    daily = small_result.daily[small_result.daily["campaign_name"] == "beta"]
    budget = _line(ax, "daily budget")
    expected = (daily["spend_total"] - daily["spend"] + daily["daily_budget"]).to_numpy()
    np.testing.assert_allclose(budget.get_ydata()[::2], expected)
    assert all(line.get_label() != "total budget" for line in ax.get_lines())  # beta has none
    # Never above the daily cap: cumulative spend at each day's end <= the line.
    assert np.all(daily["spend_total"].to_numpy() <= expected + 1e-9)


def test_pacing_accepts_ax_and_campaign_index(small_result):
    fig, axes = plt.subplots(1, 2)
    returned = small_result.plot.pacing(1, ax=axes[1])
    assert returned is axes[1]
    assert len(axes[0].get_lines()) == 0
    assert "beta" in returned.get_title()


def test_pacing_without_a_pacer_draws_no_target(small_result):
    ax = small_result.plot.pacing("alpha")  # fixed bidding: nothing is paced
    assert "pacing target" not in [line.get_label() for line in ax.get_lines()]
    assert pacing_target(small_result, "alpha") is None


def _reported_errors(result, campaign):
    """(time, e) that pid_pacing wrote in its reasons ("pacing error E")."""
    acts = result.actions[(result.actions["controller"] == "pid_pacing") & (result.actions["campaign_name"] == campaign)]
    errors = acts["reason"].map(lambda r: float(re.match(r"pacing error (\S+)", r).group(1)))
    return acts["time"].to_numpy(), errors.to_numpy()


def _spend_at(result, campaign, times):
    """Cumulative spend at bucket boundaries (exact: the sum of whole buckets before t)."""
    agg = result.aggregates[result.aggregates["campaign_name"] == campaign]
    per_bucket = agg.groupby("bucket_start")["spend"].sum()
    return np.array([per_bucket[per_bucket.index < t].sum() for t in times])


def test_pacing_target_from_profile_is_what_pid_pacing_aimed_at(small_result):
    # pid_pacing (daily budget B = 25, curve traffic) logs e = (target - spend_today) / B.
    # At cycles on bucket boundaries spend_today is exact from aggregates, so
    # target(t) - spend_before_today = e * B + spend_today must match to the
    # 6 decimals of the reason text.
    target = pacing_target(small_result, "beta", source="profile")
    times, errors = _reported_errors(small_result, "beta")
    bucket = small_result.attrs["bucket_us"]
    on_boundary = times % bucket == 0
    assert on_boundary.sum() >= 20
    times, errors = times[on_boundary], errors[on_boundary]
    day = 24 * 3600 * 10**6
    spend_now = _spend_at(small_result, "beta", times)
    spend_before_today = _spend_at(small_result, "beta", (times // day) * day)
    expected = spend_before_today + errors * 25.0 + (spend_now - spend_before_today)
    np.testing.assert_allclose(target.loc[times].to_numpy(), expected, atol=25.0 * 1e-6)


def test_pacing_target_with_a_total_budget_follows_the_lifetime_plan(small):
    # beta with daily 25 and total 30 over 2 days, curve even (F(t) = t / 2 days):
    # today's plan = min(25, left x (F(day end) - F(day start)) / (1 - F(day start))),
    # left = 30 - spend before today: 15 on day 1, 30 - day-1 spend on day 2,
    # so the lifetime branch of pid_pacing (pace_total) is the one that binds.
    small["campaigns"][1]["budget"] = {"daily": 25, "total": 30}
    small["campaigns"][1]["controllers"] = [{"type": "pid_pacing", "params": {"curve": "even"}}]
    result = adsim.run(small)
    target = pacing_target(result, "beta")
    times, errors = _reported_errors(result, "beta")
    on_boundary = times % result.attrs["bucket_us"] == 0
    times, errors = times[on_boundary], errors[on_boundary]
    day = 24 * 3600 * 10**6
    spend_now = _spend_at(result, "beta", times)
    before = _spend_at(result, "beta", (times // day) * day)
    # e = (target - spend_today) / plan.
    plan = np.where(times < day, min(25.0, 15.0), np.minimum(25.0, 30.0 - before))
    expected = before + errors * plan + (spend_now - before)
    assert (times >= day).sum() >= 5 and (plan < 25).any()
    np.testing.assert_allclose(target.loc[times].to_numpy(), expected, atol=25.0 * 1e-6)
    ax = result.plot.pacing("beta")
    assert _line(ax, "total budget").get_ydata()[0] == 30.0


def test_pacing_target_source_switch(small_result, tmp_path):
    # A file without a pacing_target table (written before schema 4): "table"
    # finds nothing and "auto" falls back to the profile.
    import h5py

    path = tmp_path / "old.h5"
    small_result.save(path)
    with h5py.File(path, "r+") as handle:
        del handle["pacing_target"]
    old = adsim.load(path)
    assert not old.has_table("pacing_target")
    assert pacing_target(old, "beta", source="table") is None
    pd.testing.assert_series_equal(pacing_target(old, "beta"), pacing_target(old, "beta", source="profile"))
    # With the table, "auto" reads it.
    assert small_result.has_table("pacing_target")
    pd.testing.assert_series_equal(pacing_target(small_result, "beta"), pacing_target(small_result, "beta", source="table"))
    with pytest.raises(ValueError, match="'auto', 'table' or 'profile'"):
        pacing_target(small_result, "beta", source="guess")


def test_pacing_unknown_campaign_names_the_campaigns(small_result):
    with pytest.raises(ValueError, match=r"no campaign 'gamma'.*alpha, beta"):
        small_result.plot.pacing("gamma")
    with pytest.raises(ValueError, match="out of range"):
        small_result.plot.pacing(5)


# ---- kpi ----------------------------------------------------------------------


def test_kpi_one_line_per_campaign_summing_to_the_kpis(small_result):
    ax = small_result.plot.kpi("spend")
    names = list(small_result.campaigns["name"])
    assert [line.get_label() for line in ax.get_lines()] == names
    kpis = small_result.kpis().set_index("campaign_name")
    for name in names:
        assert np.nansum(_line(ax, name).get_ydata()) == pytest.approx(kpis.loc[name, "spend"], rel=1e-12)


def test_kpi_by_channel_ratio_per_bin(small_result):
    ax = small_result.plot.kpi("ctr", by="channel", freq="6h")
    assert [line.get_label() for line in ax.get_lines()] == list(small_result.channels["name"])
    # ctr of a 6-hour bin = its clicks / its impressions, per channel.
    agg = small_result.aggregates
    display = agg[agg["channel_name"] == "display"]
    first = display[display["bucket_start"] < 6 * 3600 * 10**6]
    y = _line(ax, "display").get_ydata()
    assert len(y) == 8  # 2 days / 6 h
    assert y[0] == pytest.approx(first["clicks"].sum() / first["impressions"].sum(), rel=1e-12)


def test_kpi_cumulative_ends_at_total_and_lists_idle_groups(small):
    small["campaigns"].append({"name": "idle", "channels": ["search"], "creatives": ["x"], "bid": 0.5,
                               "budget": {"daily": 0}})
    result = adsim.run(small)
    ax = result.plot.kpi("clicks", cumulative=True)
    assert len(ax.get_lines()) == 3  # the campaign that never bid gets a (flat) line too
    assert np.all(_line(ax, "idle").get_ydata() == 0)
    kpis = result.kpis().set_index("campaign_name")
    assert _line(ax, "alpha").get_ydata()[-1] == kpis.loc["alpha", "clicks"]


def test_kpi_bad_arguments(small_result):
    with pytest.raises(ValueError, match="expected one of .*ctr"):
        small_result.plot.kpi("ctrr")
    with pytest.raises(ValueError, match="campaign, channel, segment"):
        small_result.plot.kpi("spend", by="creative")
    with pytest.raises(ValueError, match="multiple of the bucket"):
        small_result.plot.kpi("spend", freq="90min")


# ---- timeline -------------------------------------------------------------------


def test_timeline_shocks_alerts_and_actions(small):
    result = adsim.run(_shocked(small))
    assert len(result.alerts) > 0 and len(result.actions) > 0
    ax = result.plot.timeline()
    spans = [p for p in ax.patches if p.get_label().startswith("shock: ")]
    assert [p.get_label() for p in spans] == ["shock: ctr_drop"]
    # The span covers [36 h, 48 h) of simulated time.
    x0, x1 = spans[0].get_xy()[:, 0].min(), spans[0].get_xy()[:, 0].max()
    hour = 3600 * 10**6
    assert list(_as_us(result, [x0, x1])) == [36 * hour, 48 * hour]
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert lanes == ["alerts: alert_rule", "alerts: pace_alert", "actions: pid_pacing"]
    points = {c.get_label(): c.get_offsets() for c in ax.collections}
    for monitor in ("alert_rule", "pace_alert"):
        drawn = points[f"alerts: {monitor}"]
        times = result.alerts.loc[result.alerts["monitor"] == monitor, "time"]
        assert len(drawn) == len(times) > 0
        assert sorted(_as_us(result, drawn[:, 0])) == sorted(times)
        assert set(drawn[:, 1]) == {lanes.index(f"alerts: {monitor}")}
    assert len(points["actions: pid_pacing"]) == len(result.actions)
    # The rule saw the shock: some of its alerts fall inside [36 h, 48 h).
    rule = result.alerts[result.alerts["monitor"] == "alert_rule"]["time"]
    assert ((rule >= 36 * hour) & (rule < 48 * hour)).any()


def test_timeline_campaign_filter_and_ax(small_result):
    fig, ax = plt.subplots()
    assert small_result.plot.timeline(ax=ax, campaign="alpha") is ax
    # alpha has no controller: no action lane; the small scenario has no monitors nor shocks.
    assert [t.get_text() for t in ax.get_yticklabels()] == []
    ax2 = small_result.plot.timeline(campaign="beta")
    offsets = ax2.collections[0].get_offsets()
    assert len(offsets) == (small_result.actions["campaign_name"] == "beta").sum()


def test_pacing_target_from_a_pacing_target_table(small_result):
    # The layout the engine's pacing_target table has (time, campaign, controller, scope,
    # target_spend, spend, budget, target_share): a "day" row holds today's target, so the
    # run's cumulative target adds the spend before the day. Built here from the profile's
    # target (cumulative - spend before the day); reading it back must give the profile's.
    profile = pacing_target(small_result, "beta", source="profile")
    time = profile.index.to_numpy()
    day = 24 * 3600 * 10**6
    before = _spend_at(small_result, "beta", (time // day) * day)
    rows = len(time)
    columns = {"time": time, "campaign": np.ones(rows, dtype=np.int64),
               "controller": np.array(["pid_pacing"] * rows, dtype=object),
               "scope": np.array(["day"] * rows, dtype=object), "target_spend": profile.to_numpy() - before,
               "spend": np.zeros(rows), "budget": np.full(rows, 25.0), "target_share": np.zeros(rows)}
    table = {"name": "pacing_target", "description": "",
             "columns": [{"name": k, "unit": "us" if k == "time" else "", "description": "", "data": v}
                         for k, v in columns.items()]}
    raw = small_result._raw
    with_table = adsim.Result({"tables": raw["tables"] + [table], "attrs": raw["attrs"]})
    from_table = pacing_target(with_table, "beta")  # auto: the table wins
    np.testing.assert_allclose(from_table.to_numpy(), profile.to_numpy(), atol=1e-9)
    assert pacing_target(with_table, "alpha", source="table") is None  # no rows for alpha
