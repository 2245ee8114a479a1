"""The equal-spend bounds of the targets (bench/oracle_bound.py, adsim.run(oracle_all=...)).

Owns the CI checks of that bench script: its per-seed measurement runs on a
short version of the comparison scenario and every variant spends what the
stack spends within the tolerance (the λ search and the baseline's spend
match); the λ search alone matches a spend it could reach; the cell-level
reference is the full reference exactly when there is nothing per user or
per impression to know; the section lands right after "Targets", once; and
adsim.run rejects bad oracle_all arguments. The 30-seed study is run by hand
(docs/strategy-comparison.md, "Are the targets reachable?").
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import adsim

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def bound(bench_import):
    return bench_import("oracle_bound")


@pytest.fixture(scope="module")
def short_scenario():
    """The comparison scenario cut to its first 12 hours (about 0.4 M opportunities)."""
    sc = yaml.safe_load((BENCH / "scenarios" / "comparison.yaml").read_text())
    sc["duration"] = "12h"
    return sc


@pytest.fixture(scope="module")
def measured(bound, short_scenario):
    import tune_strategies  # on sys.path through the bound fixture

    stack = tune_strategies.stack_scenario(short_scenario, "value", tune_strategies.STACK_DEFAULTS["value"])
    return bound.seed_measure(short_scenario, stack, seed=3, tolerance=0.01)


def test_every_variant_spends_what_the_stack_spends(measured):
    target = measured["stack"]["spend"]
    assert target > 0
    for variant in ("baseline", "reference", "cell reference"):
        entry = measured[variant]
        assert entry["matched"], (variant, entry["spend"], target)
        assert abs(entry["spend"] - target) <= 0.01 * target, (variant, entry["spend"], target)
        assert entry["multiplier"] > 0 and entry["runs"] >= 1
        # Per campaign and in all from the same table.
        assert sum(entry["campaign_spend"]) == pytest.approx(entry["spend"])
    # Each campaign's oracle ran (the `oracle` table of the stack's run).
    assert len(measured["oracle_conversions"]) == 4
    assert all(x > 0 for x in measured["oracle_conversions"])


def test_lambda_search_matches_a_reachable_spend(bound, short_scenario):
    ref = bound.reference_scenario(short_scenario)
    # A spend the reference reaches at λ = 9 (so a match exists); the search starts 4x away.
    target = bound.totals(adsim.run(ref, seed=5, oracle_all=9.0))["spend"]
    found = bound.match_lambda(lambda lam: adsim.run(ref, seed=5, oracle_all=lam), target, 0.005, start=36.0)
    assert found["matched"]
    assert abs(found["spend"] - target) <= 0.005 * target
    # Spend grows with λ: every tried λ below the match spent less, every one above more.
    for lam, spent in found["tried"]:
        if lam < found["multiplier"]:
            assert spent <= found["spend"]
        elif lam > found["multiplier"]:
            assert spent >= found["spend"]


def test_cell_truth_is_the_full_truth_without_per_user_knowledge(bound, short_scenario):
    # Without user propensity spread and fatigue, the cell's rates and the
    # shocks are all there is to know: both references make the same run.
    sc = copy.deepcopy(short_scenario)
    for segment in sc["segments"]:
        segment.pop("propensity_sigma", None)
        segment.pop("fatigue", None)
        for creative in (segment.get("creatives") or {}).values():
            creative.pop("fatigue", None)
    sc.pop("fatigue", None)
    ref = bound.reference_scenario(sc)
    full = adsim.run(ref, seed=2, oracle_all=15.0)
    cell = adsim.run(ref, seed=2, oracle_all=15.0, oracle_all_cell_truth=True)
    assert full.fingerprint == cell.fingerprint
    # With them (the scenario as written), the two differ.
    ref = bound.reference_scenario(short_scenario)
    assert (adsim.run(ref, seed=2, oracle_all=15.0).fingerprint
            != adsim.run(ref, seed=2, oracle_all=15.0, oracle_all_cell_truth=True).fingerprint)


def test_section_goes_right_after_targets_once(bound, measured):
    data = {"command": "python bench/oracle_bound.py --seeds 2", "commit": "abc1234", "date": "2026-12-07",
            "workers": 1, "tolerance": 0.01, "wall_s": 1.0, "daily_budget_total": 1000.0, "tuned": "`pid_pacing.kp` 6.0",
            "campaigns": ["search_generic", "social_prospecting", "display_awareness", "cross_retail"],
            "runs": [measured, {**measured, "seed": 4}]}
    text = bound.render(data)
    assert text.startswith(bound.BEGIN) and text.endswith(bound.END)
    assert "## Are the targets reachable?" in text
    page = "# T\n\n## Targets (x)\n\nbody\n\n## The control cycle\n\nmore\n"
    once = bound.insert_section(page, text)
    assert once.index("## Targets") < once.index("## Are the targets reachable?") < once.index("## The control cycle")
    again = bound.insert_section(once, text)
    assert again == once


def test_run_rejects_bad_oracle_all():
    with pytest.raises(ValueError, match="oracle_all"):
        adsim.run(None, seed=1, oracle_all=0.0)
    with pytest.raises(ValueError, match="oracle_all"):
        adsim.run(None, seed=1, oracle_all=float("nan"))
    with pytest.raises(ValueError, match="oracle_all"):
        adsim.run(None, seed=1, oracle_all=2.0, oracle=True)
    with pytest.raises(ValueError, match="oracle_all_cell_truth"):
        adsim.run(None, seed=1, oracle_all_cell_truth=True)


def test_a_share_is_short_of_85_only_when_its_whole_ci_is(bound):
    """The verdict of (a) names a campaign as short on the known-shocks rung
    only when the upper end of its CI is below 85 %."""
    assert bound.ci_high_below("81.6 % [78.4, 84.8]", 85.0)
    assert not bound.ci_high_below("81.5 % [74.3, 88.6]", 85.0)
    assert not bound.ci_high_below("91.1 % [89.2, 93.1]", 85.0)
    assert bound.ci_high_below("−3.0 % [−5.0, −1.0]", 85.0)
    assert not bound.ci_high_below("no interval", 85.0)


def test_the_fatigue_verdict_quotes_the_known_fatigue_rung(bound):
    """The verdict of (a) on the "+ known fatigue" rung of the decomposition:
    whole CI below 85 % -> not reachable without the user's propensity; whole
    CI at or above -> reachable in principle by a fatigue-aware learner;
    otherwise not resolved; nothing without the rung (an older measurement)."""
    assert bound.ci_low_at_or_above("91.1 % [89.2, 93.1]", 85.0)
    assert bound.ci_low_at_or_above("85.5 % [85.0, 86.0]", 85.0)
    assert not bound.ci_low_at_or_above("84.0 % [81.0, 87.0]", 85.0)
    assert not bound.ci_low_at_or_above("−3.0 % [−5.0, −1.0]", 85.0)
    assert bound.fatigue_verdict({}) == ""
    text = bound.fatigue_verdict({"display_awareness": "80.0 % [78.0, 82.0]",
                                  "social_prospecting": "86.0 % [83.0, 89.0]"})
    assert "`display_awareness` reaches 80.0 % [78.0, 82.0]" in text
    assert ("For `display_awareness` the whole CI is below 85 %: even knowing fatigue, without the user's "
            "propensity a bidder on the campaign's own budget does not reach 85 %") in text
    assert "For `social_prospecting` the CI contains 85 %" in text
    assert "reachable in principle" not in text
    text = bound.fatigue_verdict({"display_awareness": "90.0 % [88.0, 92.0]"})
    assert "reachable in principle by a fatigue-aware learner" in text and "below 85" not in text
