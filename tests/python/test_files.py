"""Result files: out=, save(), adsim.load, and readability with h5py alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import adsim


def _assert_same(a: adsim.Result, b: adsim.Result) -> None:
    assert a.tables == b.tables
    for name in a.tables:
        pd.testing.assert_frame_equal(a.table(name), b.table(name), check_exact=True, obj=name)
    assert a.attrs == b.attrs


def test_out_then_load_round_trip(small, tmp_path):
    out = tmp_path / "run.h5"
    r = adsim.run(small, out=out)
    assert out.exists() and r.path == str(out)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # the temporary file was renamed
    loaded = adsim.load(out)
    _assert_same(r, loaded)
    assert loaded.summary() == r.summary()
    pd.testing.assert_frame_equal(loaded.kpis(), r.kpis())


def test_save_of_loaded_result_is_identical(small_result, tmp_path):
    first = small_result.save(tmp_path / "a.h5")
    again = adsim.load(first).save(tmp_path / "b.h5")
    _assert_same(adsim.load(first), adsim.load(again))
    assert adsim.load(again).fingerprint == small_result.fingerprint


def test_out_to_missing_folder_is_io_error(small, tmp_path):
    with pytest.raises(adsim.IoError, match="no_such_dir"):
        adsim.run(small, out=tmp_path / "no_such_dir" / "x.h5")


_H5PY_ONLY = r"""
import json, sys
import h5py
assert "adsim" not in sys.modules
path = sys.argv[1]
with h5py.File(path, "r") as f:
    attrs = dict(f.attrs)
    report = {
        "schema_version": int(attrs["schema_version"]),
        "seed": attrs["seed"].decode(),
        "tables": sorted(f.keys()),
        "agg_columns": f["aggregates"].attrs["columns"].decode().split(","),
        "agg_datasets": sorted(f["aggregates"].keys()),
        "spend_sum": float(f["aggregates/spend"][()].sum()),
        "spend_unit": f["aggregates/spend"].attrs["unit"].decode(),
        "name_dtype": f["campaigns/name"].dtype.str,
        "names": [b.decode() for b in f["campaigns/name"][()]],
        "bucket_dtype": f["aggregates/bucket_start"].dtype.str,
    }
print(json.dumps(report))
assert "adsim" not in sys.modules
"""


def test_file_readable_with_h5py_only(small_result, tmp_path):
    path = small_result.save(tmp_path / "plain.h5")
    # A separate interpreter with nothing but h5py: the system Python when it
    # exists (it cannot see adsim installed in a virtual environment), run in
    # isolated mode (-I: no user site, no PYTHONPATH, no current directory).
    exe = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    proc = subprocess.run([exe, "-I", "-c", _H5PY_ONLY, path], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert rep["schema_version"] == 3
    assert rep["seed"] == str(small_result.seed)
    assert {"aggregates", "market", "actions", "conversions", "daily", "campaigns", "channels", "segments",
            "creatives", "truth_rates", "truth_shocks"} <= set(rep["tables"])
    assert sorted(rep["agg_columns"]) == rep["agg_datasets"]
    assert rep["agg_columns"][:5] == ["bucket_start", "campaign", "channel", "segment", "creative"]
    assert rep["spend_sum"] == pytest.approx(small_result.aggregates["spend"].sum())
    assert rep["spend_unit"] == "currency"
    assert rep["name_dtype"].startswith("|S")  # fixed-length bytes
    assert rep["names"] == ["alpha", "beta"]
    assert rep["bucket_dtype"] == "<i8"


def test_load_rejects_non_hdf5(tmp_path):
    bogus = tmp_path / "notes.h5"
    bogus.write_text("not hdf5 at all\n")
    with pytest.raises(adsim.DataError) as info:
        adsim.load(bogus)
    assert str(bogus) in str(info.value)


def test_load_rejects_foreign_hdf5(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(adsim.DataError, match="no schema_version") as info:
        adsim.load(other)
    assert str(other) in str(info.value)


def test_load_rejects_newer_schema(small_result, tmp_path):
    path = small_result.save(tmp_path / "future.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["schema_version"] = np.int64(99)
    with pytest.raises(adsim.DataError, match="schema version 99"):
        adsim.load(path)


def test_load_missing_file_is_io_error(tmp_path):
    with pytest.raises(adsim.IoError, match="missing.h5"):
        adsim.load(tmp_path / "missing.h5")


def test_loader_module_does_not_need_the_compiled_module():
    # adsim.load is pure Python: _io.py and _result.py import numpy, pandas and
    # h5py at module level, never the compiled _adsim (only save() and
    # summary() use it, lazily).
    import ast

    import adsim._io as io_mod
    import adsim._result as result_mod

    for mod in (io_mod, result_mod):
        tree = ast.parse(Path(mod.__file__).read_text())
        top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        names = [a.name for n in top for a in n.names] + [getattr(n, "module", "") or "" for n in top]
        assert not any("_adsim" in n for n in names), (mod.__name__, names)
