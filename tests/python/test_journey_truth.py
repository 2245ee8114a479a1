"""The journeys' ground truth (docs/journeys.md, "Ground truth") and the accuracy
scores built on it (docs/attribution.md, "Accuracy against truth"): the truth does
not perturb the run; a channel without touchpoints gets nothing; Shapley values are
efficient; one channel's removal effect is its Shapley value; without interactions
removal and Shapley agree within their standard error over seeds, and with two
campaigns saturating one channel they do not; dashboards over-report; the score is
1 for the truth and within [0, 1]; Python and `adsim attribute --truth` agree."""

from __future__ import annotations

import copy
import json
import math
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest

import adsim

_BASE: Dict[str, Any] = {
    "name": "truth",
    "duration": "2d",
    "channels": [
        {
            "name": "search",
            "auction": "second_price",
            "traffic": {"per_hour": 1500},
            "competition": {"competitors": 3, "median": 0.002, "sigma": 0.5},
        },
        {
            "name": "display",
            "auction": "second_price",
            "traffic": {"per_hour": 3000},
            "competition": {"competitors": 3, "median": 0.0015, "sigma": 0.5},
        },
        {
            "name": "social",
            "auction": "second_price",
            "traffic": {"per_hour": 2000},
            "competition": {"competitors": 3, "median": 0.0015, "sigma": 0.5},
        },
    ],
    "segments": [{"name": "people", "users": 3000, "ctr": 0.02, "cvr": 0.05}],
    "campaigns": [
        {"name": "brand", "channels": ["search"], "bid": 0.004, "budget": {"daily": 50}},
        {"name": "prospecting", "channels": ["display", "social"], "bid": 0.003, "budget": {"daily": 50}},
    ],
    "journeys": {
        "touchpoints": 16,
        "baseline": {"people": 0.002},
        "lift": [
            {"channel": "search", "kind": "click", "lift": 0.3, "half_life": "1d"},
            {"channel": "display", "kind": "view", "lift": 0.02, "half_life": "12h"},
            {"channel": "social", "kind": "view", "lift": 0.03, "half_life": "1d"},
        ],
        "view_through_window": "1d",
        "click_through_window": "7d",
        "truth": True,
    },
}


def scenario(**journeys: Any) -> Dict[str, Any]:
    """The base scenario with some `journeys:` fields replaced."""
    out = copy.deepcopy(_BASE)
    out["journeys"].update(journeys)
    return out


def truth_of(result: adsim.Result, scope: str) -> Any:
    table = result.journey_truth
    assert table is not None
    return table[table["scope"] == scope].set_index("name")


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> adsim.Result:
    out = tmp_path_factory.mktemp("truth") / "run.h5"
    return adsim.run(scenario(), seed=3, out=str(out))


def test_truth_does_not_perturb_the_run() -> None:
    with_truth = adsim.run(scenario(), seed=5)
    without = adsim.run(scenario(truth=False), seed=5)
    assert without.journey_truth is None and with_truth.journey_truth is not None
    for name in ("journey_conversions", "journey_paths", "aggregates", "conversions"):
        assert with_truth.table(name).equals(without.table(name)), name


def test_shapley_is_efficient_and_removal_bounded(base_run: adsim.Result) -> None:
    conversions = base_run.journey_conversions
    incremental = conversions[conversions["organic"] == 0]
    assert len(incremental) > 50
    for scope in ("channel", "campaign"):
        players = truth_of(base_run, scope)
        # Efficiency: sum of Shapley values = v(all) - v(none) = the factual incremental conversions and value.
        assert abs(players["shapley_conversions"].sum() - len(incremental)) < 1e-9 * len(incremental)
        assert math.isclose(players["shapley_value"].sum(), incremental["value"].sum(), rel_tol=1e-9)
        # The drawn causes partition the incremental conversions too.
        assert players["cause_conversions"].sum() == len(incremental)
        # Removing lift only lowers the hazard (a monotone game): removal effects are >= 0 and
        # each at most the total.
        assert (players["removal_conversions"] >= 0).all()
        assert (players["removal_conversions"] <= len(incremental)).all()
        assert (players["shapley_conversions"] >= 0).all()


def test_a_channel_without_touchpoints_gets_nothing() -> None:
    # `social` keeps its traffic and lift but no campaign targets it: no touchpoint, so its
    # removal leaves every counterfactual identical (removal 0, Shapley 0, no reports).
    spec = scenario()
    spec["campaigns"][1]["channels"] = ["display"]
    result = adsim.run(spec, seed=4)
    social = truth_of(result, "channel").loc["social"]
    for column in ("removal_conversions", "shapley_conversions", "removal_value", "shapley_value"):
        assert social[column] == 0, column
    assert social["reported_conversions"] == 0 and social["cause_conversions"] == 0
    # And the other players' numbers are those of the same run (same seed) without the channel's lift.
    spec["journeys"]["lift"] = [lift for lift in spec["journeys"]["lift"] if lift["channel"] != "social"]
    other = adsim.run(spec, seed=4)
    assert truth_of(other, "channel").drop(index="social").equals(truth_of(result, "channel").drop(index="social"))


def test_one_channel_removal_is_its_shapley_value() -> None:
    spec = scenario(lift=[{"channel": "display", "kind": "view", "lift": 0.05, "half_life": "1d", "saturation": 2}])
    spec["channels"] = [spec["channels"][1]]
    spec["campaigns"] = [{"name": "prospecting", "channels": ["display"], "bid": 0.003, "budget": {"daily": 50}}]
    result = adsim.run(spec, seed=6)
    for scope in ("channel", "campaign"):
        player = truth_of(result, scope).iloc[0]
        # One player: v({p}) - v({}) is both its removal effect and its Shapley value.
        assert player["removal_conversions"] == player["shapley_conversions"] > 0
        assert player["removal_value"] == player["shapley_value"]


def removal_minus_shapley(spec: Dict[str, Any], seeds: List[int], scope: str) -> Any:
    rows = []
    for seed in seeds:
        players = truth_of(adsim.run(spec, seed=seed), scope)
        rows.append((players["removal_conversions"] - players["shapley_conversions"]).to_numpy())
    return np.array(rows)


def test_additive_model_removal_equals_shapley_within_standard_error() -> None:
    # No saturation: the hazard is a sum of independent per-touch lifts, so every subset's
    # expected conversions add up and E[removal] = E[Shapley] for channels and campaigns;
    # per run they differ by the thinning's coin flips only (a conversion that needed two
    # channels' lift counts fully in both removals but half in each Shapley value).
    seeds = list(range(20, 32))
    for scope in ("channel", "campaign"):
        difference = removal_minus_shapley(scenario(), seeds, scope)
        mean = difference.mean(axis=0)
        se = difference.std(axis=0, ddof=1) / math.sqrt(len(seeds))
        assert (np.abs(mean) <= 4 * se + 1e-12).all(), (scope, mean, se)


def test_saturation_shared_by_campaigns_makes_removal_smaller_than_shapley() -> None:
    # Two campaigns on one saturating channel are substitutes: removing either loses little,
    # as the other's touches still saturate the lift, so the removal effects add up to much
    # less than the total (which the Shapley values share out exactly).
    spec = scenario(lift=[{"channel": "display", "kind": "view", "lift": 0.2, "half_life": "1d", "saturation": 0.5}])
    spec["campaigns"] = [
        {"name": "first", "channels": ["display"], "bid": 0.004, "budget": {"daily": 50}},
        {"name": "second", "channels": ["display"], "bid": 0.004, "budget": {"daily": 50}},
    ]
    result = adsim.run(spec, seed=8)
    campaigns = truth_of(result, "campaign")
    total = campaigns["shapley_conversions"].sum()
    assert total > 100
    # f(n) = 0.5 (1 - e^{-2n}): one fresh touch already gives f(1) = 0.43 of the cap 0.5, so
    # with both campaigns' touches present removing one loses a small part of the hazard; the
    # removals sum to well under the total (a 20% margin is several standard errors, sqrt(n)/n,
    # of a count of > 100).
    assert campaigns["removal_conversions"].sum() < 0.8 * total


def test_interacting_channels_make_removal_differ_from_shapley() -> None:
    # display and social views are complements (journeys.interactions): while a user has lifted
    # touches of both, both lifts are multiplied by m = 4. With lifts a (display) and b (social),
    # removing display leaves b instead of 4(a + b), so it loses (4a + 3b) / (4a + 4b) of each such
    # conversion in expectation, removing social (3a + 4b) / (4a + 4b): the two removals together
    # count 7/4 of every conversion of a user with both, so the removal effects add up to more
    # than the incremental total, which the Shapley values share out exactly (efficiency).
    # Per conversion, the excess (the number of single removals that lose it, minus 1) lies in
    # [-1, 2] for three channels: its standard deviation is at most 2, so the sum's standard
    # error is at most 2 sqrt(total); 4 of them are required.
    spec = scenario(interactions=[{"channels": ["display", "social"], "lift_multiplier": 4}])
    result = adsim.run(spec, seed=9)
    incremental = result.attrs["journey_incremental_conversions"]
    channels = truth_of(result, "channel")
    assert incremental > 200
    assert abs(channels["shapley_conversions"].sum() - incremental) < 1e-9 * incremental
    excess = channels["removal_conversions"].sum() - incremental
    assert excess > 4 * 2 * math.sqrt(incremental), (excess, incremental)
    # The same run without the interaction (same seed): the removals add up to the total within
    # that standard error (additive lifts: E[removal] = E[Shapley]).
    additive = adsim.run(scenario(), seed=9)
    additive_channels = truth_of(additive, "channel")
    additive_total = additive.attrs["journey_incremental_conversions"]
    assert abs(additive_channels["removal_conversions"].sum() - additive_total) < 4 * 2 * math.sqrt(additive_total)
    # Per campaign too: prospecting serves both channels, brand search neither of them, so the
    # interaction is inside one player and Shapley still sums to the total.
    campaigns = truth_of(result, "campaign")
    assert abs(campaigns["shapley_conversions"].sum() - incremental) < 1e-9 * incremental


def test_interactions_validation_names_the_field() -> None:
    bad = scenario(interactions=[{"channels": ["display"], "lift_multiplier": 2},
                                 {"channels": ["display", "tv"], "lift_multiplier": -1}])
    with pytest.raises(adsim.ConfigError) as error:
        adsim.validate(bad)
    message = str(error.value)
    assert "journeys.interactions[0].channels" in message and "at least two" in message
    assert "journeys.interactions[1].channels[1]" in message and "search, display, social" in message
    assert "journeys.interactions[1].lift_multiplier" in message


def test_dashboards_over_report(base_run: adsim.Result) -> None:
    conversions = base_run.journey_conversions
    claimed = (conversions["through"] != "none").sum()
    channels, campaigns = truth_of(base_run, "channel"), truth_of(base_run, "campaign")
    # Every claim is one dashboard crediting one campaign: both scopes count the same claims.
    assert channels["reported_conversions"].sum() == campaigns["reported_conversions"].sum()
    # A conversion with a touch in its window is claimed by at least one dashboard (the
    # platform credit's channel), by several when the user met several channels: double counting.
    assert channels["reported_conversions"].sum() > claimed
    # In this scenario (windows longer than the lifts' half-lives, organic conversions of
    # touched users) each dashboard claims more than its true incremental conversions.
    for players in (channels, campaigns):
        touched = players[players["reported_conversions"] > 0]
        assert (touched["reported_conversions"] >= touched["removal_conversions"]).all()
        assert (touched["reported_conversions"] >= touched["shapley_conversions"]).all()


def test_accuracy_score_properties() -> None:
    truth = {"a": 3.0, "b": 1.0, "c": 0.0}
    assert adsim.attribution_accuracy_score(truth, truth) == 1.0
    # Shares (3/4, 1/4) against (1/2, 1/2): 1 - 1/2 (1/4 + 1/4) = 0.75.
    assert adsim.attribution_accuracy_score({"a": 1, "b": 1}, truth) == pytest.approx(0.75, abs=1e-15)
    assert adsim.attribution_accuracy_score({"c": 2}, truth) == 0.0  # disjoint support
    assert math.isnan(adsim.attribution_accuracy_score({"a": 0}, truth))
    generator = np.random.default_rng(1)
    for _ in range(200):
        model = dict(zip("abcd", generator.exponential(size=4)))
        score = adsim.attribution_accuracy_score(model, truth)
        assert 0.0 <= score <= 1.0
    with pytest.raises(adsim.DataError, match="'b'"):
        adsim.attribution_accuracy_score({"a": 1, "b": -1}, truth)


def test_result_accuracy_and_cli_agree(base_run: adsim.Result, adsim_cli: str) -> None:
    models = ["first_touch", "last_touch", "linear", "markov1", "shapley"]
    scores = base_run.attribution_accuracy(models=models)
    assert set(scores["model"]) == set(models) | {"platform_reported", "drawn_cause"}
    assert set(scores["scope"]) == {"channel", "campaign"}
    columns = ["conversions_vs_removal", "conversions_vs_shapley", "value_vs_removal", "value_vs_shapley"]
    values = scores[columns].to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    # A model fed the truth itself would score 1: check through the public function.
    channels = truth_of(base_run, "channel")
    assert adsim.attribution_accuracy_score(channels["shapley_conversions"], channels["shapley_conversions"]) == 1.0
    completed = subprocess.run(
        [adsim_cli, "attribute", str(base_run.path), "--model", ",".join(models), "--truth", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    cli = {(row["model"], row["scope"]): row for row in json.loads(completed.stdout)}
    assert len(cli) == len(scores)
    for row in scores.itertuples():
        for column in columns:
            assert math.isclose(cli[(row.model, row.scope)][column], getattr(row, column), abs_tol=1e-12)


def test_truth_errors(tmp_path: Path, adsim_cli: str) -> None:
    plain = adsim.run(scenario(truth=False), seed=2, out=str(tmp_path / "plain.h5"))
    with pytest.raises(adsim.DataError, match="journeys.truth"):
        plain.attribution_accuracy()
    completed = subprocess.run(
        [adsim_cli, "attribute", str(tmp_path / "plain.h5"), "--truth"], capture_output=True, text=True
    )
    assert completed.returncode == 3 and completed.stdout == ""
    assert "plain.h5" in completed.stderr and "journey_truth" in completed.stderr
    # Exact Shapley values need at most 12 campaigns (auto and sampled take more: see below).
    spec = scenario(truth_shapley="exact")
    spec["campaigns"] = [
        {"name": f"c{index}", "channels": ["display"], "bid": 0.003, "budget": {"daily": 5}} for index in range(13)
    ]
    with pytest.raises(adsim.ConfigError, match=r"journeys\.truth_shapley.*at most 12"):
        adsim.validate(spec)
    with pytest.raises(adsim.ConfigError, match=r"journeys\.truth_permutations"):
        adsim.validate(scenario(truth_permutations=1))


@pytest.mark.parametrize("interactions", [[], [{"channels": ["display", "social"], "lift_multiplier": 3}]])
def test_sampled_shapley_agrees_with_exact_within_its_standard_error(interactions: List[Any]) -> None:
    # Three channels and two campaigns: small enough for the exact values over 2^n subsets.
    # The sampled ones (permutation sampling, 400 orders from the seed) are computed from the
    # same run (the truth draws nothing from the run's streams), so they estimate exactly the
    # exact values: each within 4 of its standard errors (the mean of 400 iid orders' marginal
    # contributions is close to normal). Removal effects are exact either way, and each order's
    # contributions add up to the total, so the sampled values are efficient exactly.
    exact = adsim.run(scenario(interactions=interactions), seed=3)
    sampled = adsim.run(scenario(interactions=interactions, truth_shapley="sampled", truth_permutations=400), seed=3)
    assert exact.journey_conversions.equals(sampled.journey_conversions)
    incremental = exact.attrs["journey_incremental_conversions"]
    noisy = 0
    for scope in ("channel", "campaign"):
        e, s = truth_of(exact, scope), truth_of(sampled, scope)
        assert (e["shapley_method"] == "exact").all() and (s["shapley_method"] == "sampled").all()
        assert (e["shapley_conversions_se"] == 0).all() and (e["shapley_value_se"] == 0).all()
        assert np.allclose(s["removal_conversions"], e["removal_conversions"], rtol=0, atol=1e-9)
        assert np.allclose(s["removal_value"], e["removal_value"], rtol=1e-12, atol=1e-9)
        assert abs(s["shapley_conversions"].sum() - incremental) < 1e-9 * incremental
        for column in ("shapley_conversions", "shapley_value"):
            gap = (s[column] - e[column]).abs()
            assert (gap <= 4 * s[column + "_se"] + 1e-9).all(), (scope, column, gap, s[column + "_se"])
        noisy += int((s["shapley_conversions_se"] > 0).sum())
    assert noisy > 0, "two players sharing conversions give the sampled values some spread"


def test_more_than_12_campaigns_get_sampled_shapley_values() -> None:
    # 14 campaigns (auto: sampled beyond 12 players of a scope) on the two view channels; the
    # 3 channels stay exact. Efficiency holds exactly for every order, hence for the estimate.
    spec = scenario(truth_permutations=200)
    spec["campaigns"] = [
        {"name": f"c{index}", "channels": ["display", "social"], "bid": 0.003 + 0.0001 * index,
         "budget": {"daily": 20}} for index in range(14)
    ]
    result = adsim.run(spec, seed=12)
    incremental = result.attrs["journey_incremental_conversions"]
    assert incremental > 50
    campaigns, channels = truth_of(result, "campaign"), truth_of(result, "channel")
    assert (campaigns["shapley_method"] == "sampled").all() and (channels["shapley_method"] == "exact").all()
    assert abs(campaigns["shapley_conversions"].sum() - incremental) < 1e-9 * incremental
    assert (campaigns["shapley_conversions_se"] > 0).any()
    # Removal effects stay exact (v(all) - v(all without p)) and within [0, total] (monotone game).
    assert ((campaigns["removal_conversions"] >= 0) & (campaigns["removal_conversions"] <= incremental)).all()
