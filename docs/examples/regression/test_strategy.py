"""The example project's strategy regression tests (README.md in this folder): run by `pytest` in CI.

The baseline check reruns baseline.yaml's cases on their seeds and fails only when a KPI is worse
than recorded beyond its paired standard error; the one-line assertions compare two strategies on
the same seeds without a stored baseline.
"""

from pathlib import Path

from adsim.testing import assert_equivalent, assert_not_worse

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenario.yaml"


def test_strategies_are_not_worse_than_the_baseline(adsim_regression):
    adsim_regression(HERE / "baseline.yaml")


def test_target_cpa_bidding_is_not_worse_than_a_fixed_bid_on_cpa():
    # Both sides are patches of the scenario, run on seeds 1..10 (common random numbers).
    fixed_bid = {"campaigns[shop].bidder": {"type": "fixed"}}
    assert_not_worse({}, fixed_bid, metric="cpa", seeds=10, scenario=SCENARIO)


def test_creative_testing_leaves_the_pacing_alone():
    # Thompson sampling moves traffic between creatives; spend must stay what the pacing
    # controller delivers, within 1 currency unit of the daily 30 (TOST at alpha 0.05).
    creative_testing = {"campaigns[shop].controllers": [{"type": "pid_pacing"}, {"type": "creative_thompson"}]}
    assert_equivalent(creative_testing, {}, metric="spend", margin=1.0, seeds=10, scenario=SCENARIO)
