"""adsim.risk, adsim.what_if, `adsim risk`, and the result columns they read
(daily.budget_exhausted, the pacing_target table)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any, Dict

import numpy as np
import pytest
import yaml

import adsim
from adsim import _risk


def plan(daily: float = 20.0, bid: float = 0.003, cpa: float = 2.0, **campaign: Any) -> Dict[str, Any]:
    """One day, one channel, one campaign with a fixed bid, a daily budget and a CPA goal:
    the budget binds (the fixed bid spends 20 in about 4 hours), about 10 conversions a run."""
    return {
        "name": "risk_plan",
        "seed": 1,
        "start": "2026-03-02T00:00:00",
        "duration": "1d",
        "bucket": "1h",
        "control_cycle": "30m",
        "channels": [{"name": "display", "auction": "second_price", "traffic": {"per_hour": 6000},
                      "competition": {"competitors": 5, "median": 0.002, "sigma": 0.5}}],
        "segments": [{"name": "everyone", "users": 20000, "ctr": 0.004, "cvr": 0.3}],
        "campaigns": [{"name": "always_on", "bid": bid, "budget": {"daily": daily}, "goal": {"cpa": cpa},
                       **campaign}],
    }


@pytest.fixture(scope="module")
def report():
    return adsim.risk(plan(), runs=20)


def test_wilson_interval_matches_the_closed_form():
    # Wilson at z = 1.959964: 0/10 -> [0, z^2/(n + z^2)] = [0, 0.2775]; 5/10 -> 0.5 +- 0.2634.
    lo, hi = _risk.wilson_interval(0, 10)
    assert lo == 0 and hi == pytest.approx(0.27754, abs=1e-4)
    lo, hi = _risk.wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.23659, abs=1e-4), pytest.approx(0.76341, abs=1e-4))
    # Rule of three: 0 of n, one-sided 95 %: 1 - 0.05^(1/n), about 3/n.
    assert _risk.zero_count_bound(100) == pytest.approx(1 - 0.05 ** 0.01)
    assert abs(_risk.zero_count_bound(100) - 3 / 100) < 0.001


def test_cvar_is_the_mean_of_the_worst_tail():
    values = np.arange(1.0, 11.0)  # 1..10
    assert _risk.cvar(values, 0.2, +1) == (9.5, 2)  # the two highest: (9 + 10) / 2
    assert _risk.cvar(values, 0.2, -1) == (1.5, 2)
    assert _risk.cvar(values, 0.25, +1) == (9.0, 3)  # ceil(2.5) = 3 runs: (8 + 9 + 10) / 3


def test_probabilities_are_counts_of_the_runs(report):
    k = report.kpis
    assert len(report.runs) == 20 and list(report.runs["seed"]) == list(range(1, 21))
    p = report.probabilities.set_index("event")
    # Overspend is computed from the ledger rows (zero by construction) and shown with its bound.
    assert p.loc["overspend", "count"] == 0 and p.loc["overspend", "p"] == 0
    assert p.loc["overspend", "hi"] == pytest.approx(_risk.wilson_interval(0, 20)[1])
    assert "rule of three" in p.loc["overspend", "note"]
    # Miss the CPA goal: reported CPA above 2, or no conversion.
    miss = int((~(k["cpa"] <= 2.0)).sum())
    assert p.loc["miss_goal", "count"] == miss
    assert p.loc["miss_goal", "p"] == miss / 20
    lo, hi = _risk.wilson_interval(miss, 20)
    assert (p.loc["miss_goal", "lo"], p.loc["miss_goal", "hi"]) == (lo, hi)
    # The fixed bid exhausts the budget every day, and well before 18:00.
    assert p.loc["exhausted", "count"] == 20
    assert report.days["exhausted_hour"].max() < 18
    assert p.loc["exhausted_before", "p"] == 1 and p.loc["exhausted_before_share", "p"] == 1
    # And it spends (nearly) all of it: never under-delivers at 90 %.
    assert p.loc["under_delivery", "count"] == int((k["spend"] < 0.9 * k["budget"]).sum()) == 0


def test_the_run_out_time_is_the_result_column_of_the_replayed_run(report):
    seed = int(report.runs["seed"].iloc[3])
    result = adsim.run(plan(), seed=seed)
    exhausted = int(result.daily["budget_exhausted"].iloc[0])
    assert exhausted > 0
    assert int(report.days[report.days["seed"] == seed]["budget_exhausted"].iloc[0]) == exhausted
    hour = report.days[report.days["seed"] == seed]["exhausted_hour"].iloc[0]
    assert hour == pytest.approx(exhausted / 3.6e9)  # the scenario starts at midnight
    # The calendar twin of the column; -1 (never) has none (NaT).
    assert result.daily["budget_exhausted_at"].iloc[0] == result.start + np.timedelta64(exhausted, "us")
    free = adsim.run(plan(daily=1e6), seed=seed).daily
    assert free["budget_exhausted"].iloc[0] == -1 and free["budget_exhausted_at"].isna().all()


def test_the_worst_runs_replay_with_their_seeds(report):
    worst = report.worst
    assert list(worst["metric"].unique()) == ["cpa"] and len(worst) == 3
    # The worst CPA runs are the highest CPAs, in order.
    expected = report.kpis.sort_values(["cpa", "seed"], ascending=[False, True], kind="mergesort")
    assert list(worst["seed"]) == list(expected["seed"].head(3))
    seed = int(worst["seed"].iloc[0])
    replayed = adsim.run(plan(), seed=seed).kpis().iloc[0]
    assert (replayed["spend"], replayed["conversions"]) == (worst["spend"].iloc[0], worst["conversions"].iloc[0])
    assert "seed=" + str(seed) in worst["replay"].iloc[0]


def test_quantiles_and_cvar_of_the_runs(report):
    q = report.quantiles.set_index("metric")
    conversions = report.kpis["conversions"].to_numpy(dtype=float)
    assert q.loc["conversions", "q50"] == np.quantile(conversions, 0.5)
    assert q.loc["conversions", "cvar"] == np.sort(conversions)[:2].mean()  # alpha 0.1 of 20: 2 lowest
    assert q.loc["cpa", "tail"] == "high" and q.loc["roas", "tail"] == "low"


def test_small_n_warns_about_the_tail_it_cannot_resolve(report):
    text = " ".join(report.warnings)
    # Only 2 runs in a 10 % CVaR tail of 20 runs; 100 runs are needed for 10.
    assert "CVaR10 of cpa, roas, conversions, spend averages only 2 run(s)" in text and "N >= 100" in text
    # Under-delivery never happened in 20 runs: bounded by the rule of three, 1 - 0.05^(1/20) = 0.1391.
    assert "under_delivery" in text and "below 0.139" in text
    assert "Pre-launch risk" in report.summary() and "warning:" in report.summary()


def test_the_miss_probability_is_unbiased_within_its_standard_error():
    # A CPA goal at the median CPA of 60 independent pilot runs (seeds 101..160):
    # P(miss) is then about 0.5; the estimate from 40 other seeds must lie
    # within 4 binomial SEs of the pilot's own fraction (SE of a difference of
    # two proportions, sqrt(p(1-p)(1/60 + 1/40)) ~ 0.10).
    pilot = adsim.risk(plan(), runs=60, first_seed=101).kpis["cpa"].to_numpy()
    goal = float(np.median(pilot))
    p_pilot = float(np.mean(pilot > goal))
    estimate = adsim.risk(plan(cpa=goal), runs=40, first_seed=1).probability("always_on", "miss_goal")
    se = math.sqrt(p_pilot * (1 - p_pilot) * (1 / 60 + 1 / 40))
    assert abs(estimate - p_pilot) < 4 * se


def test_bad_input_names_the_field():
    with pytest.raises(adsim.ConfigError, match="before: expected a clock time HH:MM"):
        adsim.risk(plan(), runs=3, before="6pm")
    with pytest.raises(adsim.ConfigError, match="campaign: no campaign 'nope'.*campaigns: always_on"):
        adsim.risk(plan(), runs=2, campaign="nope")
    with pytest.raises(adsim.ConfigError, match="at least 2 runs"):
        adsim.risk(plan(), runs=1)
    with pytest.raises(adsim.ConfigError, match="under_delivery"):
        adsim.risk(plan(), runs=2, under_delivery=1.5)
    with pytest.raises(adsim.ConfigError, match="an existing list item at campaigns\\[3\\]"):
        adsim.what_if(plan(), {"a": None, "b": {"campaigns[3].bid": 1}}, runs=2)


def test_workers_do_not_change_the_runs():
    one = _risk._per_run(plan(), [1, 2, 3, 4], None, 1, False)
    two = _risk._per_run(plan(), [1, 2, 3, 4], None, 2, False)
    assert list(one[0]["fingerprint"]) == list(two[0]["fingerprint"])
    assert one[1].equals(two[1])


def test_patches_by_path_and_by_merge():
    base = plan()
    patched = _risk.apply_patch(base, {"campaigns[0].bid": 0.004, "campaigns[0].budget.daily": 30})
    assert patched["campaigns"][0]["bid"] == 0.004 and patched["campaigns"][0]["budget"] == {"daily": 30}
    assert base["campaigns"][0]["bid"] == 0.003  # the original is untouched
    merged = _risk.apply_patch(base, {"channels": [{**base["channels"][0], "floor": 0.001}]})
    assert merged["channels"][0]["floor"] == 0.001


def test_what_if_pairs_the_plans_on_common_seeds():
    w = adsim.what_if(plan(), {"base": None, "bigger_budget": {"campaigns[0].budget.daily": 30}}, runs=12)
    d = w.differences.set_index(["campaign", "metric"])
    row = d.loc[("always_on", "spend")]
    a = w.kpis[w.kpis["variation"] == "base"].set_index("seed")["spend"]
    b = w.kpis[w.kpis["variation"] == "bigger_budget"].set_index("seed")["spend"]
    diff = (b - a).to_numpy()
    assert row["difference"] == pytest.approx(diff.mean())
    assert row["se_paired"] == pytest.approx(diff.std(ddof=1) / math.sqrt(12))
    assert row["se_unpaired"] == pytest.approx(math.sqrt(a.var(ddof=1) / 12 + b.var(ddof=1) / 12))
    assert row["variance_reduction"] == pytest.approx((row["se_unpaired"] / row["se_paired"]) ** 2)
    # A bigger budget on the same seeds spends more (up to 10 more) on every seed.
    assert (diff > 0).all() and row["lo"] > 0
    assert "bigger_budget' - 'base'" in w.summary()


def test_the_same_plan_twice_differs_by_exactly_zero():
    w = adsim.what_if(plan(), {"a": None, "b": {}}, runs=3)
    assert (w.differences["difference"].fillna(0) == 0).all()
    assert (w.differences["se_paired"].fillna(0) == 0).all()


def test_pacing_target_in_the_result():
    paced = plan(controllers=["pid_pacing"], daily=10)
    result = adsim.run(paced, seed=3)
    target = result.pacing_target("always_on")
    assert len(target) == 48  # one row per 30-minute control cycle
    assert (target["scope"] == "day").all() and (target["budget"] == 10).all()
    assert target["target_share"].is_monotonic_increasing
    assert target["target_spend"].to_numpy() == pytest.approx(10 * target["target_share"].to_numpy())
    assert result.pacing_target(0).equals(target)
    assert len(adsim.run(plan(), seed=3).pacing_target()) == 0  # no pacing controller
    with pytest.raises(KeyError, match="no campaign 'x'"):
        result.pacing_target("x")


def test_the_command(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan()))
    done = subprocess.run([sys.executable, "-m", "adsim", "risk", str(path), "--runs", "4", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["settings"]["runs"] == 4
    assert {r["event"] for r in data["probabilities"]} >= {"overspend", "miss_goal", "under_delivery",
                                                           "exhausted_before"}
    assert data["worst"][0]["replay"].startswith(f"adsim run {path} --seed ")
    text = subprocess.run([sys.executable, "-m", "adsim", "risk", str(path), "--runs", "3"],
                          capture_output=True, text=True, timeout=120)
    assert text.returncode == 0 and "campaign always_on" in text.stdout and "worst runs" in text.stdout
    bad = subprocess.run([sys.executable, "-m", "adsim", "risk", str(path), "--runs", "3", "--campaign", "x"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no campaign 'x'" in bad.stderr


def test_a_sweeps_per_run_summary_carries_the_risk_events_adsim_risk_counts(report):
    # The same 20 seeds through adsim.sweep: its per-run kpis give the events
    # adsim.risk turns into probabilities, run by run.
    done = adsim.sweep(plan(), seeds=range(1, 21), workers=2, progress=False)
    kpis = done.kpis
    assert list(kpis["goal"].unique()) == ["cpa"] and (kpis["goal_value"] == 2.0).all()
    assert not kpis["overspend"].any()
    assert kpis["miss_goal"].mean() == report.probability("always_on", "miss_goal")
    # The budget binds (about 4 hours of spend): it runs out on the one day of
    # most runs, at the clock hour the daily table records.
    assert kpis["miss_goal"].dtype == bool
    for run in (0, 7):
        result = adsim.run(plan(), seed=int(kpis["seed"].iloc[run]))
        exhausted = result.daily["budget_exhausted"].to_numpy()
        assert kpis["budget_exhausted_days"].iloc[run] == int((exhausted >= 0).sum())
        if (exhausted >= 0).any():
            assert kpis["first_exhausted_hour"].iloc[run] == pytest.approx(exhausted[exhausted >= 0].min() / 3.6e9)
        else:
            assert np.isnan(kpis["first_exhausted_hour"].iloc[run])
