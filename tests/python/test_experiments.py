"""Simulator-level validation of the ab_test experiment analysis: real
simulated campaigns (auction, users, clicks) split by opportunity, eight
`decision: observe` analyses of the same experiment (one per method).

The scenario is the one of bench/experiment_simulation.py, scaled down: base
click rate 5%, design lift +20% (n_fixed = 8158 impressions per arm), 20,000
opportunities per hour (about 5,000 impressions per arm per hour), a control
cycle every 2 minutes (the naive test looks at every one: about 40 looks before
n_fixed), 150 minutes (the most inflated design, Pocock, needs 1.23 n_fixed).

The last two tests split by user among heterogeneous users, with a pre-period,
and compare the analysis by request, by user and by user with CUPED on the
same runs.

Statistical tolerances come from the binomial standard error and are stated
where used. Seeds are fixed, so the outcome is deterministic; the tolerances
say why the assertions would hold for almost any seeds.
"""

from __future__ import annotations

import math
import statistics
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import experiment_simulation as es  # noqa: E402

adsim = pytest.importorskip("adsim")

BASE, MDE, ALPHA = 0.05, 0.20, es.ALPHA
SMALL = dict(per_hour=20000, duration="150m", control_cycle="2m", baseline=BASE, mde=MDE)
AA_SEEDS = list(range(1, 151))
POWER_SEEDS = list(range(1, 41))
SEQUENTIAL = ["fixed", "obf", "pocock", "ld_obf", "ld_pocock", "msprt"]


@pytest.fixture(scope="module")
def aa_runs():
    return es.simulate(es.scenario(**SMALL), AA_SEEDS)


@pytest.fixture(scope="module")
def big_effect_runs():
    # Twice the design lift: the drift is 2 x 2.80, so a fixed test at n_fixed
    # has power Phi(5.6 - 1.96) = 0.9999 and the sequential designs at least
    # as much at their (larger) maxima.
    return es.simulate(es.scenario(lift=2 * MDE, **SMALL), POWER_SEEDS)


def test_every_analysis_reaches_a_decision_within_the_run(aa_runs):
    # Otherwise the false positive rates below would be too low by construction.
    for r in aa_runs:
        for label, _, _ in es.METHODS:
            assert r[label]["decision"] in es.TERMINAL, (label, r[label])


def test_sequential_methods_keep_the_false_positive_rate_at_alpha(aa_runs):
    # Binomial SE at alpha with 150 runs: sqrt(0.05 * 0.95 / 150) = 0.0178;
    # alpha + 3 SE = 0.103. A method whose real level were 0.10 would pass only
    # by luck, one at 0.05 fails with probability < 0.2%.
    se = math.sqrt(ALPHA * (1 - ALPHA) / len(aa_runs))
    for label in SEQUENTIAL:
        fpr, _ = es.rate(aa_runs, label, {"ship", "stop"})
        assert fpr <= ALPHA + 3 * se, f"{label}: A/A false positive rate {fpr:.3f} > {ALPHA + 3 * se:.3f}"


def test_naive_peeking_at_every_cycle_inflates_the_false_positive_rate(aa_runs):
    looks = sum(r["naive"]["looks"] for r in aa_runs) / len(aa_runs)
    assert looks > 20, looks  # it really is continuous monitoring
    # With about 40 looks the naive z-test's real level is about 0.3 (Brownian
    # motion; docs/experiments-statistics.md section 7). The bound is
    # alpha + 3 SE(alpha) = 0.103: a valid test exceeds it with probability
    # < 0.2%, while at a true rate of 0.25 (observed SE 0.035) the naive test
    # falls under it with probability < 0.01%.
    se = math.sqrt(ALPHA * (1 - ALPHA) / len(aa_runs))
    fpr, _ = es.rate(aa_runs, "naive", {"ship", "stop"})
    assert fpr > ALPHA + 3 * se, f"naive: {fpr:.3f}"
    # The Bayesian P(beat) >= 0.95 rule is not an error-controlling test either
    # (its one-look level is already 0.10).
    bayes, _ = es.rate(aa_runs, "bayes", {"ship", "stop"})
    assert bayes > ALPHA + 3 * se, f"bayes: {bayes:.3f}"


def test_power_at_a_large_effect_is_high_and_sequential_designs_stop_early(big_effect_runs):
    n_fixed = es.fixed_sample_size(BASE, MDE)
    for label in SEQUENTIAL:
        # Power is about 0.999 (see the fixture); 0.9 is more than 3 SE
        # (sqrt(0.97 * 0.03 / 40) = 0.027) below even a pessimistic 0.97.
        power, _ = es.rate(big_effect_runs, label, {"ship"})
        assert power >= 0.9, f"{label}: power {power:.3f}"
    # At twice the design effect, the group-sequential designs stop at an early
    # look: O'Brien-Fleming-type boundaries at 2/5 or 3/5 of the maximum, so
    # the mean sample is well under n_fixed (the fixed test uses >= n_fixed).
    for label in ["obf", "ld_obf", "pocock", "ld_pocock"]:
        used = sum(r[label]["n"] for r in big_effect_runs) / len(big_effect_runs)
        assert used < 0.8 * n_fixed, f"{label}: {used:.0f} trials per arm against n_fixed {n_fixed}"
    assert all(r["fixed"]["n"] >= n_fixed for r in big_effect_runs)


def test_planned_sample_size_is_the_two_proportion_formula(aa_runs):
    # information = min(control_n, arm_n) / n_max, and the fixed method's n_max
    # is n_fixed: read it back from the table.
    n_fixed = es.fixed_sample_size(BASE, MDE)
    for r in aa_runs[:10]:
        f = r["fixed"]
        assert f["n"] / f["information"] == pytest.approx(n_fixed, abs=0.5)


def test_results_tables_have_the_documented_columns():
    r = adsim.run(es.scenario(duration="1h", **{k: v for k, v in SMALL.items() if k != "duration"}), seed=3)
    looks = r.table("experiment_looks")
    for col in ["time", "experiment", "analysis", "look", "arm", "metric", "control_n", "control_x", "arm_n",
                "arm_x", "information", "statistic", "boundary", "p_value", "prob_beat", "expected_loss",
                "decision", "note", "unit", "control_value", "arm_value", "estimate", "std_error",
                "variance_ratio"]:
        assert col in looks.columns, col
    assert r.experiment_looks.equals(looks) and r.experiments.equals(r.table("experiments"))
    # Split by opportunity: analysed by request, no CUPED; the estimate is the difference of the arms' rates.
    assert set(looks["unit"]) == {"request"} and (looks["variance_ratio"] == 1).all()
    assert ((looks["arm_value"] - looks["control_value"] - looks["estimate"]).abs() < 1e-12).all()
    # In one hour (about 5,000 impressions per arm) every method but the fixed
    # one (a single look at 8,158) has looked at least once.
    assert set(looks["analysis"]) == {m[0] for m in es.METHODS} - {"fixed"}
    assert set(looks["decision"]) <= {"continue", "ship", "stop", "no_difference", "guardrail_stop"}
    arms = r.table("experiments")
    for col in ["experiment", "arm", "campaign", "weight", "split", "paused_at_end"]:
        assert col in arms.columns, col
    assert list(arms["arm"]) == [0, 1]
    # decision: observe never pauses an arm.
    assert list(arms["paused_at_end"]) == [0, 0]


# ---- split by user with heterogeneous users: the unit of analysis and CUPED
#
# 1,500 users with lognormal click propensities (sigma 1), so each user's
# impressions are correlated; a 2-hour pre-period on the control, then 6 hours
# of experiment. Every method is analysed three ways on the same runs: by
# request, by user (delta method), by user with CUPED on the pre-period.
UNIT_SMALL = dict(split="user", users=1500, propensity_sigma=1.0, per_hour=20000, start="2h", duration="8h",
                  control_cycle="10m", baseline=BASE, mde=MDE, min_trials=300)
UNIT_METHODS = ["fixed", "ld_obf", "msprt"]
UNIT_AA_SEEDS = list(range(1, 301))
UNIT_POWER_SEEDS = list(range(1, 61))


@pytest.fixture(scope="module")
def unit_aa_runs():
    return es.simulate(es.units_scenario(methods=UNIT_METHODS, **UNIT_SMALL), UNIT_AA_SEEDS)


def fixed_z(runs, unit):
    return [r[f"{unit}/fixed"]["z"] for r in runs if f"{unit}/fixed" in r]


def test_by_user_analyses_keep_the_false_positive_rate_where_by_request_inflates(unit_aa_runs):
    n = len(unit_aa_runs)
    se = math.sqrt(ALPHA * (1 - ALPHA) / n)
    for unit in ["by user", "by user + CUPED"]:
        for m in UNIT_METHODS:
            fpr, _ = es.rate(unit_aa_runs, f"{unit}/{m}", {"ship", "stop"})
            assert fpr <= ALPHA + 3 * se, f"{unit}/{m}: A/A false positive rate {fpr:.3f} > {ALPHA + 3 * se:.3f}"
    # The fixed-horizon z of a valid analysis has variance 1 under A/A. Its
    # sample variance over k runs has SE about sqrt(2 / (k - 1)) (0.08 at 300).
    # By request, users' correlated impressions give it the design effect
    # (about 2 here): more than 4 SE above 1.
    z_req = fixed_z(unit_aa_runs, "by request")
    v_req = statistics.variance(z_req)
    assert v_req > 1 + 4 * math.sqrt(2 / (len(z_req) - 1)), v_req
    fpr_req, _ = es.rate(unit_aa_runs, "by request/fixed", {"ship", "stop"})
    assert fpr_req > ALPHA + 3 * se, fpr_req
    z_cuped = fixed_z(unit_aa_runs, "by user + CUPED")
    assert len(z_cuped) > 0.9 * n  # with CUPED the planned information is reached within the run
    v = statistics.variance(z_cuped)
    assert abs(v - 1) < 4 * math.sqrt(2 / (len(z_cuped) - 1)), v
    # Unbiased: the mean z is 0 within 4 SE.
    assert abs(statistics.mean(z_cuped)) < 4 * math.sqrt(v / len(z_cuped))


def test_cuped_reduces_the_variance_and_raises_the_power(unit_aa_runs):
    ratios = [r["by user + CUPED/ld_obf"]["variance_ratio"] for r in unit_aa_runs]
    assert all(x <= 1 for x in ratios)
    assert statistics.mean(ratios) < 0.8, statistics.mean(ratios)
    assert all(r["by user/ld_obf"]["variance_ratio"] == 1 for r in unit_aa_runs if "by user/ld_obf" in r)
    runs = es.simulate(es.units_scenario(lift=MDE, methods=["ld_obf"], **UNIT_SMALL), UNIT_POWER_SEEDS)

    def ships(r, unit):
        return r.get(f"{unit}/ld_obf", {}).get("decision") == "ship"

    # Paired over the same runs: runs only CUPED ships (b) against runs only
    # the plain analysis ships (c). Without a difference b - c has mean 0 and
    # SD sqrt(b + c) (sign test), so 3 SD is a clear gain.
    b = sum(1 for r in runs if ships(r, "by user + CUPED") and not ships(r, "by user"))
    c = sum(1 for r in runs if ships(r, "by user") and not ships(r, "by user + CUPED"))
    assert b - c > 3 * math.sqrt(max(b + c, 1)), (b, c)
