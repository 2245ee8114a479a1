"""`adsim detect` and adsim.detect on the committed fixture
tests/data/detect/cpc_hourly.csv (16 days of an hourly CPC with a spike, a
persisting level shift, a 30-hour gap and five bad rows; made by
make_cpc_hourly.py next to it): the output columns, the bad row policy and its
line numbers, exit codes, and that Python and the command line agree row for
row (they run the same C++ code)."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import adsim

from conftest import REPO

FIXTURE = REPO / "tests" / "data" / "detect" / "cpc_hourly.csv"
COLUMNS = ["timestamp", "value", "score", "alarm", "baseline", "scale", "reason"]


def _cli(adsim_cli: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([adsim_cli, "detect", *args], capture_output=True, text=True, timeout=120)


def test_list_names_every_detector_and_default(adsim_cli: str) -> None:
    out = _cli(adsim_cli, "--list")
    assert out.returncode == 0, out.stderr
    names = [line.split(":")[0] for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert names == [d["name"] for d in adsim.detectors()]
    assert {"default", "seasonal", "seasonal_cusum", "ewma", "cusum", "tail", "trend"} <= set(names)


def test_cli_writes_the_documented_columns_and_reports_bad_rows(adsim_cli: str, tmp_path: Path) -> None:
    out_path = tmp_path / "out.csv"
    out = _cli(adsim_cli, str(FIXTURE), "-o", str(out_path))
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(out_path)
    assert list(frame.columns) == COLUMNS
    lines = FIXTURE.read_text().splitlines()
    assert len(frame) == len(lines) - 1  # one output row per input row
    # The five bad rows of the fixture, by kind and line (header = line 1).
    assert "1 bad_value (line 42)" in out.stderr
    assert "1 missing (line 43)" in out.stderr
    assert "1 non_positive (line 72)" in out.stderr
    assert "1 duplicate (line 102)" in out.stderr
    assert "1 out_of_order (line 152)" in out.stderr
    skipped = frame[frame["score"].isna()]
    assert len(skipped) == 5
    assert skipped["reason"].str.startswith("skipped: ").all()
    scored = frame[frame["score"].notna()]
    assert scored["score"].between(0, 1).all()
    assert set(scored["alarm"].unique()) <= {0, 1}
    # The spike (day 9 14:00) and the level shift (day 11 08:00) alarm; the
    # shift only once (a persisting shift becomes the new level).
    alarms = frame.loc[frame["alarm"] == 1, "timestamp"].tolist()
    assert "2026-03-11T14:00:00" in alarms
    shift = [t for t in alarms if "2026-03-13T08:00:00" <= t < "2026-03-15T00:00:00"]
    assert len(shift) == 1, alarms
    # The gap (30 h from day 13, 06:00) restarts the level, and says so.
    after_gap = frame[frame["timestamp"] == "2026-03-16T12:00:00"]
    assert after_gap["reason"].iloc[0].startswith("gap of 31 h: level restarted")


def test_python_equals_cli_row_for_row(adsim_cli: str, tmp_path: Path) -> None:
    params = ["--detector", "seasonal_cusum", "--param", "threshold=0.99", "--param", "side=both"]
    out_path = tmp_path / "out.csv"
    assert _cli(adsim_cli, str(FIXTURE), *params, "-o", str(out_path)).returncode == 0
    # The CLI writes the shortest text that reads back as the same double;
    # pandas reads it back exactly with float_precision="round_trip".
    cli = pd.read_csv(
        out_path,
        keep_default_na=False,
        na_values={"score": [""], "baseline": [""], "scale": [""], "value": [""]},
        float_precision="round_trip",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from_path = adsim.detect(FIXTURE, "seasonal_cusum", side="both", threshold=0.99)
    assert any("out_of_order" in str(w.message) for w in caught)
    # A DataFrame of the same rows goes through the same parser.
    raw = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_frame = adsim.detect(raw, "seasonal_cusum", side="both", threshold=0.99)
    for result in (from_path, from_frame):
        assert list(result.columns) == COLUMNS
        assert len(result) == len(cli)
        np.testing.assert_array_equal(result["score"].to_numpy(), cli["score"].to_numpy())
        np.testing.assert_array_equal(result["alarm"].to_numpy(), cli["alarm"].fillna(0).to_numpy())
        np.testing.assert_array_equal(result["baseline"].to_numpy(), cli["baseline"].to_numpy())
        np.testing.assert_array_equal(result["scale"].to_numpy(), cli["scale"].to_numpy())
        assert result["reason"].tolist() == cli["reason"].tolist()
        parsed = pd.to_datetime(cli["timestamp"], errors="coerce")
        assert result["timestamp"].equals(parsed.rename("timestamp"))
    assert from_path.attrs["issues"][0][:2] == (42, "bad_value")


def test_python_series_with_datetime_index() -> None:
    # A clean daily-rhythm series with one spike: the spike is the only alarm.
    rng = np.random.default_rng(5)
    index = pd.date_range("2026-03-02", periods=24 * 10, freq="h")
    hours = index.hour.to_numpy()
    values = np.exp(np.log(0.8) + 0.35 * np.sin(2 * np.pi * (hours - 9) / 24) + rng.normal(0, 0.1, len(index)))
    values[24 * 8 + 5] *= 10
    result = adsim.detect(pd.Series(values, index=index))
    assert result["alarm"].sum() == 1
    assert result["timestamp"].iloc[int(np.argmax(result["alarm"].to_numpy()))] == index[24 * 8 + 5]
    upper_only = adsim.detect(pd.Series(1 / values, index=index), side="upper")
    assert upper_only["alarm"].sum() == 0  # the spike is now a drop


def test_rate_series_from_counts(adsim_cli: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    index = pd.date_range("2026-03-02", periods=24 * 10, freq="h")
    impressions = rng.integers(2000, 6000, len(index))
    clicks = rng.binomial(impressions, 0.02)
    clicks[-10] = int(impressions[-10] * 0.05)  # a CTR 2.5 times the usual
    frame = pd.DataFrame({"timestamp": index, "clicks": clicks, "impressions": impressions})
    result = adsim.detect(frame, "ewma", successes="clicks", trials="impressions")
    assert result["alarm"].sum() == 1 and result["alarm"].iloc[-10] == 1
    np.testing.assert_allclose(result["value"], clicks / impressions)
    path = tmp_path / "ctr.csv"
    frame.assign(timestamp=[t.isoformat() for t in index]).to_csv(path, index=False)
    out = _cli(adsim_cli, str(path), "--detector", "ewma", "--successes", "clicks", "--trials", "impressions")
    assert out.returncode == 0, out.stderr
    assert pd.read_csv(__import__("io").StringIO(out.stdout))["alarm"].sum() == 1


def test_exit_codes_and_messages(adsim_cli: str, tmp_path: Path) -> None:
    missing = _cli(adsim_cli, str(tmp_path / "nope.csv"))
    assert missing.returncode == 3 and "nope.csv" in missing.stderr
    unknown = _cli(adsim_cli, str(FIXTURE), "--detector", "magic")
    assert unknown.returncode == 2 and "seasonal_cusum" in unknown.stderr  # lists the valid names
    bad_param = _cli(adsim_cli, str(FIXTURE), "--param", "lambda=fast")
    assert bad_param.returncode == 2 and "lambda" in bad_param.stderr and "fast" in bad_param.stderr
    not_kv = _cli(adsim_cli, str(FIXTURE), "--param", "lambda")
    assert not_kv.returncode == 2 and "NAME=VALUE" in not_kv.stderr
    wrong_header = tmp_path / "wrong.csv"
    wrong_header.write_text("time,cpc\n2026-03-02T00:00:00,1\n")
    header = _cli(adsim_cli, str(wrong_header))
    assert header.returncode == 2 and "wrong.csv" in header.stderr and "timestamp" in header.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("timestamp,value\n")
    assert _cli(adsim_cli, str(empty)).returncode == 3
    # A failed run leaves no output file behind.
    out_path = tmp_path / "out.csv"
    assert _cli(adsim_cli, str(empty), "-o", str(out_path)).returncode == 3
    assert not out_path.exists() and not (tmp_path / "out.csv.partial").exists()
    with pytest.raises(adsim.ConfigError, match="magic"):
        adsim.detect(FIXTURE, "magic")
    with pytest.raises(adsim.IoError, match="nope.csv"):
        adsim.detect(tmp_path / "nope.csv")
    with pytest.raises(adsim.ConfigError, match="DatetimeIndex"):
        adsim.detect(pd.Series([1.0, 2.0]))
