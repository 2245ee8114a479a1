"""The run catalogue (python/adsim/_catalog.py, `adsim catalog`): real result files, a real SQLite file.

Runs are written to HDF5 by the engine, catalogued, found again by tag and
text, compared, and every bad input (not an adsim file, a missing file, a
corrupt, foreign or locked catalogue, an unknown id) is checked for its
error and for leaving the catalogue as it was.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys

import pytest

import adsim
from adsim._catalog import KPI_COLUMNS, RUN_COLUMNS, Catalog, default_path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two real result files of the small scenario: PID pacing on beta (seed 7) and fixed bids (seed 7)."""
    from conftest import small_scenario

    folder = tmp_path_factory.mktemp("runs")
    paced = adsim.run(small_scenario(), seed=7, out=folder / "paced.h5")
    fixed_scenario = small_scenario()
    fixed_scenario["campaigns"][1].pop("controllers")
    fixed = adsim.run(fixed_scenario, seed=7, out=folder / "fixed.h5")
    return {"paced": (str(folder / "paced.h5"), paced), "fixed": (str(folder / "fixed.h5"), fixed)}


def test_a_row_holds_what_ran_and_what_came_out(runs, tmp_path):
    db = tmp_path / "catalog.sqlite"
    path, result = runs["paced"]
    run_id = Catalog(db).add(path, tags=["pacing", "small"], note="beta paced by PID")
    frame = adsim.catalog(db)
    assert list(frame.columns) == list(RUN_COLUMNS) and len(frame) == 1
    row = frame.iloc[0]
    assert row["id"] == run_id == 1
    kpis = result.kpis()
    # Headline KPIs are the run's totals: CPA = spend / conversions, ROAS = value / spend.
    assert row["spend"] == pytest.approx(kpis["spend"].sum(), rel=1e-12)
    assert row["conversions"] == kpis["conversions"].sum()
    assert row["value"] == pytest.approx(kpis["value"].sum(), rel=1e-12)
    assert row["cpa"] == pytest.approx(kpis["spend"].sum() / kpis["conversions"].sum(), rel=1e-12)
    assert row["roas"] == pytest.approx(kpis["value"].sum() / kpis["spend"].sum(), rel=1e-12)
    assert math.isnan(row["regret_value"])  # no oracle in this run
    assert (row["seed"], row["fingerprint"], row["scenario_name"]) == ("7", result.fingerprint, "small")
    assert (row["bidders"], row["controllers"], row["monitors"]) == ("fixed", "pid_pacing", "")
    assert row["tags"] == "pacing,small" and row["note"] == "beta paced by PID"
    assert row["path"] == os.path.abspath(path)
    assert row["adsim_version"] == adsim.__version__


def test_same_scenario_same_scenario_fingerprint_whatever_the_seed(tmp_path):
    from conftest import small_scenario

    catalog = Catalog(tmp_path / "c.sqlite")
    for seed in (1, 2):
        adsim.run(small_scenario(), seed=seed, out=tmp_path / f"s{seed}.h5")
        catalog.add(tmp_path / f"s{seed}.h5")
    frame = catalog.runs()
    assert frame["scenario_fingerprint"].nunique() == 1 and frame["fingerprint"].nunique() == 2


def test_find_by_tags_and_text_and_compare(runs, tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    paced = catalog.add(runs["paced"][0], tags=["pacing", "march"], note="reallocation beat even split")
    fixed = catalog.add(runs["fixed"][0], tags="baseline,march")
    assert list(catalog.runs(tags=["march"])["id"]) == [paced, fixed]
    assert list(catalog.runs(tags=["march", "pacing"])["id"]) == [paced]  # every tag must match
    assert list(adsim.catalog(catalog.path, tag="baseline")["id"]) == [fixed]
    assert list(catalog.runs(text="REALLOCATION")["id"]) == [paced]  # case-insensitive, in the note
    assert list(catalog.runs(text="pid_pacing")["id"]) == [paced]  # in the strategies
    assert list(catalog.runs(text="basel")["id"]) == [fixed]  # in the tags
    assert catalog.runs(tags=["nope"]).empty
    compared = catalog.compare(paced, fixed)
    assert list(compared.index) == list(KPI_COLUMNS)
    a, b = runs["paced"][1].kpis(), runs["fixed"][1].kpis()
    assert compared.loc["spend", "difference"] == pytest.approx(b["spend"].sum() - a["spend"].sum(), abs=1e-9)
    assert compared.loc["spend", "ratio"] == pytest.approx(b["spend"].sum() / a["spend"].sum(), rel=1e-12)
    assert compared.loc["conversions", f"run {paced}"] == a["conversions"].sum()


def test_adding_again_refreshes_keeps_the_id_and_merges_tags(runs, tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    first = catalog.add(runs["paced"][0], tags=["a"], note="one")
    again = catalog.add(runs["paced"][0], tags=["b"])
    assert first == again
    row = catalog.get(first)
    assert row["tags"] == "a,b" and row["note"] == "one"  # no --note: the note stays
    catalog.add(runs["paced"][0], note="two")
    assert catalog.get(first)["note"] == "two" and len(catalog.runs()) == 1
    catalog.tag(first, ["a"], remove=True)
    assert catalog.get(first)["tags"] == "b"
    catalog.remove(first)
    assert catalog.runs().empty
    assert os.path.exists(runs["paced"][0])  # removing from the catalogue keeps the file


def test_regret_is_stored_for_runs_with_an_oracle(tmp_path):
    from conftest import small_scenario

    scenario = small_scenario()
    scenario["duration"] = "1d"
    scenario["oracle"] = True
    result = adsim.run(scenario, out=tmp_path / "oracle.h5")
    catalog = Catalog(tmp_path / "c.sqlite")
    row = catalog.get(catalog.add(tmp_path / "oracle.h5"))
    assert row["regret_conversions"] == pytest.approx(result.table("oracle")["regret_conversions"].sum(), rel=1e-12)
    assert row["regret_value"] == pytest.approx(result.table("oracle")["regret_value"].sum(), rel=1e-12)


# ---- bad input ---------------------------------------------------------------


def test_not_an_adsim_file_and_a_missing_file(tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    (tmp_path / "notes.h5").write_text("not hdf5")
    with pytest.raises(adsim.DataError, match="notes.h5"):
        catalog.add(tmp_path / "notes.h5")
    with pytest.raises(adsim.IoError, match="missing.h5"):
        catalog.add(tmp_path / "missing.h5")
    assert not catalog.path.exists()  # nothing was catalogued, no file was made


def test_a_corrupt_or_foreign_catalogue_is_named(runs, tmp_path):
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(adsim.DataError, match="corrupt.sqlite"):
        Catalog(corrupt).add(runs["paced"][0])
    with pytest.raises(adsim.DataError, match="not a valid SQLite file"):
        adsim.catalog(corrupt)
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE people (name TEXT)")
    with pytest.raises(adsim.DataError, match="not an adsim run catalogue.*people"):
        adsim.catalog(foreign)


def test_a_locked_catalogue_is_an_io_error_and_changes_nothing(runs, tmp_path):
    db = tmp_path / "c.sqlite"
    Catalog(db).add(runs["paced"][0])
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing
    try:
        with pytest.raises(adsim.IoError, match=r"c.sqlite' is locked by another process"):
            Catalog(db, timeout=0.1).add(runs["fixed"][0])
    finally:
        holder.rollback()
        holder.close()
    assert list(adsim.catalog(db)["path"]) == [os.path.abspath(runs["paced"][0])]


def test_unknown_ids(runs, tmp_path):
    catalog = Catalog(tmp_path / "c.sqlite")
    catalog.add(runs["paced"][0])
    with pytest.raises(adsim.ConfigError, match=r"no run 5 in catalogue .*\(ids: 1\)"):
        catalog.get(5)
    with pytest.raises(adsim.ConfigError, match="expected a whole number, found 'x'"):
        catalog.compare(1, "x")
    assert adsim.catalog(tmp_path / "absent.sqlite").empty  # reading never creates a catalogue
    assert not (tmp_path / "absent.sqlite").exists()


def test_where_the_catalogue_is(monkeypatch, tmp_path):
    monkeypatch.delenv("ADSIM_CATALOG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "adsim" / "catalog.sqlite"
    monkeypatch.setenv("ADSIM_CATALOG", str(tmp_path / "team.sqlite"))
    assert Catalog().path == tmp_path / "team.sqlite"
    assert Catalog(tmp_path / "mine.sqlite").path == tmp_path / "mine.sqlite"


# ---- the command line ----------------------------------------------------------


class _Done:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _cli(*arguments, db, capsys=None, command=None):
    """`adsim catalog --db DB ...`: through the C++ command line when `command` is given, else
    in this process (python -m adsim's main, the same code, without an interpreter start per call)."""
    if command is not None:
        return subprocess.run([*command, "catalog", "--db", str(db), *arguments], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "ADSIM_PYTHON": sys.executable})
    from adsim.__main__ import main

    capsys.readouterr()
    code = main(["catalog", "--db", str(db), *arguments])
    out = capsys.readouterr()
    return _Done(code, out.out, out.err)


def test_command_line_add_list_show_compare(runs, tmp_path, adsim_cli, capsys):
    db = tmp_path / "c.sqlite"
    done = _cli("add", runs["paced"][0], "--tag", "pacing", "--note", "PID on beta", db=db, command=[adsim_cli])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("run 1: ") and "tags: pacing" in done.stdout
    assert _cli("add", runs["fixed"][0], "--tag", "baseline,fixed", db=db, capsys=capsys).returncode == 0
    listed = json.loads(_cli("list", "--json", "--tag", "fixed", db=db, capsys=capsys).stdout)
    assert [r["id"] for r in listed] == [2] and listed[0]["regret_value"] is None
    text = _cli("list", db=db, capsys=capsys).stdout.splitlines()
    assert text[0].split()[:3] == ["id", "added", "scenario"] and len(text) == 3
    shown = json.loads(_cli("show", "1", "--json", db=db, capsys=capsys).stdout)
    assert shown["note"] == "PID on beta" and shown["controllers"] == "pid_pacing"
    compared = _cli("compare", "1", "2", db=db, capsys=capsys)
    assert compared.returncode == 0 and "same scenario" not in compared.stdout
    assert "spend" in compared.stdout and "difference" in compared.stdout
    as_json = json.loads(_cli("compare", "1", "2", "--json", db=db, capsys=capsys).stdout)
    assert as_json["spend"]["difference"] == pytest.approx(listed[0]["spend"] - shown["spend"], abs=1e-9)


def test_command_line_errors_and_exit_codes(runs, tmp_path, capsys):
    db = tmp_path / "c.sqlite"
    (tmp_path / "x.txt").write_text("hello")
    done = _cli("add", str(tmp_path / "x.txt"), db=db, capsys=capsys)
    assert done.returncode == 3 and "x.txt" in done.stderr and "Traceback" not in done.stderr
    done = _cli("show", "4", db=db, capsys=capsys)
    assert done.returncode == 2 and "no run 4" in done.stderr
    done = _cli("list", db=tmp_path / "x.txt", capsys=capsys)
    assert done.returncode == 3 and "x.txt" in done.stderr and "not a valid SQLite file" in done.stderr
    assert _cli("frobnicate", db=db, capsys=capsys).returncode == 2
