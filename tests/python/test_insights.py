"""Auction insights (Result.auction_insights) and the evidence every action
carries (the actions table's metric, observed and threshold columns)."""

from __future__ import annotations

import copy
import math
from typing import Any, Dict

import numpy as np
import pytest
import yaml

import adsim

from conftest import REPO

#: Every built-in component that proposes actions in the kitchen-sink scenario.
KITCHEN_SINK_CONTROLLERS = {
    "pid_pacing",
    "creative_thompson",
    "creative_ucb1",
    "audience_modifiers",
    "rule",
    "budget_reallocation",
}


@pytest.fixture(scope="module")
def kitchen_sink() -> adsim.Result:
    return adsim.run(str(REPO / "tests" / "golden" / "kitchen_sink.yaml"))


def _assert_explained(actions, controller: str) -> None:
    rows = actions[actions["controller"] == controller]
    assert len(rows) > 0, f"{controller} proposed no action"
    assert (rows["metric"] != "").all(), rows[rows["metric"] == ""]
    assert np.isfinite(rows["observed"]).all(), rows[~np.isfinite(rows["observed"])]
    assert np.isfinite(rows["threshold"]).all(), rows[~np.isfinite(rows["threshold"])]


@pytest.mark.parametrize("controller", sorted(KITCHEN_SINK_CONTROLLERS))
def test_every_builtin_controller_explains_its_actions(kitchen_sink, controller):
    _assert_explained(kitchen_sink.actions, controller)


def _ab_scenario(**changes: Any) -> Dict[str, Any]:
    """bench/experiment_simulation.py's A/B scenario (two campaigns, one creative each)."""
    import sys

    sys.path.insert(0, str(REPO / "bench"))
    import experiment_simulation as es

    return es.scenario(per_hour=20000, duration="150m", control_cycle="2m", baseline=0.05, mde=0.2, **changes)


def test_the_ab_test_decision_is_explained():
    # (The kitchen sink's experiment never decides.) A 40 % lift, mSPRT, decision: act.
    scenario = _ab_scenario(lift=0.4, methods=["msprt"])
    scenario["experiments"][0]["analyses"][0]["params"]["decision"] = "act"
    actions = adsim.run(scenario, seed=1).actions
    decided = actions[actions["controller"].str.startswith("experiment:")]
    assert len(decided) > 0
    assert (decided["metric"] == "log_likelihood_ratio").all()  # method: msprt
    # A decision is taken when the log likelihood ratio reaches log(1 / alpha).
    assert np.allclose(decided["threshold"], math.log(1 / 0.05))
    assert (decided["observed"] >= decided["threshold"]).all()


def test_creative_epsilon_greedy_explains_its_actions():
    # (It proposes nothing in the kitchen sink.) Two creatives, one campaign, six hours.
    scenario = _ab_scenario()
    scenario.pop("experiments")
    scenario["duration"], scenario["control_cycle"] = "6h", "15m"
    scenario["campaigns"][0]["creatives"] = ["x", "y"]
    scenario["campaigns"][0]["controllers"] = [{"type": "creative_epsilon_greedy"}]
    _assert_explained(adsim.run(scenario, seed=1).actions, "creative_epsilon_greedy")


def test_the_rule_reports_what_it_compared(kitchen_sink):
    # kitchen_sink: rule {metric: cpa, threshold: 20, relative_to: absolute}, above by default.
    rows = kitchen_sink.actions[kitchen_sink.actions["controller"] == "rule"]
    assert (rows["metric"] == "cpa").all()
    assert (rows["threshold"] == 20).all()
    assert (rows["observed"] > rows["threshold"]).all()


def test_pid_pacing_reports_the_pacing_error_it_acted_on(kitchen_sink):
    rows = kitchen_sink.actions[kitchen_sink.actions["controller"] == "pid_pacing"]
    assert (rows["metric"] == "pacing_error").all() and (rows["threshold"] == 0).all()
    # The evidence is the error its reason gives (a PID's derivative and integral
    # terms may still move the bid against the error's sign, so only the value is pinned).
    for observed, reason in zip(rows["observed"], rows["reason"]):
        assert f"pacing error {observed:.6f}" in reason


@adsim.register_controller("test_upset_rotation", description="Pauses creative 1 and halves creative 0 once (test).")
class UpsetRotation(adsim.Controller):
    def on_cycle(self, snapshot):
        if snapshot.time > 0:
            return None
        return [
            adsim.Action.pause_creative(self.campaign, 1).because("test", 1.0, 0.0),
            adsim.Action.set_creative_weight(self.campaign, 0, 0.5),
        ]


def test_creative_even_explains_its_actions(small):
    small["campaigns"][0]["controllers"] = [{"type": "test_upset_rotation"}, {"type": "creative_even"}]
    actions = adsim.run(small).actions
    _assert_explained(actions, "creative_even")
    even = actions[actions["controller"] == "creative_even"]
    assert set(even["metric"]) == {"creative_paused", "creative_weight"}
    weight = even[even["metric"] == "creative_weight"]
    assert (weight["observed"] == 0.5).all() and (weight["threshold"] == 1).all()


@adsim.register_controller("test_explained_bid", description="Lowers the bid once, with and without evidence (test).")
class ExplainedBid(adsim.Controller):
    def on_cycle(self, snapshot):
        if snapshot.time > 0:
            return None
        bid = snapshot.campaigns[self.campaign].bid
        return [
            adsim.Action.set_bid(self.campaign, bid * 0.9, reason="cpa too high").because("cpa", 31.5, 25.0),
            adsim.Action.set_daily_budget(self.campaign, 50.0, reason="no evidence given"),
        ]


def test_python_controllers_set_the_evidence(small):
    small["campaigns"][0]["controllers"] = [{"type": "test_explained_bid"}]
    actions = adsim.run(small).actions
    rows = actions[actions["controller"] == "test_explained_bid"].reset_index(drop=True)
    assert list(rows["kind"]) == ["set_bid", "set_daily_budget"]
    assert rows.loc[0, "metric"] == "cpa"
    assert rows.loc[0, "observed"] == 31.5 and rows.loc[0, "threshold"] == 25.0
    assert rows.loc[1, "metric"] == ""
    assert math.isnan(rows.loc[1, "observed"]) and math.isnan(rows.loc[1, "threshold"])


def test_because_checks_its_metric():
    with pytest.raises(ValueError, match="metric must be a non-empty string"):
        adsim.Action.set_bid(0, 1.0).because("")


def _check_insights(result: adsim.Result) -> None:
    insights = result.auction_insights
    assert insights is not None and len(insights) > 0
    assert {"campaign_name", "channel_name", "day_start_at"} <= set(insights.columns)
    counts = insights["impressions"] + insights["lost_budget"] + insights["lost_rank"]
    assert (counts == insights["eligible"]).all()
    assert (insights[["lost_budget", "lost_rank"]] >= 0).all().all()
    with_eligible = insights[insights["eligible"] > 0]
    shares = with_eligible["impression_share"] + with_eligible["lost_is_budget"] + with_eligible["lost_is_rank"]
    np.testing.assert_allclose(shares, 1.0, rtol=0, atol=1e-12)
    for rate in ("impression_share", "lost_is_budget", "lost_is_rank", "top_rate", "absolute_top_rate",
                 "overlap_rate", "position_above_rate", "outranking_share"):
        values = insights[rate].dropna()
        assert ((values >= 0) & (values <= 1)).all(), rate
    shown = insights[insights["impressions"] > 0]
    assert (shown["average_position"] >= 1).all()
    assert (shown["absolute_top_impressions"] <= shown["top_impressions"]).all()
    assert (shown["competitor_above"] <= shown["overlap_impressions"]).all()
    # Eligible opportunities and impressions are the aggregates' bid requests and impressions.
    by_pair = insights.groupby(["campaign", "channel"])[["eligible", "impressions"]].sum()
    by_pair = by_pair[(by_pair["eligible"] > 0) | (by_pair["impressions"] > 0)]
    aggregates = result.aggregates.groupby(["campaign", "channel"])[["opportunities", "impressions"]].sum()
    aggregates = aggregates[(aggregates["opportunities"] > 0) | (aggregates["impressions"] > 0)]
    assert by_pair["eligible"].to_dict() == aggregates["opportunities"].to_dict()
    assert by_pair["impressions"].to_dict() == aggregates["impressions"].to_dict()


def test_auction_insights_identities_on_the_kitchen_sink(kitchen_sink):
    _check_insights(kitchen_sink)
    insights = kitchen_sink.auction_insights
    # search is the one slotted channel (GSP, 3 slots): top-of-page rates only there.
    slotted = insights["channel_name"] == "search"
    assert insights.loc[slotted & (insights["impressions"] > 0), "top_rate"].notna().all()
    assert insights.loc[~slotted, "top_rate"].isna().all()
    # One-slot channels never show two ads: no overlap.
    assert (insights.loc[~slotted, "overlap_impressions"] == 0).all()
    # Budgets bind somewhere in the kitchen sink (several campaigns spend their daily budgets).
    assert insights["lost_budget"].sum() > 0


def test_auction_insights_survive_the_file(kitchen_sink, tmp_path):
    path = kitchen_sink.save(tmp_path / "run.h5")
    loaded = adsim.load(path)
    assert loaded.attrs["schema_version"] == 4
    _check_insights(loaded)
    assert loaded.actions[["metric", "observed", "threshold"]].equals(
        kitchen_sink.actions[["metric", "observed", "threshold"]])
