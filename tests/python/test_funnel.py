"""Funnels from Python (docs/funnel.md): Result.funnel's rates on a run of
docs/examples/funnel.yaml against the configured stage rates (within binomial
standard errors, fixed seed), the cart shock seen in the daily rates on the
shocked channel only, the funnel_bottleneck alert naming the cart stage, the
same numbers from the saved file, the snapshot's site-analytics counters, and
the errors for a run without a funnel and for a bad `by`."""

from __future__ import annotations

from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
import yaml

import adsim

from conftest import REPO

SCENARIO = REPO / "docs" / "examples" / "funnel.yaml"
DAY_US = 24 * 3600 * 10**6
# docs/examples/funnel.yaml: per segment (visit, cart, purchase); display multiplies visit by 0.75,
# the creative retail/video multiplies cart by 1.2; the cart shock halves cart on display from 4d to 4d12h.
RATES = {"shoppers": (0.8, 0.3, 0.5), "browsers": (0.6, 0.15, 0.4)}


@pytest.fixture(scope="module")
def funnel_run(tmp_path_factory: pytest.TempPathFactory) -> Tuple[adsim.Result, Path]:
    out = tmp_path_factory.mktemp("funnel") / "run.h5"
    return adsim.run(str(SCENARIO), seed=11, out=str(out)), out


def expected_rates(segment: str, channel: str, creative: str) -> Tuple[float, float, float]:
    visit, cart, purchase = RATES[segment]
    return (visit * (0.75 if channel == "display" else 1.0), cart * (1.2 if creative == "video" else 1.0), purchase)


def test_rates_match_the_configured_ones(funnel_run: Tuple[adsim.Result, Path]) -> None:
    result, _ = funnel_run
    # Outside the shock's day (day 4), every stage rate is a binomial proportion of its configured rate.
    rates = result.funnel(by=["day", "channel", "segment", "creative"])
    rates = rates[rates["day_start"] != 4 * DAY_US]
    calm = rates.groupby(["channel_name", "segment_name", "creative_name"], observed=True)[
        ["clicks", "visits", "carts", "purchases"]].sum()
    assert len(calm) == 8
    for (channel, segment, creative), row in calm.iterrows():
        visit, cart, purchase = expected_rates(segment, channel, creative)
        for k, n, p in ((row["visits"], row["clicks"], visit), (row["carts"], row["visits"], cart),
                        (row["purchases"], row["carts"], purchase)):
            assert n > 200, (channel, segment, creative)
            assert abs(k / n - p) < 4 * np.sqrt(p * (1 - p) / n), (channel, segment, creative, k, n, p)


def test_standard_errors_and_conversion_rate(funnel_run: Tuple[adsim.Result, Path]) -> None:
    result, _ = funnel_run
    total = result.funnel(by=[])
    assert len(total) == 1
    row = total.iloc[0]
    assert row["conversion_rate"] == pytest.approx(row["visit_rate"] * row["cart_rate"] * row["purchase_rate"])
    assert row["cart_rate_se"] == pytest.approx(np.sqrt(row["cart_rate"] * (1 - row["cart_rate"]) / row["visits"]))
    # Purchases are the conversions (truth): every row of the conversions table.
    assert row["purchases"] == len(result.conversions)
    assert row["impressions"] == result.aggregates["impressions"].sum()


def test_cart_shock_lowers_cart_on_display_only(funnel_run: Tuple[adsim.Result, Path]) -> None:
    result, _ = funnel_run
    hourly = result.funnel(by=["bucket_start", "channel"])
    in_shock = (hourly["bucket_start"] >= 4 * DAY_US) & (hourly["bucket_start"] < 4 * DAY_US + 12 * 3600 * 10**6)
    before = (hourly["bucket_start"] >= 3 * DAY_US) & (hourly["bucket_start"] < 4 * DAY_US)
    for channel, factor in (("display", 0.5), ("search", 1.0)):
        rows = hourly[hourly["channel_name"] == channel]
        shock = rows[in_shock[rows.index]][["visits", "carts", "clicks", "purchases"]].sum()
        calm = rows[before[rows.index]][["visits", "carts", "clicks", "purchases"]].sum()
        p0 = calm["carts"] / calm["visits"]
        p = p0 * factor
        se = np.sqrt(p * (1 - p) / shock["visits"] + factor**2 * p0 * (1 - p0) / calm["visits"])
        assert abs(shock["carts"] / shock["visits"] - p) < 4 * se, channel
        # The other stages keep their rates: visit per click and purchase per cart.
        for num, den in (("visits", "clicks"), ("purchases", "carts")):
            q0 = calm[num] / calm[den]
            q_se = np.sqrt(q0 * (1 - q0) * (1 / shock[den] + 1 / calm[den]))
            assert abs(shock[num] / shock[den] - q0) < 4 * q_se, (channel, num)
    shocks = result.truth_shocks
    assert list(shocks["cart"]) == [0.5] and list(shocks["visit"]) == [1.0] and list(shocks["purchase"]) == [1.0]


def test_monitor_names_the_cart_stage(funnel_run: Tuple[adsim.Result, Path]) -> None:
    result, _ = funnel_run
    alerts = result.alerts
    window = alerts[(alerts["time"] >= 4 * DAY_US) & (alerts["time"] < 4 * DAY_US + 16 * 3600 * 10**6)]
    assert len(window) > 0
    first = window.sort_values("time").iloc[0]
    assert first["monitor"] == "funnel_bottleneck" and first["metric"] == "funnel_cart"
    assert first["channel_name"] == "display"
    assert "cart rate on display fell" in first["message"]
    scores = result.monitor_scores.set_index("monitor")
    assert scores.loc["funnel_bottleneck", "recall"] == 1.0


def test_saved_file_gives_the_same_rates(funnel_run: Tuple[adsim.Result, Path]) -> None:
    result, out = funnel_run
    loaded = adsim.load(str(out))
    assert loaded.funnel(by="segment").equals(result.funnel(by="segment"))
    assert loaded.funnel_counts is not None and len(loaded.funnel_counts) == len(result.funnel_counts)


def test_snapshot_counts_visits_and_carts(funnel_run: Tuple[adsim.Result, Path]) -> None:
    assert "visits" in adsim.COUNTER_FIELDS and "carts" in adsim.COUNTER_FIELDS


def test_errors(funnel_run: Tuple[adsim.Result, Path]) -> None:
    plain = adsim.run({"name": "plain", "duration": "2h",
                       "channels": [{"name": "display", "traffic": {"per_hour": 1000},
                                     "competition": {"competitors": 3, "median": 0.002, "sigma": 0.5}}],
                       "segments": [{"name": "everyone", "ctr": 0.01, "cvr": 0.05}],
                       "campaigns": [{"name": "c", "bid": 0.003}]}, seed=1)
    assert plain.funnel_counts is None and not plain.has_table("funnel")
    with pytest.raises(adsim.DataError, match="funnel"):
        plain.funnel()
    with pytest.raises(ValueError, match="unknown key"):
        funnel_run[0].funnel(by="stage")
    bad = yaml.safe_load(SCENARIO.read_text())
    bad["funnel"]["rates"]["shoppers"]["visit"] = 1.8
    with pytest.raises(adsim.ConfigError, match=r"funnel\.rates\.shoppers\.visit"):
        adsim.validate(bad)
