"""adsim.run: scenario inputs, Result tables and KPIs, determinism."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import adsim


def test_version_and_default_scenario_text():
    assert adsim.__version__.count(".") == 2
    text = adsim.default_scenario()
    assert "campaigns:" in text and "seed:" in text
    d = adsim.default_scenario(as_dict=True)
    assert {c["name"] for c in d["campaigns"]} == {"spring_sale", "brand", "search_always_on"}
    info = adsim.validate()  # None = the default scenario
    assert info["source"] == "<default>" and info["campaigns"] == ["spring_sale", "brand", "search_always_on"]


def test_run_default_scenario_starts():
    # The full default week takes seconds; aborting from the first progress
    # callback checks that run(None) parses and starts it, and that the
    # callback sees fractions of simulated time.
    seen = []

    class Stop(Exception):
        pass

    def progress(fraction):
        seen.append(fraction)
        raise Stop("enough")

    with pytest.raises(adsim.Error, match="progress callback raised Stop: enough") as info:
        adsim.run(progress=progress)
    assert isinstance(info.value.__cause__, Stop)
    # The first control cycle runs at t = 0.
    assert seen == [0.0]


def test_default_scenario_one_day_tables_and_kpis():
    sc = adsim.default_scenario(as_dict=True)
    sc["duration"] = "1d"
    r = adsim.run(sc, seed=11)
    assert r.seed == 11 and r.attrs["scenario_source"] == "<dict>"
    for name in ("aggregates", "market", "actions", "conversions", "daily", "campaigns", "channels",
                 "segments", "creatives", "truth_rates", "truth_shocks"):
        assert isinstance(r.table(name), pd.DataFrame), name
    assert r.events is None  # not recorded by the default scenario
    k = r.kpis().set_index("campaign_name")
    # KPIs are sums of the aggregates table.
    agg = r.aggregates
    assert k["spend"].sum() == pytest.approx(agg["spend"].sum())
    assert k["impressions"].sum() == agg["impressions"].sum()
    # ctr = clicks / impressions where defined.
    with_imps = k[k["impressions"] > 0]
    np.testing.assert_allclose(with_imps["ctr"], with_imps["clicks"] / with_imps["impressions"])
    assert r.summary().splitlines()[0].startswith("scenario default  seed 11")


def test_tables_consistent(small_result):
    r = small_result
    agg, daily = r.aggregates, r.daily
    # Ledger and aggregates count the same money: sum over buckets = sum over days, per campaign.
    by_campaign = agg.groupby("campaign")["spend"].sum()
    np.testing.assert_allclose(daily.groupby("campaign")["spend"].sum(), by_campaign, rtol=0, atol=1e-6)
    # The last day's spend_total is the whole run's spend.
    last = daily[daily["day_start"] == daily["day_start"].max()].set_index("campaign")["spend_total"]
    np.testing.assert_allclose(last.sort_index(), by_campaign.sort_index(), atol=1e-6)
    # Never overspend: a day's spend is at most the largest daily budget in force that day.
    capped = daily[daily["max_daily_budget"] > 0]
    assert (capped["spend"] <= capped["max_daily_budget"] + 1e-9).all()
    # Impressions never exceed bids, bids never exceed opportunities.
    assert (agg["impressions"] <= agg["bids"]).all() and (agg["bids"] <= agg["opportunities"]).all()
    # The market table counts every opportunity once.
    assert r.market["opportunities"].sum() == r.attrs["opportunities"]
    # Reported conversions in the aggregates are the reported rows of the truth table
    # that arrived before the end.
    assert agg["conversions"].sum() == int(r.conversions["reported"].sum())


def test_names_and_datetimes(small_result):
    r = small_result
    agg = r.aggregates
    # Name twins sit right after their code column and agree with the dictionary tables.
    cols = list(agg.columns)
    assert cols[cols.index("campaign") + 1] == "campaign_name"
    assert cols[cols.index("bucket_start") + 1] == "bucket_start_at"
    names = r.campaigns["name"].tolist()
    assert (agg["campaign_name"].astype(str) == [names[c] for c in agg["campaign"]]).all()
    assert set(agg["channel_name"].astype(str)) <= {"display", "search"}
    assert set(agg["creative_name"].astype(str)) <= {"banner_a", "banner_b", "video"}
    assert isinstance(agg["campaign_name"].dtype, pd.CategoricalDtype)
    # Times: int64 microseconds, and calendar twins from the start attribute.
    assert agg["bucket_start"].dtype == np.int64
    assert agg["bucket_start_at"].iloc[0] == pd.Timestamp("2026-03-02") + pd.Timedelta(agg["bucket_start"].iloc[0], "us")
    assert r.to_datetime(3_600_000_000) == pd.Timestamp("2026-03-02 01:00")
    assert r.start == pd.Timestamp("2026-03-02") and r.duration == pd.Timedelta("2d")
    # Actions without a segment or creative have -1 codes and missing names.
    acts = r.actions
    assert (acts.loc[acts["segment"] == -1, "segment_name"].isna()).all()
    # Strings are str, not bytes.
    assert isinstance(acts["status"].iloc[0], str) and isinstance(r.campaigns["name"].iloc[0], str)
    meta = r.columns("aggregates").set_index("column")
    assert meta.loc["spend", "unit"] == "currency" and meta.loc["bucket_start", "unit"] == "us"


def test_attrs(small_result):
    a = small_result.attrs
    for key in ("adsim_version", "schema_version", "boost_version", "seed", "scenario", "fingerprint",
                "wall_time_s", "opportunities", "start", "duration_us", "bucket_us", "control_cycle_us"):
        assert key in a, key
    assert a["schema_version"] == adsim.SCHEMA_VERSION == 4
    assert a["adsim_version"] == adsim.__version__
    assert len(a["fingerprint"]) == 16
    assert json.loads(a["scenario"])["name"] == "small"  # a dict is run as its JSON text


def test_kpis_by_other_keys(small_result):
    r = small_result
    total = r.kpis()["spend"].sum()
    for by in ("channel", "segment", ["campaign", "creative"], ["campaign", "channel", "segment"], "bucket_start"):
        k = r.kpis(by=by)
        assert k["spend"].sum() == pytest.approx(total), by
    k = r.kpis(by="creative")  # implies campaign
    assert {"campaign", "campaign_name", "creative", "creative_name"} <= set(k.columns)
    with pytest.raises(ValueError, match="unknown key"):
        r.kpis(by="week")  # "hour" is a key since issue 11


def test_scenario_inputs_agree(small, tmp_path):
    import yaml

    from_dict = adsim.run(small)
    text = yaml.safe_dump(small, sort_keys=False)
    from_text = adsim.run(text)
    path = tmp_path / "small.yaml"
    path.write_text(text)
    from_path = adsim.run(path)
    from_str_path = adsim.run(str(path))
    json_path = tmp_path / "small.json"
    json_path.write_text(json.dumps(small))
    from_json = adsim.run(json_path)
    # Same scenario, same seed: same tables, whatever the input form.
    fps = {r.fingerprint for r in (from_dict, from_text, from_path, from_str_path, from_json)}
    assert len(fps) == 1
    assert from_text.attrs["scenario_source"] == "<string>"
    assert from_path.attrs["scenario_source"] == str(path)
    assert from_path.scenario == text


def test_determinism(small):
    a = adsim.run(small, seed=123)
    b = adsim.run(small, seed=123)
    c = adsim.run(small, seed=124)
    assert a.fingerprint == b.fingerprint
    for name in a.tables:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), check_exact=True)
    assert a.fingerprint != c.fingerprint
    assert not a.aggregates["clicks"].equals(c.aggregates["clicks"]) or not a.market.equals(c.market)
    # The seed argument overrides the scenario's seed.
    assert a.seed == 123 and adsim.run(small).seed == small["seed"]


def test_recording_events(small):
    small["duration"] = "6h"
    small["recording"] = {"events": True}
    r = adsim.run(small)
    ev = r.events
    assert ev is not None and len(ev) == r.attrs["opportunities"]
    assert {"time_at", "channel_name", "segment_name", "winner_name", "creative_name"} <= set(ev.columns)
    won = ev[ev["winner"] >= 0]
    assert len(won) > 0 and (won["winner_name"].notna()).all()
    assert ev.loc[ev["winner"] < 0, "winner_name"].isna().all()


def test_progress_true_writes_bar(small, capsys):
    adsim.run(small, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err


def test_scenario_type_error():
    with pytest.raises(TypeError, match="scenario must be"):
        adsim.run(42)


def test_ctrl_c_interrupts_a_run_in_the_main_thread():
    import os
    import signal
    import threading
    import time

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is not handled by Python here (e.g. a background job)")
    # The default week takes several seconds; the interrupt arrives after 0.3 s
    # and must stop the run at its next control cycle, not at the end.
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    started = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            adsim.run(seed=3)
    finally:
        timer.cancel()
    assert time.perf_counter() - started < 3.0
