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
    assert rep["schema_version"] == 4
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


# ---- safeguards: the output checked up front, killed runs, full disk, big scenarios, damage ----


def test_unwritable_out_fails_before_the_run(small, tmp_path):
    calls = []
    with pytest.raises(adsim.IoError, match="cannot write the result to .*no_such_dir"):
        adsim.run(small, out=tmp_path / "no_such_dir" / "x.h5", progress=calls.append)
    assert calls == []  # not one control cycle ran


def test_failed_run_says_the_existing_file_was_left(small, tmp_path):
    out = tmp_path / "last_week.h5"
    out.write_bytes(b"last week's result")
    del small["seed"]
    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(small, out=out)
    assert f"the existing file '{out}' was left as it was: it is not the result of this run" in str(info.value)
    assert out.read_bytes() == b"last week's result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last_week.h5"]
    with pytest.raises(adsim.ConfigError) as fresh:  # no file there: no such sentence
        adsim.run(small, out=tmp_path / "new.h5")
    assert "existing file" not in str(fresh.value)


def test_threads_write_the_same_path(small_result, tmp_path):
    # Temporary names are unique per write, not only per process: with one
    # name per process, threads writing the same path at once all failed.
    import threading

    out = tmp_path / "same.h5"
    errors = []

    def work():
        try:
            for _ in range(5):
                small_result.save(out)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.h5"]
    assert adsim.load(out).fingerprint == small_result.fingerprint


_KILLED_RUN = r"""
import json, sys, time
import adsim
def stall(fraction):
    print("running", flush=True)
    time.sleep(600)  # killed long before
adsim.run(json.loads(sys.argv[1]), out=sys.argv[2], progress=stall)
"""


def test_temporary_file_of_a_killed_run_is_removed_by_the_next(small, tmp_path):
    out = tmp_path / "run.h5"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, json.dumps(small), str(out)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline() == "running\n"
        left = [p.name for p in tmp_path.iterdir()]
        assert left == [f"run.h5.tmp-{proc.pid}-0"]  # created before the run started
    finally:
        proc.kill()
        proc.wait(timeout=60)
    assert (tmp_path / f"run.h5.tmp-{proc.pid}-0").exists()  # the killed run could not clean up
    adsim.run(small, out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]


_FULL_DISK = r"""
import json, resource, signal, sys
import adsim
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (20 * 1024, resource.RLIM_INFINITY))
try:
    adsim.run(json.loads(sys.argv[1]), out=sys.argv[2])
except adsim.IoError as e:
    print("IoError:", e)
r = adsim.load(sys.argv[3])  # HDF5 once crashed here after the failed write
print("loaded", r.fingerprint)
"""


def test_full_disk_raises_io_error_and_the_process_survives(small, small_result, tmp_path):
    # A file-size limit stands in for a full disk; the interpreter must then
    # load another file and exit normally (it used to segfault in HDF5).
    good = small_result.save(tmp_path / "good.h5")
    out = tmp_path / "full.h5"
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK, json.dumps(small), str(out), good], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert f"IoError: cannot write the result to '{out}'" in proc.stdout
    assert "File too large" in proc.stdout
    assert f"loaded {small_result.fingerprint}" in proc.stdout
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]


def _wide_scenario(small, segments):
    small["segments"] = [
        {"name": f"segment_number_{i}", "ctr": 0.003, "cvr": 0.05, "share": {"display": 1.0, "search": 1.0},
         "users": 1000}
        for i in range(segments)
    ]
    small["campaigns"][1]["segments"] = ["segment_number_0"]
    small["duration"] = "2h"
    return small


def test_scenario_over_64_kib_is_saved_as_a_dataset(small, tmp_path):
    import yaml

    scenario = _wide_scenario(small, 450)
    yaml_text = yaml.safe_dump(scenario, sort_keys=False) + "# " + "x" * 20000 + "\n"  # a long comment too
    assert len(yaml_text.encode()) > 64 * 1024  # the most an HDF5 attribute holds
    out = tmp_path / "wide.h5"
    r = adsim.run(yaml_text, out=out)
    loaded = adsim.load(out)
    assert loaded.attrs["scenario"] == yaml_text == r.attrs["scenario"]
    assert loaded.attrs["schema_version"] == adsim.SCHEMA_VERSION == 4
    with h5py.File(out, "r") as f:
        assert "scenario" not in f.attrs
        assert f["scenario"][()].decode() == yaml_text


def test_load_reads_schema_2_files(small_result, tmp_path):
    # Schema 2 kept the scenario text in a file attribute.
    path = small_result.save(tmp_path / "v2.h5")
    with h5py.File(path, "r+") as f:
        text = f["scenario"][()]
        del f["scenario"]
        f.attrs["scenario"] = np.bytes_(text)
        f.attrs["schema_version"] = np.int64(2)
    loaded = adsim.load(path)
    assert loaded.attrs["scenario"] == small_result.attrs["scenario"]
    assert loaded.attrs["schema_version"] == 2
    cli = _built_cli()
    if cli:  # adsim summary (the C++ reader) reads it too
        proc = subprocess.run([cli, "summary", path], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    # Saved again, it keeps its layout (version 2 readers still read it).
    again = loaded.save(tmp_path / "v2_again.h5")
    with h5py.File(again, "r") as f:
        assert f.attrs["schema_version"] == 2 and "scenario" in f.attrs and "scenario" not in f


def _built_cli():
    """The CLI of this checkout's build, if built."""
    build = os.environ.get("ADSIM_BUILD_DIR", str(Path(__file__).resolve().parents[2] / "build"))
    cli = os.path.join(build, "adsim")
    return cli if os.access(cli, os.X_OK) else None


@pytest.mark.parametrize("keep", ["half", "head"])
def test_load_of_a_truncated_file_is_data_error(small_result, tmp_path, keep):
    path = Path(small_result.save(tmp_path / "cut.h5"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if keep == "half" else data[:3000])
    with pytest.raises(adsim.DataError, match="damaged or truncated") as info:
        adsim.load(path)
    assert str(path) in str(info.value)


def test_load_of_a_file_with_a_damaged_table_is_data_error(small_result, tmp_path):
    # The file opens, but a column's data is overwritten with garbage.
    path = Path(small_result.save(tmp_path / "garbled.h5"))
    with h5py.File(path, "r") as f:
        ds = f["aggregates/spend"]
        offsets = [ds.id.get_chunk_info(i).byte_offset for i in range(ds.id.get_num_chunks())]
    data = bytearray(path.read_bytes())
    for offset in offsets:
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(adsim.DataError, match="damaged or truncated") as info:
        adsim.load(path)
    assert str(path) in str(info.value)
