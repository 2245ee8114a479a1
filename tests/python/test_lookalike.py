"""adsim.lookalike (docs/audiences.md): the fit recovers the scenario's conversion
coefficients within their standard errors, the audience converts above the
average on a seeded scenario (tolerance from the standard error), the audience
feeds a second run, and bad input fails with a clear error."""

from __future__ import annotations

import math
from typing import Any, Dict

import numpy as np
import pytest

import adsim

BETA = [0.9, -0.6, 0.4, 0.0]
CVR = 0.05


def scenario(users: int = 20000) -> Dict[str, Any]:
    """One display channel our campaign wins every time (bid far above the
    competition), one segment whose clicks convert with
    sigmoid(logit(0.05) + BETA . x), conversions reported a second after the click."""
    return {
        "name": "lookalike-test",
        "seed": 3,
        "duration": "1d",
        "bucket": "6h",
        "control_cycle": "6h",
        "channels": [
            {
                "name": "display",
                "auction": "first_price",
                "traffic": {"per_hour": 12000},
                "competition": {"competitors": 3, "median": 0.001, "sigma": 0.3},
            }
        ],
        "segments": [
            {
                "name": "s",
                "users": users,
                "ctr": 0.08,
                "cvr": CVR,
                "conversion_delay": {"distribution": "fixed", "value": "1s"},
            }
        ],
        "users": {"features": {"count": 4}, "conversion": {"coefficients": BETA}},
        "campaigns": [{"name": "k", "bid": 0.05}],
    }


@pytest.fixture(scope="module")
def seed_run() -> adsim.Result:
    """The seed run: every user our campaign reached, with features."""
    return adsim.run(scenario(), seed=3)


def test_fit_recovers_the_coefficients_within_their_standard_errors(seed_run: adsim.Result) -> None:
    # With l2 = 1e-6 the fit is the maximum-likelihood estimate: each coefficient is
    # within 3.5 standard errors (the Laplace covariance) of the truth:
    # intercept logit(0.05), then BETA.
    fit = adsim.lookalike(seed_run, share=0.1, l2=1e-6)
    truth = np.array([math.log(CVR / (1 - CVR))] + BETA)
    assert fit.clickers > 5000 and fit.seed_users > 500
    assert np.all(fit.standard_errors < 0.15)
    assert np.all(np.abs(fit.coefficients - truth) < 3.5 * fit.standard_errors), (fit.fit(), truth)
    table = fit.fit()
    assert list(table.index) == ["intercept", "feature_0", "feature_1", "feature_2", "feature_3"]


def test_audience_is_the_top_share_and_converts_above_the_average(seed_run: adsim.Result) -> None:
    fit = adsim.lookalike(seed_run, share=0.1, l2=1.0)
    users = seed_run.raw("users")
    assert len(fit.audience) == round(0.1 * len(users["user"]))
    assert fit.audience["score"].is_monotonic_decreasing
    assert fit.audience["score"].min() == pytest.approx(fit.threshold)
    # The members' conversion rate after a click against all users', with the
    # binomial standard error of the difference: more than 4 SE above.
    member = np.zeros(len(users["user"]), dtype=bool)
    member[fit.audience["user"].to_numpy()] = True  # one segment: user id = row
    clicks, conversions = users["clicks"].astype(float), users["conversions"].astype(float)
    member_rate = conversions[member].sum() / clicks[member].sum()
    all_rate = conversions.sum() / clicks.sum()
    se = math.sqrt(member_rate * (1 - member_rate) / clicks[member].sum() + all_rate * (1 - all_rate) / clicks.sum())
    assert member_rate - all_rate > 4 * se, (member_rate, all_rate, se)


def test_audience_feeds_a_second_run_that_buys_only_its_members(seed_run: adsim.Result) -> None:
    fit = adsim.lookalike(seed_run, share=0.2, l2=1.0)
    second_scenario = fit.apply(scenario(), {"k": {"lookalike": 1.0, "others": 0.0}})
    assert second_scenario["audiences"][0] == fit.to_scenario()
    second = adsim.run(second_scenario, seed=4)  # another population: the rule, not the ids, carries over
    users = second.raw("users")
    x = np.column_stack([users[f"feature_{k}"] for k in range(4)])
    member = fit.coefficients[0] + x @ fit.coefficients[1:] >= fit.threshold
    # Members are about 20 % of the new population, and only they were bought.
    assert 0.15 < member.mean() < 0.25
    assert users["clicks"][member].sum() > 100
    assert users["clicks"][~member].sum() == 0


def test_errors_name_what_is_wrong(seed_run: adsim.Result) -> None:
    with pytest.raises(adsim.ConfigError, match="share"):
        adsim.lookalike(seed_run, share=0.0)
    with pytest.raises(adsim.ConfigError, match="l2"):
        adsim.lookalike(seed_run, l2=-1.0)
    with pytest.raises(adsim.ConfigError, match="others"):
        adsim.lookalike(seed_run, name="others")
    no_features = scenario()
    del no_features["users"]
    with pytest.raises(adsim.DataError, match="users.features"):
        adsim.lookalike(adsim.run(no_features, seed=3))
    fit = adsim.lookalike(seed_run)
    with pytest.raises(adsim.ConfigError, match="no campaign 'nobody'"):
        fit.apply(scenario(), {"nobody": {"lookalike": 2.0}})
    with pytest.raises(adsim.ConfigError, match="already has an audience"):
        fit.apply(fit.apply(scenario()))
    bad = scenario()
    bad["users"]["conversion"]["coefficients"] = [1.0]
    with pytest.raises(adsim.ConfigError, match=r"users\.conversion\.coefficients"):
        adsim.run(bad, seed=1)


def test_fit_logistic_rejects_inconsistent_rows() -> None:
    with pytest.raises(adsim.DataError, match="successes <= trials"):
        adsim._adsim.fit_logistic(np.ones((2, 1)), np.array([1.0, 1.0]), np.array([2.0, 0.0]), 1.0, np.zeros(1))
