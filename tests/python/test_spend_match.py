"""adsim.spend_matched: the bid multiplier at which a scenario spends a target, on one seed."""

from __future__ import annotations

import math

import pytest

import adsim


def uncapped() -> dict:
    """Two fixed-bid campaigns on one second-price channel for 6 hours, with
    budgets far above what they can spend: spend grows with the bids (more
    auctions won, at higher second prices) and no budget caps it."""
    return {
        "name": "spend_match", "seed": 1, "duration": "6h",
        "channels": [{"name": "c", "traffic": {"per_hour": 6000},
                      "competition": {"competitors": 4, "median": 0.002, "sigma": 0.5}}],
        "segments": [{"name": "s", "ctr": 0.01, "cvr": 0.1}],
        "campaigns": [{"name": "x", "bid": 0.002, "budget": {"daily": 1000}},
                      {"name": "y", "bid": 0.0015, "budget": {"daily": 1000}}],
    }


def test_finds_the_multiplier_that_spends_the_target():
    # The target is what the scenario spends at multiplier 1.7 on seed 3; the
    # search starts from 1, so it must bracket and narrow down. Spend is
    # increasing in the multiplier here, so the match lands near 1.7: within
    # the tolerance 0.5 % on spend, and the spend's elasticity to the bids
    # is above 0.5 (second price: price and volume both rise), so within
    # 1 % / 0.5 ... 2 % in the multiplier; we allow 5 %.
    target = float(adsim.run(adsim.scale_bids(uncapped(), 1.7), seed=3).table("daily")["spend"].sum())
    match = adsim.spend_matched(uncapped(), target, seed=3, tolerance=0.005)
    assert match.matched
    assert abs(match.spend - target) <= 0.005 * target
    assert abs(math.log(match.multiplier / 1.7)) < 0.05
    assert 2 <= match.runs <= 16 and match.tried[0][0] == 1.0
    # The run kept is the run of the scaled scenario on the same seed (common random numbers).
    again = adsim.run(adsim.scale_bids(uncapped(), match.multiplier), seed=3)
    assert again.fingerprint == match.result.fingerprint
    assert float(match.result.table("daily")["spend"].sum()) == pytest.approx(match.spend, rel=1e-12)


def test_searches_down_as_well_and_in_smaller_steps():
    target = float(adsim.run(adsim.scale_bids(uncapped(), 0.6), seed=4).table("daily")["spend"].sum())
    match = adsim.spend_matched(uncapped(), target, seed=4)
    assert match.matched and match.multiplier < 1
    assert abs(math.log(match.multiplier / 0.6)) < 0.05
    # From a start near the answer, bracketing in steps of 25 %: 0.7 → 0.56 brackets 0.6.
    near = adsim.spend_matched(uncapped(), target, seed=4, start=0.7, step=1.25)
    assert near.matched and near.tried[1][0] == pytest.approx(0.56)
    assert abs(math.log(near.multiplier / 0.6)) < 0.05


def test_a_target_above_what_the_budgets_allow_is_reported_not_forced():
    capped = uncapped()
    for campaign in capped["campaigns"]:
        campaign["budget"] = {"daily": 2}  # 6 hours of a daily budget of 2 each: at most 4 in all
    match = adsim.spend_matched(capped, 100.0, seed=1, max_multiplier=16)
    assert not match.matched
    assert match.spend <= 4 + 1e-6
    # It went up to the limit, doubling from 1, and kept the run closest to the target (the most spend).
    assert [m for m, _ in match.tried] == pytest.approx([1, 2, 4, 8, 16])
    assert match.spend == max(spent for _, spent in match.tried)


def test_bad_arguments_name_the_argument():
    with pytest.raises(adsim.ConfigError, match="target_spend"):
        adsim.spend_matched(uncapped(), -1.0, seed=1)
    with pytest.raises(adsim.ConfigError, match="tolerance"):
        adsim.spend_matched(uncapped(), 1.0, seed=1, tolerance=0)
    with pytest.raises(adsim.ConfigError, match="step"):
        adsim.spend_matched(uncapped(), 1.0, seed=1, step=1.0)
    with pytest.raises(adsim.ConfigError, match="max_runs"):
        adsim.spend_matched(uncapped(), 1.0, seed=1, max_runs=1)
    no_bid = uncapped()
    del no_bid["campaigns"][1]["bid"]
    with pytest.raises(adsim.ConfigError, match=r"campaigns\[1\]\.bid"):
        adsim.spend_matched(no_bid, 1.0, seed=1)
    with pytest.raises(adsim.ConfigError, match="missing.yaml"):
        adsim.spend_matched("missing.yaml", 1.0, seed=1)
