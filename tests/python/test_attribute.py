"""`adsim attribute` and adsim.attribute on the committed copy of the
ChannelAttribution data (tests/data/channel-attribution/): the JSON output's
exact keys, its agreement with the data's README table, Markov's conserved
totals, that Python and the command line agree (they run the same C++ code),
DataFrame input, and the errors and exit codes of bad input."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import adsim

from conftest import REPO

DATA = REPO / "tests" / "data" / "channel-attribution" / "paths.csv"
TOTAL_CONVERSIONS = 19785
# README of the data: channel -> (first touch, last touch, linear).
README_TABLE = {
    "alpha": (6308, 8447, 7574.7186),
    "iota": (4606, 3355, 3857.0962),
    "eta": (3164, 4167, 3539.9512),
    "beta": (2831, 989, 2083.5001),
    "theta": (1606, 653, 1022.8014),
    "lambda": (902, 1207, 1035.2576),
    "epsilon": (99, 531, 272.1704),
    "gamma": (165, 92, 121.0416),
    "kappa": (74, 230, 137.9641),
    "zeta": (27, 107, 136.5515),
    "mi": (2, 2, 2.2222),
    "delta": (1, 5, 1.7250),
}


def _cli(adsim_cli: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([adsim_cli, "attribute", *args], capture_output=True, text=True, timeout=300)


def test_cli_json_has_exactly_the_documented_keys_and_reproduces_the_readme(adsim_cli: str) -> None:
    out = _cli(adsim_cli, str(DATA), "--model", "first_touch,last_touch,linear,markov1", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert isinstance(rows, list) and len(rows) == 4 * 12
    for row in rows:
        assert list(row) == ["model", "channel", "conversions", "value"]
    credit = {(r["model"], r["channel"]): r for r in rows}
    for channel, expected in README_TABLE.items():
        for model, value in zip(("first_touch", "last_touch", "linear"), expected):
            assert abs(credit[(model, channel)]["conversions"] - value) <= 1e-4, (model, channel)
    markov = [r for r in rows if r["model"] == "markov1"]
    assert math.isclose(sum(r["conversions"] for r in markov), TOTAL_CONVERSIONS, rel_tol=1e-12)
    total_value = sum(r["value"] for r in rows if r["model"] == "first_touch")
    assert math.isclose(sum(r["value"] for r in markov), total_value, rel_tol=1e-12)
    assert abs(total_value - 74802.972) < 5e-4
    assert "10000 paths, 12 channels" in out.stderr


def test_python_and_cli_agree(adsim_cli: str) -> None:
    models = ["first_touch", "last_non_direct", "linear_unique", "time_decay", "position_based", "markov2", "shapley"]
    out = _cli(adsim_cli, str(DATA), "--model", ",".join(models), "--json")
    assert out.returncode == 0, out.stderr
    cli = pd.DataFrame(json.loads(out.stdout))
    frame = adsim.attribute(DATA, models=models)
    assert list(frame.columns) == list(adsim._attribute.ATTRIBUTE_COLUMNS)
    assert frame["model"].tolist() == cli["model"].tolist()
    assert frame["channel"].tolist() == cli["channel"].tolist()
    assert frame["conversions"].tolist() == cli["conversions"].tolist()  # same doubles, shortest round trip
    assert frame["value"].tolist() == cli["value"].tolist()
    assert frame.attrs["total_conversions"] == TOTAL_CONVERSIONS
    assert frame.attrs["notes"]["shapley"] == "exact over 12 channels"
    sums = frame.groupby("model")["conversions"].sum()
    for model in models:  # every model credits each conversion once
        assert math.isclose(sums[model], TOTAL_CONVERSIONS, rel_tol=1e-9), model


def test_dataframe_input_with_lists_and_sampled_shapley_errors() -> None:
    paths = pd.DataFrame(
        {
            "path": [["a", "b", "a"], "b > c", ["c"]],
            "conversions": [2, 1, 1],
            "value": [20.0, 5.0, 3.0],
            "null": [2, 3, 5],
        }
    )
    frame = adsim.attribute(paths, models="first_touch,linear")
    linear = frame[frame["model"] == "linear"].set_index("channel")["conversions"]
    # a > b > a (2 conversions): 2/3 per touch, a twice; b > c: 1/2 each; c: 1.
    assert linear.to_dict() == pytest.approx({"a": 4 / 3, "b": 2 / 3 + 0.5, "c": 1.5})
    sampled = adsim.attribute(paths, models=["shapley"], shapley_exact_max=0, shapley_samples=50, seed=3)
    assert (sampled["conversions_se"] > 0).any()
    assert sampled["conversions"].sum() == pytest.approx(4, rel=1e-12)
    assert "sampled: 50 permutations of 3 channels, seed 3" == sampled.attrs["notes"]["shapley"]


def test_bad_input_names_file_line_and_field(adsim_cli: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("path;total_conversions;total_conversion_value;total_null\na > b;1;2;0\nb;x;0;1\n")
    out = _cli(adsim_cli, str(bad), "--json")
    assert out.returncode == 3
    assert out.stdout == ""  # nothing half-written
    assert f"{bad}:3: total_conversions: expected a finite number >= 0, found 'x'" in out.stderr
    with pytest.raises(adsim.DataError, match=r"bad\.csv:3: total_conversions: expected a finite number"):
        adsim.attribute(bad)
    frame = pd.DataFrame({"path": ["a", "a >  > b"], "conversions": [1, 1]})
    with pytest.raises(adsim.DataError, match=r"<DataFrame>:3: path: expected channel names"):
        adsim.attribute(frame)
    with pytest.raises(adsim.ConfigError, match="no column 'total_conversions' or 'conversions'"):
        adsim.attribute(pd.DataFrame({"path": ["a"]}))
    out = _cli(adsim_cli, str(DATA), "--model", "linear,markov")
    assert out.returncode == 2
    assert "--model: expected one of first_touch" in out.stderr and "found 'markov'" in out.stderr
    with pytest.raises(adsim.ConfigError, match="unknown parameter 'half_life'"):
        adsim.attribute(DATA, models=["time_decay"], half_life=2)
    out = _cli(adsim_cli, str(tmp_path / "missing.csv"))
    assert out.returncode == 3 and "cannot open" in out.stderr


def test_list_names_every_model_and_parameter(adsim_cli: str) -> None:
    out = _cli(adsim_cli, "--list")
    assert out.returncode == 0, out.stderr
    listed = adsim.attribution_models()
    for name in listed["models"]:
        assert out.stdout.count(f"\n{name}: ") + out.stdout.startswith(f"{name}: ") == 1, name
    for name, default in listed["params"].items():
        assert f" {name}={default}" in out.stdout
