"""adsim.calibrate, `adsim calibrate` and the history helpers (history_report, conversion_log).

The round trip: a week of tests/data/calibration/history.yaml (known market,
fixed seed) is aggregated into a report, calibrated, and each fitted
parameter must be within 4 standard errors (its own, as the fit report gives
it) of the truth. With one fixed seed each check is deterministic; 4 SE makes
a false failure of a correct fit about 6e-5 per check. Bad input: errors name
the file, the line and the column.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pandas as pd
import pytest
import yaml

import adsim
from adsim import _calibrate

REPO = Path(__file__).resolve().parents[2]
HISTORY = REPO / "tests" / "data" / "calibration" / "history.yaml"
TOLERANCE_SE = 4.0


@pytest.fixture(scope="module")
def truth() -> Dict[str, Any]:
    return yaml.safe_load(HISTORY.read_text())


@pytest.fixture(scope="module")
def history():
    return adsim.run(str(HISTORY), seed=11)


@pytest.fixture(scope="module")
def report(history) -> pd.DataFrame:
    return adsim.history_report(history)


@pytest.fixture(scope="module")
def calibration(history, report):
    return adsim.calibrate(report, adsim.conversion_log(history), base=str(HISTORY))


def entry(calibration, parameter: str) -> _calibrate.FitEntry:
    found = [e for e in calibration.entries if e.parameter == parameter]
    assert found, f"no fit report entry {parameter}: {[e.parameter for e in calibration.entries]}"
    return found[0]


def within(estimate: float, true: float, standard_error: float) -> None:
    assert np.isfinite(standard_error) and standard_error > 0
    assert abs(estimate - true) <= TOLERANCE_SE * standard_error, (estimate, true, standard_error)


def normalised(values):
    values = np.asarray(values, dtype=float)
    return values / values.mean()


def test_the_report_sums_the_results_aggregates(history, report):
    aggregates = history.raw("aggregates")
    for column, source in (("impressions", "impressions"), ("clicks", "clicks"), ("conversions", "conversions"),
                           ("requests", "opportunities"), ("bids", "bids")):
        assert report[column].sum() == aggregates[source].sum()
    assert report["spend"].sum() == pytest.approx(aggregates["spend"].sum(), rel=1e-9)
    # Fixed bidders without controllers: the bid column is the configured bid.
    bids = report.groupby("campaign")["bid"].unique()
    assert list(bids["display_broad"]) == [0.003] and list(bids["display_senior"]) == [0.0045]


def test_traffic_volume_is_the_channels_opportunities(history, calibration, truth):
    # Every segment of each channel is targeted, so the requests are all the market's opportunities.
    market = history.raw("market")
    for index, channel in enumerate(truth["channels"]):
        fitted = entry(calibration, f"channels.{channel['name']}.traffic.per_hour")
        opportunities = int(market["opportunities"][market["channel"] == index].sum())
        assert fitted.value * 168 == pytest.approx(opportunities, rel=1e-12)
        # One full week: E[opportunities] = per_hour x 168 (both profiles have mean 1); Poisson SE.
        within(fitted.value, channel["traffic"]["per_hour"], fitted.standard_error)


def test_hour_and_weekday_profiles_are_recovered(calibration, truth):
    display = calibration.scenario["channels"][0]["traffic"]
    true_hours = normalised(truth["channels"][0]["traffic"]["hour_of_day"])
    true_days = normalised(truth["channels"][0]["traffic"]["day_of_week"])
    per_hour = truth["channels"][0]["traffic"]["per_hour"]
    for hour, value in enumerate(display["hour_of_day"]):
        # Requests in clock hour h over 7 days: Poisson with mean 7 x per_hour x profile[h] (weekdays average 1).
        count = 7 * per_hour * true_hours[hour]
        within(value, true_hours[hour], true_hours[hour] / math.sqrt(count))
    for day, value in enumerate(display["day_of_week"]):
        count = 24 * per_hour * true_days[day]
        within(value, true_days[day], true_days[day] / math.sqrt(count))
    # search has no weekday profile: all 1.
    assert calibration.scenario["channels"][1]["traffic"]["day_of_week"] == pytest.approx([1.0] * 7, abs=0.02)


def test_segment_shares_are_recovered(calibration, truth):
    for channel in ("display", "search"):
        weights = {s["name"]: s["share"][channel] for s in truth["segments"]}
        total = sum(weights.values())
        for segment, weight in weights.items():
            fitted = entry(calibration, f"segments.{segment}.share.{channel}")
            within(fitted.value, weight / total, fitted.standard_error)


def test_click_and_conversion_rates_are_recovered_with_their_uncertainty(calibration, truth):
    for segment in truth["segments"]:
        name = segment["name"]
        ctr = entry(calibration, f"segments.{name}.ctr")
        within(ctr.value, segment["ctr"], ctr.standard_error)
        cvr = entry(calibration, f"segments.{name}.cvr")
        within(cvr.value, segment["cvr"], cvr.standard_error)
        written = next(s for s in calibration.scenario["segments"] if s["name"] == name)
        a, b = written["ctr"]["beta"]
        # The Beta written into the scenario has the fitted mean and standard deviation.
        assert a / (a + b) == pytest.approx(ctr.value, rel=1e-6)
        assert math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))) == pytest.approx(ctr.standard_error, rel=1e-3)
    factor = entry(calibration, "channels.search.ctr_factor")
    within(factor.value, truth["channels"][1]["ctr_factor"], factor.standard_error)


def test_conversion_values_are_recovered(calibration, truth):
    for segment in truth["segments"]:
        fitted = entry(calibration, f"segments.{segment['name']}.conversion_value.mean")
        within(fitted.value, segment["conversion_value"]["mean"], fitted.standard_error)


def test_competition_is_recovered_from_win_rates_and_prices(calibration, truth):
    for channel in truth["channels"]:
        name = channel["name"]
        mu = entry(calibration, f"channels.{name}.competition.mu")
        sigma = entry(calibration, f"channels.{name}.competition.sigma")
        within(mu.value, math.log(channel["competition"]["median"]), mu.standard_error)
        within(sigma.value, channel["competition"]["sigma"], sigma.standard_error)
        written = calibration.scenario["channels"][[c["name"] for c in truth["channels"]].index(name)]
        assert written["competition"]["competitors"] == channel["competition"]["competitors"]


def test_the_competition_model_matches_its_closed_form():
    # One slot, K = 3 lognormal(0, 1) competitors, score 1, no floor: P(win) = Phi(0)^3 = 1/8.
    win, mean, square = _calibrate._competition_moments(0.0, 1.0, 3, 1, False, np.array([1.0]), np.array([0.0]),
                                                        points=4096)
    assert win[0] == pytest.approx(0.125, abs=1e-12)
    # E[price | win] = E[max of 3 lognormals | all below 1]: against 400000 draws (SE about 1e-3 x sd).
    rng = np.random.default_rng(5)
    draws = np.exp(rng.standard_normal((400000, 3))).max(axis=1)
    below = draws[draws < 1.0]
    standard_error = below.std() / math.sqrt(len(below))
    within(mean[0], below.mean(), standard_error)
    within(square[0], (below ** 2).mean(), (below ** 2).std() / math.sqrt(len(below)))


def test_conversion_delays_are_recovered(calibration, truth):
    for segment in truth["segments"]:
        delay = segment["conversion_delay"]
        name = segment["name"]
        written = next(s for s in calibration.scenario["segments"] if s["name"] == name)["conversion_delay"]
        assert written["distribution"] == delay["distribution"]
        if delay["distribution"] == "exponential":
            fitted = entry(calibration, f"segments.{name}.conversion_delay.mean (hours)")
            within(fitted.value, float(delay["mean"].rstrip("h")), fitted.standard_error)
        else:
            median = entry(calibration, f"segments.{name}.conversion_delay.median (hours)")
            within(median.value, float(delay["median"].rstrip("h")), median.standard_error)
            sigma = entry(calibration, f"segments.{name}.conversion_delay.sigma")
            within(sigma.value, delay["sigma"], sigma.standard_error)


def test_the_calibrated_scenario_validates_runs_and_says_what_is_not_identified(calibration):
    assert adsim.validate(calibration.text)["channels"] == ["display", "search"]
    result = adsim.run(calibration.text, seed=3)
    assert result.has_table("sampled_parameters")  # the Beta rates are drawn per run
    assert "# Calibrated by adsim calibrate" in calibration.text and "SE" in calibration.text
    missing = calibration.report[~calibration.report["identified"]]["parameter"].tolist()
    assert "segments.young.users" in missing and "channels.display.competition.competitors" in missing
    text = calibration.report_text()
    assert "Not identified (default used):" in text and "channels.display.competition.mu" in text


def test_without_requests_or_base_the_traffic_is_reported_as_not_identified(report):
    reduced = report.drop(columns=["requests", "bids", "win_rate", "bid"])
    calibration = adsim.calibrate(reduced)
    per_hour = entry(calibration, "channels.display.traffic.per_hour")
    assert not per_hour.identified and "lower bound" in per_hour.note
    competition = entry(calibration, "channels.display.competition")
    assert not competition.identified
    # Billing is inferred from spend on rows without clicks.
    assert [c["billing"] for c in calibration.scenario["channels"]] == ["impression", "click"]
    assert len(adsim.validate(calibration.text)["campaigns"]) == 3


def test_daily_rows_give_volume_and_weekdays_but_no_hour_profile(history):
    daily = adsim.history_report(history, step="1d")
    assert len(daily["time"].unique()) == 7
    calibration = adsim.calibrate(daily, base=str(HISTORY))
    assert not entry(calibration, "channels.display.traffic.hour_of_day").identified
    assert "hour_of_day" not in calibration.scenario["channels"][0]["traffic"]
    assert entry(calibration, "channels.display.traffic.day_of_week").identified


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


HEADER = "time,campaign,channel,segment,impressions,clicks,conversions,spend,revenue\n"


@pytest.mark.parametrize("body, message", [
    ("2026-03-02T00:00:00,a,display,young,100,2,0,0.2,0\n"
     "2026-03-02T01:00:00,a,display,young,100,abc,0,0.2,0\n",
     "report.csv:3: column 'clicks': expected a whole number >= 0, found 'abc'"),
    ("2026-03-02T00:00:00,a,display,young,100,200,0,0.2,0\n",
     "report.csv:2: column 'clicks': expected at most the row's impressions (100), found '200'"),
    ("2026-03-02T00:00:00,a,display,young,100,2,0,-1,0\n",
     "report.csv:2: column 'spend': expected a number >= 0, found '-1'"),
    ("yesterday,a,display,young,100,2,0,1,0\n",
     "report.csv:2: column 'time': expected a date-time such as 2026-03-02T13:00:00, found 'yesterday'"),
    ("2026-03-02T00:00:00,a,display,young,100,2,0,1,0\n2026-03-02T00:30:00,a,display,young,100,2,0,1,0\n",
     "column 'time': expected hourly or daily rows (distinct times 1h or 1d apart), found times 0 days 00:30:00"),
    ("2026-03-02T00:00:00,a,display,young,100,2,0,1,0\n2026-03-02T00:00:00,a,display,young,100,2,0,1,0\n",
     "report.csv:3: column 'time': expected one row per time, campaign, channel and segment"),
])
def test_bad_rows_are_reported_with_file_line_and_column(tmp_path, body, message):
    path = write(tmp_path / "report.csv", HEADER + body)
    with pytest.raises(adsim.DataError) as error:
        adsim.calibrate(str(path))
    assert message in str(error.value)


def test_a_missing_column_is_named(tmp_path):
    path = write(tmp_path / "report.csv", "time,campaign,channel,segment,impressions,spend\n")
    with pytest.raises(adsim.DataError, match=r"report.csv: expected the report columns .* missing 'clicks', "
                                              r"'conversions', 'revenue'"):
        adsim.calibrate(str(path))


def test_the_cli_writes_the_scenario_and_the_report_or_nothing(tmp_path, history, report):
    report.to_csv(tmp_path / "report.csv", index=False)
    adsim.conversion_log(history).to_csv(tmp_path / "conversions.csv", index=False)
    out = tmp_path / "calibrated.yaml"
    done = subprocess.run([sys.executable, "-m", "adsim", "calibrate", str(tmp_path / "report.csv"),
                           "--conversions", str(tmp_path / "conversions.csv"), "--base", str(HISTORY),
                           "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "channels.display.competition.mu" in done.stdout
    assert adsim.validate(str(out))["segments"] == ["young", "middle", "senior"]
    # Bad input: exit 3, the file and line named, no output written.
    bad = write(tmp_path / "bad.csv", HEADER + "2026-03-02T00:00:00,a,display,young,100,x,0,1,0\n")
    failed = subprocess.run([sys.executable, "-m", "adsim", "calibrate", str(bad), "-o", str(tmp_path / "no.yaml")],
                            capture_output=True, text=True)
    assert failed.returncode == 3 and "bad.csv:2: column 'clicks'" in failed.stderr
    assert not (tmp_path / "no.yaml").exists()
    bad_base = write(tmp_path / "base.yaml", "name: b\nduration: 2 days\n")
    invalid = subprocess.run([sys.executable, "-m", "adsim", "calibrate", str(tmp_path / "report.csv"),
                              "--base", str(bad_base), "-o", str(tmp_path / "no.yaml")], capture_output=True, text=True)
    assert invalid.returncode == 2 and "base.yaml:2: duration" in invalid.stderr, invalid.stderr
    assert not (tmp_path / "no.yaml").exists()
    missing = subprocess.run([sys.executable, "-m", "adsim", "calibrate", str(tmp_path / "nope.csv"),
                              "-o", str(tmp_path / "no.yaml")], capture_output=True, text=True)
    assert missing.returncode == 3 and "nope.csv" in missing.stderr and "no such file" in missing.stderr


def test_the_report_bid_follows_a_pacing_controllers_bid_changes(small_result):
    # beta is paced by pid_pacing (set_bid every 30-minute cycle). Its bid in hour h is the mean of the bids
    # in force at h:00 and h:30: the last applied set_bid at or before each instant, the configured bid before any.
    report = adsim.history_report(small_result)
    actions = small_result.raw("actions")
    kinds = [k.decode() if isinstance(k, bytes) else k for k in actions["kind"]]
    changes = sorted((int(t), float(v)) for t, v, c, k in zip(actions["time"], actions["new"], actions["campaign"], kinds)
                     if c == 1 and k == "set_bid")
    assert len(changes) > 10

    def in_force(t_us: int) -> float:
        value = 0.003
        for time, new in changes:
            if time <= t_us:
                value = new
        return value

    beta = report[report["campaign"] == "beta"]
    assert beta["bid"].nunique() > 5
    hour_us = 3_600_000_000
    for _, row in beta.iterrows():
        hour = int((row["time"] - pd.Timestamp("2026-03-02")) / pd.Timedelta("1h"))
        expected = (in_force(hour * hour_us) + in_force(hour * hour_us + hour_us // 2)) / 2
        assert row["bid"] == pytest.approx(expected, abs=1e-6)
    # alpha has no controller: its configured bid throughout.
    assert set(report[report["campaign"] == "alpha"]["bid"]) == {0.004}


def test_first_price_with_one_bid_level_leaves_the_competition_unidentified(truth):
    # Under first price the price paid is the bid itself: one bid level gives one moment (the win rate) for
    # two parameters, so the fit must say so and keep the base's competition rather than invent one.
    scenario = yaml.safe_load(HISTORY.read_text())
    scenario["duration"] = "1d"
    scenario["channels"] = [scenario["channels"][0]]
    scenario["channels"][0]["auction"] = "first_price"
    scenario["campaigns"] = [{"name": "display_all", "channels": ["display"], "bid": 0.003}]
    for segment in scenario["segments"]:
        segment["share"] = {"display": segment["share"]["display"]}
    result = adsim.run(scenario, seed=5)
    calibration = adsim.calibrate(adsim.history_report(result), base=scenario)
    competition = entry(calibration, "channels.display.competition")
    assert not competition.identified and "first price" in competition.note
    assert calibration.scenario["channels"][0]["competition"] == {"competitors": 6, "median": 0.002, "sigma": 0.6}


def test_cells_where_two_of_our_campaigns_bid_are_left_out_of_the_competition_fit(truth):
    # A third display campaign bids on young too: there, each of our campaigns is part of the other's
    # competition. The fit leaves those cells out (middle and senior remain) and still recovers the truth.
    scenario = yaml.safe_load(HISTORY.read_text())
    scenario["duration"] = "3d"
    scenario["campaigns"].append({"name": "display_young", "channels": ["display"], "segments": ["young"],
                                  "bid": 0.0035, "budget": {"daily": 1000}})
    result = adsim.run(scenario, seed=8)
    calibration = adsim.calibrate(adsim.history_report(result), base=scenario)
    mu = entry(calibration, "channels.display.competition.mu")
    sigma = entry(calibration, "channels.display.competition.sigma")
    # 72 hours x the 2 campaigns bidding on young: 144 rows.
    assert "144 rows where several of our campaigns bid in the same auctions left out" in mu.note
    within(mu.value, math.log(truth["channels"][0]["competition"]["median"]), mu.standard_error)
    within(sigma.value, truth["channels"][0]["competition"]["sigma"], sigma.standard_error)
