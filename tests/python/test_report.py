"""The HTML report (adsim.report, `adsim report`, Result.report): content, pacing target, bad input, size.

The browser checks (rendering, console errors, screenshots) are in
test_report_browser.py; the render-time benchmark is bench/report_benchmark.py.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import adsim
from adsim.report import MAX_TABLE_ROWS, pacing, render, write_report
from conftest import REPO, small_scenario
from report_scenarios import rich_scenario, small_sweep

HOUR = 3_600_000_000
DAY = 24 * HOUR


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    path = tmp_path_factory.mktemp("rich") / "rich.h5"
    return adsim.run(rich_scenario(), out=str(path))


def charts_of(document: str, section: str) -> list:
    """The <svg> tags of a section (each chart's opening tag)."""
    body = re.search(rf'<section id="{section}" data-charts="(\d+)">(.*?)</section>', document, re.S)
    assert body, section
    tags = re.findall(r"<svg viewBox=\"0 0 \d+ \d+\" role=\"img\"[^>]*>", body.group(2))
    assert len(tags) == int(body.group(1)), section
    return tags


def test_the_report_is_one_file_with_no_script_and_nothing_fetched(rich, tmp_path):
    path = write_report(rich, tmp_path / "report.html")
    document = Path(path).read_text(encoding="utf-8")
    # Nothing is loaded from elsewhere: no external script, stylesheet, image or font.
    assert not re.search(r"<(script|link|img|iframe)\b", document)
    assert not re.search(r"(src|href)=\"(?!#)", document)
    assert "url(" not in document and "@import" not in document
    for section in ("run", "kpis", "pacing", "auction_insights", "timeline", "experiments", "monitors", "oracle",
                    "sweep"):
        assert f'<section id="{section}"' in document


def test_each_section_draws_one_series_per_item_of_the_data(rich):
    document = render(rich)
    campaigns, channels = len(rich.campaigns), len(rich.channels)
    kpis = charts_of(document, "kpis")
    # Four metrics, per campaign then per channel, one line per campaign (channel).
    assert [int(re.search(r'data-series="(\d+)"', t).group(1)) for t in kpis] == [campaigns] * 4 + [channels] * 4
    assert all('data-bands="1"' in t for t in kpis)  # the one shock, shaded on each timeline
    pacing_charts = charts_of(document, "pacing")
    # Every campaign has a daily budget. beta is paced by pid_pacing: today's spend, today's plan and the
    # controller's target from the pacing_target table; the others: cumulative spend and budget, no target.
    paced = set(rich.pacing_target()["campaign"].tolist())
    assert paced == {1}
    assert len(pacing_charts) == campaigns
    assert [int(re.search(r'data-series="(\d+)"', t).group(1)) for t in pacing_charts] == [
        3 if c in paced else 2 for c in range(campaigns)]
    (timeline,) = charts_of(document, "timeline")
    lanes = rich.alerts["severity"].nunique() + rich.actions["status"].nunique()
    assert f'data-lanes="{lanes}"' in timeline and 'data-bands="1"' in timeline
    assert rich.actions["status"].nunique() == 2  # applied and clamped: the scenario's guardrails bite
    groups = rich.experiment_looks.groupby(["experiment", "analysis", "arm"]).ngroups
    assert len(charts_of(document, "experiments")) == groups
    (oracle,) = charts_of(document, "oracle")
    assert f'data-bars="{campaigns}"' in oracle
    # Every monitor gets a row in the scores table.
    monitors = re.search(r'<section id="monitors".*?</section>', document, re.S).group(0)
    assert monitors.count("<tr>") == 1 + len(rich.monitor_scores)


def test_actions_are_listed_with_reason_and_guardrail_outcome(rich):
    document = render(rich)
    clamped = rich.actions[rich.actions["status"] == "clamped"].iloc[0]
    assert str(clamped["reason"]) in document and str(clamped["note"]) in document
    # Guardrail interventions come first in the list.
    listing = document.split("Every action with why it was taken")[1]
    assert listing.index(">clamped<") < listing.index(">applied<")


def test_actions_show_the_metric_observed_value_and_threshold(rich):
    document = render(rich)
    listing = re.search(r"Every action with why it was taken.*?</table>", document, re.S).group(0)
    header = re.findall(r"<th[^>]*>([^<]*)</th>", listing)
    assert header.index("metric") < header.index("observed") < header.index("threshold")
    rows = re.findall(r"<tr>(.*?)</tr>", listing.split("</thead>")[1], re.S)
    actions = rich.actions
    assert len(rows) == min(len(actions), MAX_TABLE_ROWS) and (actions["metric"] == "pacing_error").any()
    # Each row's why-cells are the action's own values, formatted as the table formats numbers.
    from adsim.report import _format_cell

    ordered = actions.iloc[np.argsort((actions["status"] == "applied").to_numpy(), kind="stable")]
    for row, (_, action) in zip(rows, ordered.iterrows()):
        cells = [c for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        why = cells[header.index("metric"):header.index("threshold") + 1]
        assert why == [str(action["metric"]), _format_cell(float(action["observed"])),
                       _format_cell(float(action["threshold"]))]
    # The timeline's action marks carry the same why in their tooltip.
    (timeline,) = re.findall(r'<section id="timeline".*?</section>', document, re.S)
    first = actions.iloc[0]
    assert f"pacing_error {_format_cell(float(first['observed']))} vs {_format_cell(float(first['threshold']))}" \
        in timeline


def test_a_section_without_data_says_so(small_result):
    document = render(small_result)
    for text in ("No alerts in this run.", "No shocks were injected in this run.", "No monitors in this run.",
                 "No experiment looks in this run.", "No oracle in this run",
                 "This file holds a single run, not a sweep"):
        assert text in document, text


def spend_today_before(result, campaign, t):
    """Spend of `campaign` from the start of its budget day up to t (t on a bucket boundary)."""
    agg = result.raw("aggregates")
    offset = int((result.start - result.start.normalize()) / pd.Timedelta(microseconds=1))
    day_start = max(0, ((t + offset) // DAY) * DAY - offset)
    rows = (agg["campaign"] == campaign) & (agg["bucket_start"] >= day_start) & (agg["bucket_start"] < t)
    return float(agg["spend"][rows].sum()), day_start


@pytest.mark.parametrize(
    "start, budget",
    [("2026-03-02T00:00:00", {"daily": 25}),  # a Monday at midnight, daily budget
     ("2026-03-04T09:30:00", {"daily": 25}),  # mid-day start: the first day's share is renormalised
     ("2026-03-06T00:00:00", {"total": 60}),  # lifetime pacing over Friday to Sunday (day-of-week profile)
     ("2026-03-06T13:00:00", {"daily": 30, "total": 50})],  # both: the lifetime plan caps the day
)
def test_the_pacing_target_is_the_one_pid_pacing_steers_to(start, budget):
    # pid_pacing writes its error e into each action's reason ("pacing error e",
    # 6 decimals). With a daily budget e = (target_today - spend_today) / plan,
    # plan = min(daily, lifetime share of today); with a total budget only
    # e = (total * F(t) - spend_total) / (total * 1 day / duration). So at every
    # cycle on a bucket boundary (spend known exactly from the buckets) the
    # report's target must reproduce e to the printed precision.
    scenario = small_scenario()
    scenario["start"] = start
    scenario["duration"] = "3d"
    for channel in scenario["channels"]:
        channel["traffic"]["hour_of_day"] = [0.2 + (h % 12) / 6 for h in range(24)]
        channel["traffic"]["day_of_week"] = [1, 1, 1, 1, 1.4, 0.6, 0.5]
    beta = scenario["campaigns"][1]
    beta["budget"] = budget
    result = adsim.run(scenario)
    profiles = pacing.campaign_profiles(__import__("yaml").safe_load(result.scenario))
    daily = pd.DataFrame(result.raw("daily"))
    daily = daily[daily["campaign"] == 1]
    before = np.concatenate([[0.0], np.cumsum(daily["spend"].to_numpy())[:-1]])
    actions = result.actions[(result.actions["campaign"] == 1) & (result.actions["time"] % HOUR == 0)]
    assert len(actions) > 20
    duration = int(result.attrs["duration_us"])
    checked = 0
    for t, reason in zip(actions["time"].tolist(), actions["reason"].tolist()):
        error = float(reason.split()[-1])
        if (t + int((result.start - result.start.normalize()) / pd.Timedelta(microseconds=1))) % DAY == 0:
            continue  # a new day's first cycle: the controller's target and spend are both 0 (e = 0);
            # the report's curve gives this instant the closing day's value
        target = pacing.target_curve(profiles[1], np.array([t]), duration=duration, start=result.start,
                                     day_starts=daily["day_start"].to_numpy(),
                                     daily_budget=daily["daily_budget"].to_numpy(dtype=float),
                                     total_budget=float(daily["total_budget"].iloc[-1]),
                                     spend_before_day=before)[0]
        today, day_start = spend_today_before(result, 1, t)
        if "daily" in budget:
            spend_before = before[list(daily["day_start"]).index(day_start)]
            if "total" in budget:
                # The plan (the error's scale) is the smaller of the daily budget and the
                # lifetime share of today; recompute it from the flight share at the day's ends.
                offset = int((result.start - result.start.normalize()) / pd.Timedelta(microseconds=1))
                day_end = day_start + DAY if day_start else DAY - offset
                flight = pacing._flight_share(profiles[1], np.array([day_start, day_end]), duration, offset,
                                              result.start.weekday())
                left = budget["total"] - spend_before
                if left <= 1e-9:
                    continue  # the flight is over: pid_pacing stops acting
                scale = min(budget["daily"], left * (flight[1] - flight[0]) / (1 - flight[0]))
            else:
                scale = budget["daily"]
            expected_error = (target - spend_before - today) / scale
        else:
            spend_total = before[list(daily["day_start"]).index(day_start)] + today
            expected_error = (target - spend_total) / (budget["total"] * DAY / max(duration, DAY))
        assert abs(expected_error - error) < 1e-6 + 1e-9 * abs(error), (t, reason, expected_error)
        checked += 1
    assert checked > 20


PACING_CASES = [("2026-03-02T00:00:00", {"daily": 25}), ("2026-03-04T09:30:00", {"daily": 25}),
                ("2026-03-06T00:00:00", {"total": 60}), ("2026-03-06T13:00:00", {"daily": 30, "total": 50})]


@pytest.mark.parametrize("start, budget", PACING_CASES)
def test_the_pacing_target_table_agrees_with_the_recomputed_curve_and_the_plots(start, budget):
    # The engine's pacing_target table (what pid_pacing used) against the
    # report's fallback recomputation from the traffic profile (files before
    # schema 4), and result.plot's two sources of the same curve: all three are
    # the same numbers up to floating-point rounding (1e-6 currency). Day
    # scope rows are today's target, so the run's cumulative target adds the
    # spend before the day.
    from adsim._plot import pacing_target as plot_target

    scenario = small_scenario()
    scenario["start"] = start
    scenario["duration"] = "3d"
    for channel in scenario["channels"]:
        channel["traffic"]["hour_of_day"] = [0.2 + (h % 12) / 6 for h in range(24)]
        channel["traffic"]["day_of_week"] = [1, 1, 1, 1, 1.4, 0.6, 0.5]
    scenario["campaigns"][1]["budget"] = budget
    result = adsim.run(scenario)
    table = result.pacing_target("beta")
    assert len(table) > 20 and set(table["scope"]) == {"flight" if "daily" not in budget else "day"}
    profiles = pacing.campaign_profiles(__import__("yaml").safe_load(result.scenario))
    daily = pd.DataFrame(result.raw("daily"))
    daily = daily[daily["campaign"] == 1]
    before = np.concatenate([[0.0], np.cumsum(daily["spend"].to_numpy())[:-1]])
    offset = int((result.start - result.start.normalize()) / pd.Timedelta(microseconds=1))
    times = table["time"].to_numpy(dtype=np.int64)
    inside = (times + offset) % DAY != 0  # at midnight the controller starts a day; the curve closes the last
    recomputed = pacing.target_curve(profiles[1], times, duration=int(result.attrs["duration_us"]),
                                     start=result.start, day_starts=daily["day_start"].to_numpy(),
                                     daily_budget=daily["daily_budget"].to_numpy(dtype=float),
                                     total_budget=float(daily["total_budget"].iloc[-1]), spend_before_day=before)
    day = np.clip(np.searchsorted(daily["day_start"].to_numpy(), times, side="right") - 1, 0, len(daily) - 1)
    cumulative = table["target_spend"].to_numpy() + np.where(table["scope"] == "day", before[day], 0.0)
    np.testing.assert_allclose(cumulative[inside], recomputed[inside], rtol=0, atol=1e-6)
    from_table = plot_target(result, "beta", source="table")
    from_profile = plot_target(result, "beta", source="profile")
    common = from_table.index.intersection(from_profile.index)
    assert len(common) == len(table)
    np.testing.assert_allclose(from_table[common].to_numpy(), from_profile[common].to_numpy(), rtol=0, atol=1e-6)
    # The report draws the table's curve, not the recomputed one.
    pacing_section = re.search(r'<section id="pacing".*?</section>', render(result), re.S).group(0)
    assert "pacing_target table" in pacing_section and "recomputed" not in pacing_section


def test_a_file_without_the_pacing_target_table_gets_the_recomputed_curve(rich, tmp_path):
    # A result file as schema 3 wrote it: the same run without the pacing_target table.
    import shutil

    older = tmp_path / "older.h5"
    shutil.copy(rich.path, older)
    with h5py.File(older, "a") as f:
        del f["pacing_target"]
    document = render(adsim.load(older))
    pacing_section = re.search(r'<section id="pacing".*?</section>', document, re.S).group(0)
    assert "no pacing_target table" in pacing_section and "pacing_target table, day scope" not in pacing_section
    # Each campaign with a budget gets cumulative spend, budget and the recomputed target.
    assert [int(n) for n in re.findall(r'data-series="(\d+)"', pacing_section)] == [3] * len(rich.campaigns)


def test_the_pacing_target_reaches_the_whole_budget_at_each_midnight(rich):
    # Whatever the traffic curve, the day's share is 1 at its end.
    daily = pd.DataFrame(rich.raw("daily"))
    daily = daily[daily["campaign"] == 1]
    profile = pacing.campaign_profiles(__import__("yaml").safe_load(rich.scenario))[1]
    before = np.concatenate([[0.0], np.cumsum(daily["spend"].to_numpy())[:-1]])
    ends = np.array([DAY, 2 * DAY])
    target = pacing.target_curve(profile, ends, duration=2 * DAY, start=rich.start,
                                 day_starts=daily["day_start"].to_numpy(),
                                 daily_budget=daily["daily_budget"].to_numpy(dtype=float),
                                 total_budget=np.inf, spend_before_day=before)
    np.testing.assert_allclose(target, before + daily["daily_budget"].to_numpy(), rtol=1e-12)


def run_cli(*arguments):
    return subprocess.run([sys.executable, "-m", "adsim", "report", *arguments], capture_output=True, text=True,
                          timeout=300)


def test_the_command_line_and_result_report_write_the_same_file(rich, tmp_path, adsim_cli):
    via_method = Path(rich.report(tmp_path / "method.html")).read_text(encoding="utf-8")
    done = subprocess.run([adsim_cli, "report", rich.path, "-o", str(tmp_path / "cli.html")], capture_output=True,
                          text=True, timeout=300, env={**os.environ, "ADSIM_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout
    assert (tmp_path / "cli.html").read_text(encoding="utf-8") == via_method


@pytest.mark.parametrize("kind", ["missing", "text", "foreign_hdf5", "truncated"])
def test_bad_input_is_a_clear_error_and_writes_nothing(rich, tmp_path, kind):
    source = tmp_path / f"{kind}.h5"
    if kind == "text":
        source.write_text("not a result\n")
    elif kind == "foreign_hdf5":
        with h5py.File(source, "w") as f:
            f["x"] = np.arange(3)
    elif kind == "truncated":
        data = Path(rich.path).read_bytes()
        source.write_bytes(data[: len(data) // 2])
    output = tmp_path / "out" / "report.html"
    output.parent.mkdir()
    output.write_text("the previous report\n")
    done = run_cli(str(source), "-o", str(output))
    assert done.returncode == 3, done.stderr
    assert str(source) in done.stderr and "Traceback" not in done.stderr
    # The previous report is untouched and no temporary file is left behind.
    assert output.read_text() == "the previous report\n"
    assert sorted(p.name for p in output.parent.iterdir()) == ["report.html"]


def test_an_output_folder_that_does_not_exist_is_an_io_error(rich, tmp_path):
    done = run_cli(rich.path, "-o", str(tmp_path / "no" / "such" / "report.html"))
    assert done.returncode == 3 and "does not exist" in done.stderr
    with pytest.raises(adsim.IoError, match="does not exist"):
        rich.report(tmp_path / "missing" / "report.html")


def test_a_large_run_stays_under_five_megabytes(tmp_path):
    # A week at 15-minute buckets with 20 campaigns (bench/scenarios/report_large.yaml,
    # also the render-time benchmark's input). The size is deterministic; the time is
    # measured by bench/report_benchmark.py, not here.
    result = adsim.run(str(REPO / "bench" / "scenarios" / "report_large.yaml"))
    assert len(result.campaigns) == 20 and int(result.attrs["bucket_us"]) == 15 * 60_000_000
    size = os.path.getsize(write_report(result, tmp_path / "large.html"))
    assert size < 5_000_000, size


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    return small_sweep(str(tmp_path_factory.mktemp("sweep") / "sweep.h5"))


def section_text(document: str, key: str) -> str:
    return re.search(rf'<section id="{key}".*?</section>', document, re.S).group(0)


def test_a_sweep_file_gets_its_comparison_and_risk_page(sweep_file, tmp_path, adsim_cli):
    assert isinstance(sweep_file, adsim.Sweep)
    from_method = Path(sweep_file.report(tmp_path / "method.html")).read_text(encoding="utf-8")
    completed = run_cli(sweep_file.path, "-o", str(tmp_path / "cli.html"))
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "cli.html").read_text(encoding="utf-8") == from_method
    assert re.findall(r'<section id="(\w+)"', from_method) == ["sweep", "comparison", "risk"]
    assert not re.search(r"<(script|link|img|iframe)\b", from_method)
    # One CPA and one conversions interval chart per campaign, one interval per non-baseline variation.
    campaigns = list(dict.fromkeys(sweep_file.kpis["campaign"]))
    assert re.findall(r'data-intervals="(\d+)"', section_text(from_method, "comparison")) == ["1"] * (2 * len(campaigns))


def test_the_comparison_is_paired_over_seeds(sweep_file):
    # Each variation's difference to the baseline: the mean over seeds of the
    # per-seed differences, with a t interval on their standard deviation.
    from scipy import stats

    from adsim.report.sweep import comparison_table

    kpis = sweep_file.kpis
    for campaign in ("alpha", "beta"):
        table = comparison_table(sweep_file, campaign).set_index("variation")
        for metric in ("spend", "conversions"):
            wide = kpis[kpis["campaign"] == campaign].pivot(index="seed", columns="variation", values=metric)
            differences = (wide["tight"] - wide["base"]).to_numpy()
            half = stats.t.ppf(0.975, len(differences) - 1) * differences.std(ddof=1) / np.sqrt(len(differences))
            assert table.loc["tight", f"{metric}_diff"] == pytest.approx(differences.mean())
            assert table.loc["tight", f"{metric}_lo"] == pytest.approx(differences.mean() - half)
            assert table.loc["tight", f"{metric}_hi"] == pytest.approx(differences.mean() + half)
            assert table.loc["base", metric] == pytest.approx(wide["base"].mean())
            assert np.isnan(table.loc["base", f"{metric}_diff"])
    # Halving beta's budget halves its spend on every seed: a difference the paired interval resolves.
    beta = comparison_table(sweep_file, "beta").set_index("variation")
    assert beta.loc["tight", "spend_hi"] < 0


def test_the_risk_table_counts_each_runs_events_with_wilson_intervals(sweep_file):
    from adsim._risk import wilson_interval
    from adsim.report.sweep import risk_table

    risk = risk_table(sweep_file).set_index(["variation", "campaign"])
    assert len(risk) == 4 and (risk["runs"] == 4).all()
    for (variation, campaign), row in risk.iterrows():
        runs = sweep_file.runs[sweep_file.runs["variation"] == variation]["run"].tolist()
        early = under = missed = 0
        cpas, spends = [], []
        for run in runs:
            result = sweep_file.result(run)
            days = result.daily[result.daily["campaign_name"] == campaign]
            at = pd.to_datetime(days["budget_exhausted_at"])
            early += int(bool((days["budget_exhausted"] >= 0).to_numpy()[(at.dt.hour < 18).to_numpy()].any()))
            k = result.kpis().set_index("campaign_name").loc[campaign]
            under += int(k["spend"] < 0.9 * k["budget"])
            goal = result.campaigns.set_index("name").loc[campaign]
            cpa = k["spend"] / k["conversions"] if k["conversions"] > 0 else np.inf
            missed += int(goal["goal"] == "cpa" and not cpa <= goal["goal_value"])
            cpas.append(cpa)
            spends.append(k["spend"])
        for event, count in (("exhausted_early", early), ("under_delivery", under)):
            assert row[f"p_{event}"] == count / 4
            assert (row[f"{event}_lo"], row[f"{event}_hi"]) == pytest.approx(wilson_interval(count, 4, 0.95))
        if campaign == "alpha":  # a CPA goal of 20
            assert row["p_miss_goal"] == missed / 4
        else:  # no goal: nothing to miss
            assert np.isnan(row["p_miss_goal"])
        finite = np.asarray(cpas)[np.isfinite(cpas)]
        assert row["cpa_q50"] == pytest.approx(np.quantile(finite, 0.5))
        assert row["spend_q95"] == pytest.approx(np.quantile(spends, 0.95))
    # alpha (no pacing) spends its daily budget before 18:00 on every seed; pid_pacing spreads beta's over the
    # day, so it never runs out early: both ends of the probability scale are exercised.
    for variation in ("base", "tight"):
        assert risk.loc[(variation, "alpha"), "p_exhausted_early"] == 1.0
        assert risk.loc[(variation, "alpha"), "exhausted_early_lo"] > 0.4
        assert risk.loc[(variation, "beta"), "p_exhausted_early"] == 0.0


def test_a_sweep_that_kept_only_summaries_is_a_clear_error(tmp_path):
    scenario = small_scenario()
    scenario["duration"] = "2h"
    summary = adsim.sweep(scenario, seeds=2, progress=False)
    with pytest.raises(ValueError, match="kept only summaries"):
        summary.report(tmp_path / "r.html")
    assert not list(tmp_path.iterdir())


def test_auction_insights_are_summed_over_the_run_per_campaign_and_channel():
    # The kitchen-sink scenario: several campaigns on one-slot channels and on search (GSP, 3 slots: the top of
    # the page is slots 1-2, the absolute top slot 1).
    from adsim.report import auction_insights_over_run

    result = adsim.run(str(REPO / "tests" / "golden" / "kitchen_sink.yaml"))
    daily = result.auction_insights
    summed = auction_insights_over_run(daily).set_index(["campaign_name", "channel_name"])
    pairs = daily.groupby(["campaign", "channel"]).ngroups
    assert len(summed) == pairs and pairs > 3
    searched = 0
    for (campaign, channel), row in summed.iterrows():
        days = daily[(daily["campaign_name"] == campaign) & (daily["channel_name"] == channel)]
        eligible, impressions = days["eligible"].sum(), days["impressions"].sum()
        assert row["days"] == len(days) and row["eligible"] == eligible
        assert row["impression_share"] == pytest.approx(impressions / eligible)
        assert row["impression_share"] + row["lost_is_budget"] + row["lost_is_rank"] == pytest.approx(1.0)
        assert row["outranking_share"] == pytest.approx((impressions - days["competitor_above"].sum()) / eligible)
        if impressions:
            assert row["overlap_rate"] == pytest.approx(days["overlap_impressions"].sum() / impressions)
            assert row["average_position"] == pytest.approx(
                (days["average_position"].fillna(0) * days["impressions"]).sum() / impressions)
        if channel == "search" and impressions > 0:
            searched += 1
            assert row["top_rate"] == pytest.approx(days["top_impressions"].sum() / impressions)
            assert row["absolute_top_rate"] == pytest.approx(days["absolute_top_impressions"].sum() / impressions)
            assert row["absolute_top_rate"] <= row["top_rate"] <= 1.0
            assert 1.0 <= row["average_position"] <= 3.0
        elif channel != "search":  # one slot: no top rates
            assert np.isnan(row["top_rate"]) and np.isnan(row["absolute_top_rate"])
    assert searched > 0
    section = re.search(r'<section id="auction_insights".*?</section>', render(result), re.S).group(0)
    assert re.findall(r'data-bars="(\d+)"', section) == [str(pairs)]
    header = re.findall(r"<th[^>]*>([^<]*)</th>", section)
    for column in ("impression_share", "lost_is_budget", "lost_is_rank", "top_rate", "absolute_top_rate",
                   "overlap_rate", "position_above_rate", "outranking_share"):
        assert column in header


def test_a_file_without_auction_insights_says_so(rich, tmp_path):
    import shutil

    older = tmp_path / "older.h5"
    shutil.copy(rich.path, older)
    with h5py.File(older, "a") as f:
        del f["auction_insights"]
    section = re.search(r'<section id="auction_insights".*?</section>', render(adsim.load(older)), re.S).group(0)
    assert "no auction_insights table" in section and "<svg" not in section
