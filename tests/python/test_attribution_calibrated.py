"""The incrementality-calibrated attribution model `holdout_calibrated`
(docs/attribution.md, "Incrementality-calibrated attribution") on a real run of
bench/scenarios/journeys_base.yaml with every channel holding out a fifth of its
users: it conserves the holdouts' measured total, follows its prior, is scored
per channel only (from Python and from `adsim attribute --truth`), and a bad
prior is a ConfigError naming the parameter."""

from __future__ import annotations

import json
import subprocess
from typing import Any, Dict

import pytest
import yaml

import adsim

from conftest import REPO


def _scenario() -> Dict[str, Any]:
    """journeys_base (three channels, truth on) with a 20% user holdout on every channel."""
    with open(REPO / "bench" / "scenarios" / "journeys_base.yaml", encoding="utf-8") as handle:
        scenario = yaml.safe_load(handle)
    scenario["journeys"]["holdout"] = {channel["name"]: 0.2 for channel in scenario["channels"]}
    return scenario


@pytest.fixture(scope="module")
def result() -> adsim.Result:
    return adsim.run(_scenario(), seed=1)


def test_conserves_the_holdouts_total_and_follows_its_prior(result: adsim.Result) -> None:
    # By construction sum_c credit_c = sum_c h_c (the measured incremental total), whatever the prior.
    credit = result.attribute(["holdout", "holdout_calibrated"])
    totals = credit.groupby("model")[["conversions", "value"]].sum()
    for column in ("conversions", "value"):
        assert totals.loc["holdout_calibrated", column] == pytest.approx(totals.loc["holdout", column], rel=1e-9)
    assert credit.attrs["notes"]["holdout_calibrated"].startswith("prior first_touch")
    calibrated = credit[credit["model"] == "holdout_calibrated"].set_index("channel")
    assert (calibrated["conversions_se"] > 0).all()
    # Another prior moves the credit (markov2's shares differ from first touch's) but not the total.
    markov = result.attribute(["holdout_calibrated"], calibration_prior="markov2").set_index("channel")
    assert markov["conversions"].sum() == pytest.approx(totals.loc["holdout", "conversions"], rel=1e-9)
    assert (markov["conversions"] - calibrated["conversions"]).abs().max() > 1e-6
    with pytest.raises(adsim.ConfigError, match="calibration_prior: expected a path model"):
        result.attribute(["holdout_calibrated"], calibration_prior="holdout")


def test_the_data_driven_priors_conserve_the_total_and_name_their_weights(result: adsim.Result) -> None:
    # average: sum_m w_m credit(m), each credit(m) adding up to sum_c h_c, so the mixture does too;
    # best_fit: one candidate with weight 1. The note lists the conversions weights >= 0.005 (2 decimals).
    holdout = result.attribute(["holdout"])["conversions"].sum()
    for prior in ("average", "best_fit"):
        credit = result.attribute(["holdout_calibrated"], calibration_prior=prior)
        assert credit["conversions"].sum() == pytest.approx(holdout, rel=1e-9)
        note = credit.attrs["notes"]["holdout_calibrated"]
        assert note.startswith(f"prior {prior} (")
        weights = [float(part.rsplit(" ", 1)[1]) for part in note.split("(", 1)[1].split(")", 1)[0].split(", ")]
        # Up to 6 left-out weights below 0.005, and up to 7 roundings to 2 decimals of at most 0.005.
        assert 1 - 6 * 0.005 - 7 * 0.005 <= sum(weights) <= 1 + 7 * 0.005, note
        if prior == "best_fit":
            assert weights == [1.0], note


def test_scored_per_channel_only(result: adsim.Result) -> None:
    scores = result.attribution_accuracy(models=["first_touch", "holdout_calibrated"])
    calibrated = scores[scores["model"] == "holdout_calibrated"]
    assert calibrated["scope"].tolist() == ["channel"]
    for column in ("conversions_vs_removal", "conversions_vs_shapley", "value_vs_removal", "value_vs_shapley"):
        assert 0.0 <= float(calibrated[column].iloc[0]) <= 1.0
    assert sorted(scores[scores["model"] == "first_touch"]["scope"]) == ["campaign", "channel"]


def test_the_command_scores_it_per_channel_too(adsim_cli: str, tmp_path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(_scenario()), encoding="utf-8")
    subprocess.run([adsim_cli, "run", str(scenario), "-o", "run.h5", "--seed", "1", "--no-progress"],
                   check=True, capture_output=True)
    done = subprocess.run([adsim_cli, "attribute", "run.h5", "--truth", "--json", "--model",
                           "first_touch,holdout,holdout_calibrated"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    scopes = {(row["model"], row["scope"]) for row in rows}
    assert ("holdout_calibrated", "channel") in scopes and ("holdout", "channel") in scopes
    assert ("holdout_calibrated", "campaign") not in scopes and ("first_touch", "campaign") in scopes
    # The same score as from Python (the same run: same scenario and seed).
    python = adsim.run(_scenario(), seed=1).attribution_accuracy(models=["holdout_calibrated"])
    expected = float(python[python["model"] == "holdout_calibrated"]["conversions_vs_shapley"].iloc[0])
    row = next(r for r in rows if r["model"] == "holdout_calibrated")
    assert row["conversions_vs_shapley"] == pytest.approx(expected, abs=1e-12)
