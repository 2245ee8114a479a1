"""The oracle-gap decomposition and the harder scenario (bench/oracle_gap.py).

Owns the CI checks of that bench script: its partial oracle at the top rung
(the oracle's rule on the true cell rates with known shocks) is the engine's
oracle exactly when the engine's oracle has nothing more to know (no user
propensity, no fatigue, no pacing), and differs by noise only with pacing
(its bid table follows the base bid one cycle late), so the ladder ends where
it claims to; each rung differs from the stack only in the campaign it replaces;
the harder scenario validates and is harder; the argument errors. The study
itself is long and run by hand (docs/strategy-comparison.md).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

import adsim

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def gap(bench_import):
    return bench_import("oracle_gap")


@pytest.fixture(scope="module")
def scenario():
    return yaml.safe_load((BENCH / "scenarios" / "comparison.yaml").read_text())


def without_per_opportunity_knowledge(scenario: dict) -> dict:
    """The comparison scenario for one day with nothing the per-cell partial
    oracle cannot know: no user propensity spread, no fatigue, no controllers;
    the checkout-bug shock moved into the day so that known shocks matter."""
    sc = copy.deepcopy(scenario)
    sc["duration"] = "1d"
    sc.pop("controllers", None)
    for seg in sc["segments"]:
        seg.pop("propensity_sigma", None)
        seg.pop("fatigue", None)
        for creative in (seg.get("creatives") or {}).values():
            creative.pop("fatigue", None)
    sc["shocks"] = [{"name": "checkout", "start": "6h", "end": "12h", "channels": ["social"],
                     "multiply": {"cvr": 0.4}}]
    for camp in sc["campaigns"]:
        camp["bidder"] = "fixed"
        camp["controllers"] = []
    return sc


def test_top_rung_bids_what_the_engine_oracle_bids_when_nothing_else_is_known(gap, scenario):
    # The engine's oracle bids, per opportunity, true CVR x unit (x true CTR x
    # propensity x fatigue on impression-billed channels) x shocks, times base
    # bid / initial bid. With propensity 1, no fatigue and no budgets (so no
    # pacing: the base bid never moves) that is a function of the (channel,
    # segment, creative) cell and the live shocks only, which is exactly what
    # oracle_assisted_rates with known_shocks bids: the two runs must buy the
    # same conversions and spend the same for every campaign (same seed).
    sc = without_per_opportunity_knowledge(scenario)
    for camp in sc["campaigns"]:
        camp.pop("budget", None)
    gap.register_truth("test_exact", sc)
    oracle = adsim.run({**sc, "oracle": True}, seed=5).table("oracle").sort_values("campaign")
    n = len(sc["campaigns"])
    for c in range(n):
        partial = copy.deepcopy(sc)
        partial["campaigns"][c]["bidder"] = {"type": "oracle_assisted_rates",
                                             "params": {"truth": "test_exact", "known_shocks": True}}
        got = gap.per_campaign(adsim.run(partial, seed=5), n)
        assert got["conversions"][c] == float(oracle["oracle_conversions"].iloc[c]), sc["campaigns"][c]["name"]
        assert got["spend"][c] == pytest.approx(float(oracle["oracle_spend"].iloc[c]), rel=1e-9)


def test_with_pacing_the_top_rung_differs_from_the_oracle_by_noise_only(gap, scenario):
    # With daily budgets both are paced by pid_pacing; the bid table follows
    # the base bid one control cycle late, so they win slightly different
    # opportunities. Both spend the budget (to 1 %), and their conversions
    # differ by less than 3 standard errors of a difference of two Poisson
    # counts, sqrt(a + b) (conservative: common random numbers correlate them).
    sc = without_per_opportunity_knowledge(scenario)
    gap.register_truth("test_top", sc)
    oracle = adsim.run({**sc, "oracle": True}, seed=5).table("oracle").sort_values("campaign")
    n = len(sc["campaigns"])
    for c in range(n):
        partial = copy.deepcopy(sc)
        partial["campaigns"][c]["bidder"] = {"type": "oracle_assisted_rates",
                                             "params": {"truth": "test_top", "known_shocks": True}}
        partial["campaigns"][c]["controllers"] = [{"type": "pid_pacing"}]
        got = gap.per_campaign(adsim.run(partial, seed=5), n)
        a, b = got["conversions"][c], float(oracle["oracle_conversions"].iloc[c])
        assert abs(a - b) < 3 * math.sqrt(a + b), (sc["campaigns"][c]["name"], a, b)
        assert got["spend"][c] == pytest.approx(float(oracle["oracle_spend"].iloc[c]), rel=0.01)


def test_known_shocks_change_the_bids_only_while_the_shock_lasts(gap, scenario):
    # social_prospecting (campaign 1) is on social only: during the checkout
    # bug its table is the no-shock table x 0.4 (its conversion rate), else equal.
    sc = without_per_opportunity_knowledge(scenario)
    gap.register_truth("test_shock", sc)
    entry = gap.TRUTH["test_shock"]
    (start, end, multiplier), = entry["shocks"][1]
    assert (start, end) == (6 * 3_600_000_000, 12 * 3_600_000_000)
    social = [ch["name"] for ch in sc["channels"]].index("social")
    assert multiplier[social].min() == multiplier[social].max() == pytest.approx(0.4)
    search = [ch["name"] for ch in sc["channels"]].index("search")
    (_, _, search_multiplier), = entry["shocks"][0]  # search_generic bids on search only: untouched there
    assert search_multiplier[search].min() == search_multiplier[search].max() == 1.0


def test_each_rung_replaces_only_its_campaign(gap, scenario):
    stack = gap.tune_strategies.stack_scenario(scenario, "value", gap.tune_strategies.STACK_DEFAULTS["value"])
    for c in range(len(stack["campaigns"])):
        changed = gap.with_campaign(stack, c, {"type": "oracle_assisted_rates", "params": {"truth": "x"}})
        for other in range(len(stack["campaigns"])):
            if other != c:
                assert changed["campaigns"][other] == stack["campaigns"][other]
        assert changed["campaigns"][c]["controllers"] == [{"type": "pid_pacing"}]
        # the rungs after "own budget" run in the stack without reallocation, like the oracle's budget
        assert changed["controllers"] == gap.own_budget(stack)["controllers"]
    assert [x["type"] for x in stack["controllers"]] == ["budget_reallocation"]
    assert gap.own_budget(stack)["controllers"] == []
    rule = gap.oracle_rule_bidder(stack["campaigns"][1])  # social_prospecting, ROAS goal 2.5
    assert rule["type"] == "target_roas" and rule["params"]["target_roas"] == 1.0
    rule = gap.oracle_rule_bidder(stack["campaigns"][0])  # search_generic, CPA goal 25
    assert rule["type"] == "target_cpa" and rule["params"]["target_cpa"] == 25.0


def test_hard_scenario_validates_and_is_harder(scenario):
    hard = yaml.safe_load((BENCH / "scenarios" / "comparison_hard.yaml").read_text())
    adsim.validate(hard)
    assert [c["name"] for c in hard["campaigns"]] == [c["name"] for c in scenario["campaigns"]]
    assert len(hard["shocks"]) > len(scenario["shocks"])
    for easy, harder in zip(scenario["segments"], hard["segments"]):
        assert harder["cvr"] < easy["cvr"]
        assert harder["fatigue"]["half_life"] < easy["fatigue"]["half_life"]
    for easy, harder in zip(scenario["channels"], hard["channels"]):
        assert harder["competition"]["competitors"] > easy["competition"]["competitors"]
        assert harder["competition"]["median"] > easy["competition"]["median"]


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1"], "--seeds: expected at least 2"),
    (["--tuned", "/nonexistent/tuned.yaml"], "--tuned:"),
])
def test_rejects_bad_arguments(gap, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        gap.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
