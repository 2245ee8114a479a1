"""Result.kpis(by=..., basis=...) against sums written by hand from the raw tables (docs/python.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import adsim

HOUR = 3600 * 10**6
DAY = 24 * HOUR


@pytest.fixture(scope="module")
def shifted():
    """The small scenario started at 18:30, with 30-minute buckets: days and hours do not start at
    t = 0, so the calendar alignment is exercised."""
    from conftest import small_scenario

    scenario = small_scenario()
    scenario["start"] = "2026-03-02T18:30:00"
    scenario["bucket"] = "30m"
    return adsim.run(scenario)


def raw_frame(result, table):
    return pd.DataFrame(result.raw(table))


def test_account_total_is_the_sum_of_every_row(shifted):
    agg = raw_frame(shifted, "aggregates")
    total = shifted.kpis([])
    assert len(total) == 1
    for column, raw in (("spend", "spend"), ("clicks", "clicks"), ("conversions", "conversions"),
                        ("value", "conversion_value")):
        assert total[column][0] == pytest.approx(agg[raw].sum(), rel=1e-12)
    assert total["cpa"][0] == pytest.approx(agg["spend"].sum() / agg["conversions"].sum())
    # budget: both campaigns have only daily budgets (60, 25) over 3 calendar days (18:30 day 1
    # to 18:30 day 3: a partial first day, a whole day, a partial last day): 3 x 85.
    assert total["budget"][0] == pytest.approx(3 * (60 + 25))
    assert total["budget_used"][0] == pytest.approx(total["spend"][0] / total["budget"][0])


def test_by_day_follows_the_daily_ledger(shifted):
    by_day = shifted.kpis(["day", "campaign"])
    daily = raw_frame(shifted, "daily")
    # Days start at t = 0, then at each midnight: 18:30 start -> the first midnight at 5.5 h.
    assert sorted(by_day["day_start"].unique()) == [0, int(5.5 * HOUR), int(29.5 * HOUR)]
    assert sorted(daily["day_start"].unique()) == sorted(by_day["day_start"].unique())
    merged = by_day.merge(daily, on=["day_start", "campaign"], suffixes=("", "_ledger"))
    assert len(merged) == len(by_day)
    np.testing.assert_allclose(merged["spend"], merged["spend_ledger"], rtol=1e-9, atol=1e-6)
    assert (by_day["day_start_at"] == shifted.start + pd.to_timedelta(by_day["day_start"], unit="us")).all()


def test_by_hour_sums_the_two_half_hour_buckets(shifted):
    agg = raw_frame(shifted, "aggregates")
    # Bucket b starts at 18:30 + b x 30 min; the hour of a bucket is that clock hour.
    start_of_day = int(18.5 * HOUR)
    hour = np.maximum(((agg["bucket_start"] + start_of_day) // HOUR) * HOUR - start_of_day, 0)
    by_hand = agg.groupby(hour)["clicks"].sum()
    by_hour = shifted.kpis("hour").set_index("hour_start")["clicks"]
    assert by_hour.to_dict() == by_hand.to_dict()
    assert by_hour.index[1] == HOUR // 2  # 19:00 is 30 min after the start
    assert shifted.kpis("hour")["hour_start_at"][1] == pd.Timestamp("2026-03-02T19:00:00")
    of_day = shifted.kpis("hour_of_day").set_index("hour_of_day")
    assert list(of_day.index) == list(range(24))
    assert of_day["clicks"].sum() == agg["clicks"].sum()
    assert of_day.loc[18, "clicks"] == agg.loc[((agg["bucket_start"] + start_of_day) // HOUR) % 24 == 18,
                                               "clicks"].sum()


def test_hour_needs_buckets_of_at_most_an_hour():
    from conftest import small_scenario

    scenario = small_scenario()
    scenario["bucket"] = "2h"
    with pytest.raises(ValueError, match="2 h long"):
        adsim.run(scenario).kpis("hour")


def test_by_click_time_counts_each_conversion_at_its_click(shifted):
    conversions = raw_frame(shifted, "conversions")
    reported = conversions[conversions["reported"] == 1]
    bucket = int(shifted.attrs["bucket_us"])
    cohorts = shifted.kpis(["bucket_start", "campaign"], basis="click")
    by_hand = reported.groupby([(reported["click_time"] // bucket) * bucket, "campaign"])["value"].agg(
        ["size", "sum"])
    got = cohorts.set_index(["bucket_start", "campaign"])
    got = got[got["conversions"] > 0]
    assert got["conversions"].to_dict() == by_hand["size"].to_dict()
    np.testing.assert_allclose(got["value"].sort_index(), by_hand["sum"].sort_index(), rtol=1e-12)
    # Spend, clicks... do not move with the basis.
    report = shifted.kpis(["bucket_start", "campaign"])
    both = report.merge(cohorts, on=["bucket_start", "campaign"], how="outer", suffixes=("", "_click")).fillna(0)
    np.testing.assert_allclose(both["spend"], both["spend_click"])


def test_both_bases_agree_without_a_time_key_and_differ_by_day(shifted):
    # Reported conversions arrived before the end, so their clicks were in the run too.
    for by in ("campaign", ["segment", "channel"], ["creative"], []):
        a, b = shifted.kpis(by), shifted.kpis(by, basis="click")
        np.testing.assert_array_equal(a["conversions"], b["conversions"])
        np.testing.assert_allclose(a["value"], b["value"], rtol=1e-12)
    by_report, by_click = shifted.kpis("day"), shifted.kpis("day", basis="click")
    assert by_report["conversions"].sum() == by_click["conversions"].sum()
    # Conversions are delayed (2 h and 4 h means): the first day's cohort has at least the
    # conversions reported that day, the last day's cohort at most.
    assert by_click["conversions"].iloc[0] >= by_report["conversions"].iloc[0]
    assert by_click["conversions"].iloc[-1] <= by_report["conversions"].iloc[-1]
    assert not by_click["conversions"].equals(by_report["conversions"])


def test_bad_keys_and_bases_are_clear_errors(shifted):
    with pytest.raises(ValueError, match="unknown key"):
        shifted.kpis("week")
    with pytest.raises(ValueError, match="basis"):
        shifted.kpis(basis="arrival")


def test_click_basis_needs_the_conversions_table():
    from conftest import small_scenario

    scenario = small_scenario()
    scenario["recording"] = {"conversions": False}
    result = adsim.run(scenario)
    with pytest.raises(adsim.DataError, match="recording.conversions"):
        result.kpis(basis="click")
