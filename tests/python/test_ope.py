"""Off-policy evaluation (adsim.ope, `adsim ope`): the Open Bandit Dataset's published IPW and SNIPW
values reproduced exactly, every estimator on synthetic logs with a known answer (tolerances from
the standard error, fixed seeds), the bootstrap interval and ESS, the per-position variant, the
command line's JSON keys, and bad input (line numbers, exit codes)."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path
from typing import Tuple

import numpy as np
import pandas as pd
import pytest

import adsim

from conftest import REPO

OBD = REPO / "tests" / "data" / "obd"
KEYS = ["estimator", "value", "ci_low", "ci_high", "ess"]


def _cli(adsim_cli: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([adsim_cli, "ope", *args], capture_output=True, text=True, timeout=300)


# The values printed in the Open Bandit Dataset sample's README (tests/data/obd/README.md): the
# uniform random policy (1/n_items per item and slot) evaluated on the bts logs.
@pytest.mark.parametrize("campaign, ipw, snipw", [("men", 0.00300863, 0.00318942),
                                                  ("women", 0.00743758, 0.00237305)])
def test_uniform_on_bts_reproduces_the_published_ipw_and_snipw_exactly(campaign: str, ipw: float,
                                                                       snipw: float) -> None:
    table = adsim.ope(OBD / "bts" / campaign / f"{campaign}.csv.gz", "uniform", ["ipw", "snipw"], bootstrap=0)
    values = dict(zip(table.estimator, table.value))
    assert round(values["ipw"], 8) == ipw
    assert round(values["snipw"], 8) == snipw


def _synthetic(seed: int, rows: int, context_effect: float) -> Tuple[pd.DataFrame, float]:
    """A slotted log with a known answer.

    Context x in {0, 1} (P = 1/2), K = 4 actions, 2 positions (P = 1/2). Logging policy
    pi_b(a | x) = softmax(logits_x), target pi_e(a | x) = softmax(-logits_x) (they disagree,
    weights up to ~20). Click probability mu(x, p, a) = base[a] * (1 if p == 1 else 0.6)
    * (1 + context_effect * (2x - 1)). Truth: V = sum_x sum_p 1/4 sum_a pi_e(a|x) mu(x, p, a).
    """
    generator = np.random.Generator(np.random.PCG64(seed))
    logits = np.array([[2.0, 1.0, 0.0, -1.0], [-1.0, 0.5, 1.0, 0.0]])
    behaviour = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    target = np.exp(-logits) / np.exp(-logits).sum(axis=1, keepdims=True)
    base = np.array([0.05, 0.10, 0.20, 0.30])
    position_factor = np.array([1.0, 0.6])

    def mu(x: np.ndarray, p: np.ndarray, a: np.ndarray) -> np.ndarray:
        return base[a] * position_factor[p - 1] * (1 + context_effect * (2 * x - 1))

    x = generator.integers(0, 2, rows)
    p = generator.integers(1, 3, rows)
    cumulative = behaviour.cumsum(axis=1)[x]
    a = (generator.random(rows)[:, None] > cumulative).sum(axis=1)
    click = (generator.random(rows) < mu(x, p, a)).astype(int)
    truth = 0.0
    for context in (0, 1):
        for position in (1, 2):
            actions = np.arange(4)
            truth += 0.25 * float(np.sum(target[context] * mu(np.full(4, context), np.full(4, position), actions)))
    frame = pd.DataFrame({"x": x, "item_id": a, "position": p, "click": click,
                          "propensity_score": behaviour[x, a]})
    return frame, truth


def _target_policy(frame: pd.DataFrame, n_actions: int) -> np.ndarray:
    """pi_e of _synthetic, from the row's context column x."""
    logits = np.array([[2.0, 1.0, 0.0, -1.0], [-1.0, 0.5, 1.0, 0.0]])
    target = np.exp(-logits) / np.exp(-logits).sum(axis=1, keepdims=True)
    return target[frame["x"].to_numpy(dtype=int)]


def _standard_errors(frame: pd.DataFrame) -> dict:
    """Plug-in standard errors of IPW (sd(w r)/sqrt(n)) and SNIPW (delta method: sd(w (r - V)) / (mean(w) sqrt(n)))."""
    w = _target_policy(frame, 4)[np.arange(len(frame)), frame["item_id"]] / frame["propensity_score"]
    r = frame["click"].to_numpy(dtype=float)
    n = len(frame)
    snipw = np.sum(w * r) / np.sum(w)
    return {"ipw": float(np.std(w * r) / np.sqrt(n)),
            "snipw": float(np.std(w * (r - snipw)) / (np.mean(w) * np.sqrt(n)))}


def test_every_estimator_recovers_a_known_value_within_four_standard_errors() -> None:
    # mu depends on (position, action) only: the reward model is well specified, so every estimator
    # is consistent. Tolerance: 4 x the estimator's own standard error, estimated by the bootstrap
    # ((ci_high - ci_low) / (2 * 1.96)), which the next test checks against the plug-in formulas.
    frame, truth = _synthetic(seed=7, rows=40000, context_effect=0.0)
    table = adsim.ope(frame, _target_policy, n_actions=4, bootstrap=200, seed=3).set_index("estimator")
    for estimator, row in table.iterrows():
        standard_error = (row.ci_high - row.ci_low) / (2 * 1.96)
        assert abs(row.value - truth) < 4 * standard_error, (estimator, row.value, truth, standard_error)
        assert row.ci_low <= row.value <= row.ci_high


def test_bootstrap_interval_matches_the_plug_in_standard_error() -> None:
    # With B = 200 resamples the bootstrap SE has a relative error of about 1/sqrt(2B) = 5%: the
    # interval's half-width over 1.96 x the plug-in SE must be within 1 +- 4 x 5%.
    frame, _ = _synthetic(seed=11, rows=40000, context_effect=0.0)
    table = adsim.ope(frame, _target_policy, ["ipw", "snipw"], n_actions=4, bootstrap=200, seed=5)
    plug_in = _standard_errors(frame)
    for row in table.itertuples():
        ratio = (row.ci_high - row.ci_low) / (2 * 1.96 * plug_in[row.estimator])
        assert 0.8 < ratio < 1.2, (row.estimator, ratio)


def test_doubly_robust_corrects_a_misspecified_reward_model() -> None:
    # mu now depends on the context, which the (position, action) reward model ignores, and the
    # target policy favours the actions logged less often in each context: DM is biased (its bias,
    # computed from the model's limit below, is many standard errors), DR stays within 4 SE.
    frame, truth = _synthetic(seed=13, rows=40000, context_effect=0.8)
    table = adsim.ope(frame, _target_policy, ["dm", "dr"], n_actions=4, bootstrap=200, seed=1).set_index("estimator")
    se = {name: (table.ci_high[name] - table.ci_low[name]) / (2 * 1.96) for name in table.index}
    assert abs(table.value["dr"] - truth) < 4 * se["dr"]
    assert abs(table.value["dm"] - truth) > 4 * se["dm"]


def test_uniform_on_uniform_log_has_unit_weights_and_per_position_means() -> None:
    # Logging uniform over K = 4 and evaluating uniform: every weight is 1, so ESS = n for the weighted
    # estimators, IPW = SNIPW = the mean click, and per position the mean click of that position.
    generator = np.random.Generator(np.random.PCG64(21))
    rows = 5000
    frame = pd.DataFrame({"item_id": generator.integers(0, 4, rows), "position": generator.integers(1, 4, rows),
                          "click": (generator.random(rows) < 0.1).astype(int), "propensity_score": 0.25})
    pooled = adsim.ope(frame, "uniform", ["ipw", "snipw", "dr"], n_actions=4, bootstrap=0).set_index("estimator")
    assert pooled.ess.tolist() == [rows, rows, rows]
    assert pooled.value["ipw"] == pytest.approx(frame.click.mean(), rel=1e-12)
    assert pooled.value["snipw"] == pytest.approx(frame.click.mean(), rel=1e-12)
    per_position = adsim.ope(frame, "uniform", ["ipw"], n_actions=4, by_position=True, bootstrap=0)
    expected = frame.groupby("position").click.mean()
    assert per_position.position.tolist() == [1, 2, 3]
    assert per_position.value.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)
    assert per_position.ess.tolist() == frame.groupby("position").size().tolist()


def test_replay_on_a_uniform_log_keeps_exactly_the_matching_rows() -> None:
    # Uniform logging, deterministic target (always action 2): every weight is K or 0, so rejection
    # sampling accepts exactly the rows whose logged action is 2 (Li et al.'s replay), whatever the seed.
    generator = np.random.Generator(np.random.PCG64(4))
    rows = 3000
    frame = pd.DataFrame({"item_id": generator.integers(0, 4, rows), "click": generator.integers(0, 2, rows),
                          "propensity_score": 0.25})

    def always_two(log: pd.DataFrame, n_actions: int) -> np.ndarray:
        matrix = np.zeros((len(log), n_actions))
        matrix[:, 2] = 1.0
        return matrix

    for seed in (0, 1):
        row = adsim.ope(frame, always_two, ["replay"], n_actions=4, bootstrap=0, seed=seed).iloc[0]
        matched = frame[frame.item_id == 2]
        assert row.value == pytest.approx(matched.click.mean(), rel=1e-12)
        assert row.ess == len(matched)


def test_bootstrap_is_seeded() -> None:
    frame, _ = _synthetic(seed=2, rows=2000, context_effect=0.0)
    first = adsim.ope(frame, _target_policy, n_actions=4, bootstrap=50, seed=9)
    again = adsim.ope(frame, _target_policy, n_actions=4, bootstrap=50, seed=9)
    other = adsim.ope(frame, _target_policy, n_actions=4, bootstrap=50, seed=10)
    pd.testing.assert_frame_equal(first, again)
    assert not first.ci_low.equals(other.ci_low)
    # The point estimates do not depend on the seed, except replay's acceptance draws.
    keep = first.estimator != "replay"
    assert first.value[keep].equals(other.value[keep])


def test_creative_even_is_the_uniform_policy() -> None:
    # creative_even keeps every rotation weight at 1: each action has probability 1/K in every cycle, so
    # every estimator gives the uniform policy's value (same weights, same replay draws).
    log = OBD / "random" / "men" / "men.csv.gz"
    even = adsim.ope(log, "creative_even", bootstrap=20, seed=4)
    uniform = adsim.ope(log, "uniform", bootstrap=20, seed=4)
    pd.testing.assert_frame_equal(even, uniform, rtol=1e-12)


def _two_armed_log(rows: int, seed: int) -> pd.DataFrame:
    """Uniform logging over K = 3 actions; click rates 0.02, 0.02, 0.10."""
    generator = np.random.Generator(np.random.PCG64(seed))
    action = generator.integers(0, 3, rows)
    click = (generator.random(rows) < np.array([0.02, 0.02, 0.10])[action]).astype(int)
    return pd.DataFrame({"item_id": action, "click": click, "propensity_score": 1 / 3})


def test_creative_thompson_learns_from_past_cycles_only() -> None:
    from adsim._ope import _creative_matrix, read_bandit_log

    frame = _two_armed_log(6000, seed=8)
    log = read_bandit_log(frame, n_actions=3)
    matrix = _creative_matrix("creative_thompson", log, {"half_life_hours": 0}, 500, 0)
    # Cycle 0 (rows 0-499) is decided before any evidence: the initial even rotation.
    assert np.allclose(matrix[:500], 1 / 3)
    # After 5,500 rows (about 1,800 per action), P(action 2 is best) is ~1: a 0.10 against 0.02 click
    # rate is some 12 standard errors apart (sqrt(0.1 * 0.9 / 1800) = 0.007).
    assert matrix[-1, 2] > 0.99
    # Causality: changing the clicks of the last cycle leaves every earlier row's probabilities as they were.
    changed = frame.copy()
    changed.loc[5500:, "click"] = 1 - changed.loc[5500:, "click"]
    again = _creative_matrix("creative_thompson", read_bandit_log(changed, n_actions=3), {"half_life_hours": 0},
                             500, 0)
    assert np.array_equal(again[:5500], matrix[:5500])
    # Its draws come from the seed: another seed moves the shares (slightly), the same one does not.
    assert np.array_equal(_creative_matrix("creative_thompson", log, {"half_life_hours": 0}, 500, 0), matrix)
    assert not np.array_equal(_creative_matrix("creative_thompson", log, {"half_life_hours": 0}, 500, 1), matrix)


def test_creative_strategy_parameters_are_checked(capsys: pytest.CaptureFixture) -> None:
    log = str(OBD / "random" / "men" / "men.csv.gz")
    with pytest.raises(adsim.ConfigError, match="epsilon"):
        adsim.ope(log, "creative_epsilon_greedy", policy_params={"epsilon": 2.0})
    from adsim.__main__ import main

    assert main(["ope", log, "--policy", "creative_epsilon_greedy", "--policy-params", "epsilon=0.2",
                 "--estimators", "ipw,snipw", "--bootstrap", "0", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["estimator"] for row in rows] == ["ipw", "snipw"]
    # epsilon = 1 spreads everything evenly in every cycle: the uniform policy's IPW, the log's mean click.
    assert main(["ope", log, "--policy", "creative_epsilon_greedy", "--policy-params", "epsilon=1",
                 "--estimators", "ipw", "--bootstrap", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["value"] == pytest.approx(0.0046, rel=1e-12)


def test_cli_json_has_exactly_the_documented_keys(adsim_cli: str) -> None:
    out = _cli(adsim_cli, str(OBD / "bts" / "men" / "men.csv.gz"), "--policy", "uniform",
               "--estimators", "ipw,snipw,dm,dr", "--bootstrap", "20", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [row["estimator"] for row in rows] == ["ipw", "snipw", "dm", "dr"]
    for row in rows:
        assert list(row) == KEYS
    assert round(rows[0]["value"], 8) == 0.00300863
    assert rows[0]["ci_low"] < rows[0]["value"] < rows[0]["ci_high"]


def test_cli_python_function_policy_and_column_mapping(adsim_cli: str, tmp_path: Path) -> None:
    frame, _ = _synthetic(seed=5, rows=3000, context_effect=0.0)
    renamed = frame.rename(columns={"item_id": "creative", "click": "clicked", "propensity_score": "p"})
    renamed.drop(columns="position").to_csv(tmp_path / "log.csv", index=False)
    (tmp_path / "policy.py").write_text(
        "import numpy as np\n"
        "def target(frame, n_actions):\n"
        "    logits = np.array([[2.0, 1.0, 0.0, -1.0], [-1.0, 0.5, 1.0, 0.0]])\n"
        "    t = np.exp(-logits) / np.exp(-logits).sum(axis=1, keepdims=True)\n"
        "    return t[frame['x'].astype(int).to_numpy()]\n")
    out = _cli(adsim_cli, str(tmp_path / "log.csv"), "--policy", f"{tmp_path / 'policy.py'}:target",
               "--columns", "action=creative,reward=clicked,propensity=p", "--estimators", "ipw", "--bootstrap", "0",
               "--json")
    assert out.returncode == 0, out.stderr
    # Same rows through Python (position dropped: an unslotted log).
    expected = adsim.ope(frame.drop(columns="position"), _target_policy, ["ipw"], n_actions=4, bootstrap=0)
    assert json.loads(out.stdout)[0]["value"] == pytest.approx(expected.value[0], rel=1e-12)


def test_bad_rows_are_reported_with_line_numbers_and_counts(adsim_cli: str, tmp_path: Path) -> None:
    with gzip.open(OBD / "bts" / "men" / "men.csv.gz", "rt") as source:
        lines = source.read().splitlines()[:20]
    # Line 3 (second data row): propensity 0; line 6: a click that is not a number; line 9: item -1.
    header = lines[0].split(",")
    def spoil(line_number: int, column: str, value: str) -> None:
        cells = lines[line_number - 1].split(",")
        cells[header.index(column)] = value
        lines[line_number - 1] = ",".join(cells)
    spoil(3, "propensity_score", "0")
    spoil(6, "click", "yes")
    spoil(9, "item_id", "-1")
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(adsim.DataError) as error:
        adsim.ope(path, "uniform", n_actions=34)
    message = str(error.value)
    assert "3 bad values" in message
    assert f"{path}:3: propensity_score: expected a probability in (0, 1], found '0'" in message
    assert f"{path}:6: click: expected a number, found 'yes'" in message
    assert f"{path}:9: item_id: expected an integer action code >= 0, found '-1'" in message
    assert ("per kind: click: a number (1); item_id: an integer action code >= 0 (1); "
            "propensity_score: a probability in (0, 1] (1)") in message
    out = _cli(adsim_cli, str(path), "--policy", "uniform")
    assert out.returncode == 3 and f"{path}:6: click" in out.stderr
    # A row with an extra field: the parser names its line; a missing field is an empty value.
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("item_id,click,propensity_score\n1,0,0.5\n2,1\n3,0,0.5,9\n")
    with pytest.raises(adsim.DataError, match="Expected 3 fields in line 4, saw 4"):
        adsim.ope(ragged, "uniform")
    ragged.write_text("item_id,click,propensity_score\n1,0,0.5\n2,1\n")
    with pytest.raises(adsim.DataError, match=r"ragged.csv:3: propensity_score: expected a probability in \(0, 1\], "
                                              r"found ''"):
        adsim.ope(ragged, "uniform")


def test_bad_usage_is_a_clear_error(adsim_cli: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from adsim.__main__ import main

    log = str(OBD / "bts" / "men" / "men.csv.gz")
    # Through the real command line once per exit code; the other cases in-process (same main()).
    missing = _cli(adsim_cli, str(tmp_path / "nope.csv"), "--policy", "uniform")
    assert missing.returncode == 3 and "nope.csv: the log does not exist" in missing.stderr
    unknown = _cli(adsim_cli, log, "--policy", "greedy_thing")
    assert unknown.returncode == 2 and "expected 'uniform', module.py:function" in unknown.stderr
    assert "creative_thompson" in unknown.stderr
    (tmp_path / "wrong.py").write_text("def f(frame, n):\n    return [[1.0]] * len(frame)\n")
    for args, expected in [
        (["--estimators", "ipw,magic"], "found 'magic'"),
        (["--columns", "reward=revenue"], "reward ('revenue')"),
        (["--columns", "reward"], "--columns: expected role=column pairs"),
        (["--policy", f"{tmp_path / 'wrong.py'}:f"],
         "expected action probabilities of shape (rows, n_actions) = (10000, 34)"),
        (["--policy", f"{tmp_path / 'wrong.py'}:g"], "expected a function 'g'"),
        (["--policy", "creative_epsilon_greedy", "--policy-params", "epsilon=lots"],
         "--policy-params: expected name=number"),
        (["--bootstrap", "-1"], "bootstrap: expected a number of resamples >= 0"),
    ]:
        argv = ["ope", log, "--policy", "uniform", *args]
        assert main(argv) == 2, argv
        assert expected in capsys.readouterr().err, argv
