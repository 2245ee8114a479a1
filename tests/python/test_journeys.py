"""Journeys from Python and the command line (docs/journeys.md): the journey
tables of a run of docs/examples/journeys.yaml, the paths built from them
(independently recomputed here from the tables), result.attribute against
`adsim attribute RUN.h5` (the same C++ models), Markov's conservation of the
paths' conversions, and the errors for a run without journeys."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Dict, Tuple

import pytest

import adsim

from conftest import REPO

SCENARIO = REPO / "docs" / "examples" / "journeys.yaml"
MODELS = "first_touch,last_touch,linear,markov1"


@pytest.fixture(scope="module")
def journey_run(tmp_path_factory: pytest.TempPathFactory) -> Tuple[adsim.Result, Path]:
    out = tmp_path_factory.mktemp("journeys") / "run.h5"
    return adsim.run(str(SCENARIO), seed=7, out=str(out)), out


def test_tables_are_consistent(journey_run: Tuple[adsim.Result, Path]) -> None:
    result, _ = journey_run
    conversions = result.journey_conversions
    assert conversions is not None and len(conversions) > 100
    organic = conversions["organic"] == 1
    assert result.attrs["journey_organic_conversions"] == organic.sum()
    assert result.attrs["journey_incremental_conversions"] == (~organic).sum()
    assert organic.sum() > 0 and (~organic).sum() > 0
    # Organic rows have no cause; incremental rows have a cause touch before them on a lifted channel.
    assert (conversions.loc[organic, "cause_campaign"] == -1).all()
    incremental = conversions[~organic]
    assert (incremental["cause_time"] <= incremental["time"]).all()
    assert set(incremental["cause_kind"]) <= {"view", "click"}
    # The platform credit: a campaign exactly when `through` is click or view; the conversions table has those rows.
    credited = conversions["through"] != "none"
    assert ((conversions["credited_campaign"] >= 0) == credited).all()
    assert len(result.conversions) == credited.sum()
    # A path's touch count is its number of ' > '-separated names.
    counts = conversions["path"].map(lambda p: 0 if p == "" else p.count(" > ") + 1)
    assert (counts == conversions["touches"]).all()
    assert (conversions["time"].diff().dropna() >= 0).all()


def test_path_data_recomputed_from_the_tables(journey_run: Tuple[adsim.Result, Path]) -> None:
    result, _ = journey_run
    paths = result.journey_path_data()
    expected: Dict[str, list] = {}
    for path, value in zip(result.journey_conversions["path"], result.journey_conversions["value"]):
        if path:
            entry = expected.setdefault(path, [0.0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += value
    for path, users in zip(result.journey_paths["path"], result.journey_paths["users"]):
        expected.setdefault(path, [0.0, 0.0, 0.0])[2] += users
    assert len(paths) == len(expected)
    for row in paths.itertuples():
        conversions, value, nulls = expected[row.path]
        assert row.total_conversions == conversions and row.total_null == nulls
        assert math.isclose(row.total_conversion_value, value, rel_tol=1e-12)


def test_attribute_python_and_cli_agree_and_markov_conserves(
    journey_run: Tuple[adsim.Result, Path], adsim_cli: str
) -> None:
    result, path = journey_run
    credit = result.attribute(models=MODELS.split(","))
    total = result.journey_path_data()["total_conversions"].sum()
    for model, group in credit.groupby("model"):
        # Every model hands out exactly the paths' conversions (Markov: conserved by the removal-effect scaling).
        assert math.isclose(group["conversions"].sum(), total, rel_tol=1e-9), model
    assert set(credit["channel"]) <= {"search", "display", "social"}
    out = subprocess.run(
        [adsim_cli, "attribute", str(path), "--model", MODELS, "--json"], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    rows = {(r["model"], r["channel"]): r for r in json.loads(out.stdout)}
    assert len(rows) == len(credit)
    for row in credit.itertuples():
        assert math.isclose(rows[(row.model, row.channel)]["conversions"], row.conversions, rel_tol=1e-12, abs_tol=1e-9)


def test_a_run_without_journeys_is_refused(tmp_path: Path, adsim_cli: str) -> None:
    plain = adsim.run(seed=1, out=str(tmp_path / "plain.h5"))
    assert plain.journey_conversions is None
    with pytest.raises(adsim.DataError, match="journey_conversions"):
        plain.attribute()
    out = subprocess.run([adsim_cli, "attribute", str(tmp_path / "plain.h5")], capture_output=True, text=True)
    assert out.returncode == 3
    assert "plain.h5" in out.stderr and "journeys" in out.stderr
