"""adsim.detect: anomaly detectors on your own KPI series, outside a simulation.

Owns the Python entry to the named detectors of
``strategies/monitors/lib/series_detect.h``: the series (a CSV file, a
DataFrame or a Series with a DatetimeIndex) is handed to the compiled
``_adsim.detect_csv`` as CSV text, so that ``adsim.detect`` and ``adsim detect``
read, check and score it with the same C++ code, row for row. See
docs/monitoring-detectors.md.
"""

from __future__ import annotations

import io
import os
import warnings
from typing import Any, Dict, List, Optional, Tuple, Union

from . import _adsim
from ._errors import ConfigError

#: The columns of the result, in order (plus nothing else).
DETECT_COLUMNS: Tuple[str, ...] = ("timestamp", "value", "score", "alarm", "baseline", "scale", "reason")

SeriesLike = Union[str, "os.PathLike[str]", Any]


def detectors() -> List[Dict[str, Any]]:
    """The named detectors: a list of dicts with name, description and params ({name: default})."""
    return [{"name": n, "description": d, "params": dict(p)} for n, d, p in _adsim.detectors()]


def _param_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        raise ConfigError(f"adsim.detect: parameter {name}: expected a number or a word, found a bool ({value})")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _to_csv_text(series: Any, timestamp: str, value: str, successes: Optional[str], trials: Optional[str]) -> str:
    """The series as CSV text with the named columns (timestamps written in ISO 8601)."""
    import pandas as pd

    if isinstance(series, pd.Series):
        if not isinstance(series.index, pd.DatetimeIndex):
            raise ConfigError(
                "adsim.detect: a Series needs a DatetimeIndex (the timestamps); "
                f"found an index of type {type(series.index).__name__}"
            )
        frame = pd.DataFrame({timestamp: series.index, value: series.to_numpy()})
    elif isinstance(series, pd.DataFrame):
        frame = series
        if timestamp not in frame.columns and isinstance(frame.index, pd.DatetimeIndex):
            frame = frame.reset_index(names=timestamp) if hasattr(frame, "reset_index") else frame
    else:
        raise ConfigError(
            "adsim.detect: expected a CSV path, a DataFrame (columns timestamp, value) or a Series with a "
            f"DatetimeIndex; found {type(series).__name__}"
        )
    wanted = [timestamp] + ([successes, trials] if successes else []) + ([value] if value in frame.columns else [])
    missing = [c for c in wanted if c not in frame.columns]
    if missing or (not successes and value not in frame.columns):
        raise ConfigError(
            f"adsim.detect: the DataFrame has no column {missing[0] if missing else value!r}; "
            f"found columns {list(map(str, frame.columns))}"
        )
    out = frame[wanted].copy()
    stamps = out[timestamp]
    if pd.api.types.is_datetime64_any_dtype(stamps):
        out[timestamp] = [t.isoformat() if not pd.isna(t) else "" for t in stamps]
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, float_format=None, na_rep="")
    return buffer.getvalue()


def detect(
    series_or_df: SeriesLike,
    detector: str = "default",
    side: Optional[str] = None,
    *,
    timestamp: str = "timestamp",
    value: str = "value",
    successes: Optional[str] = None,
    trials: Optional[str] = None,
    warn: bool = True,
    **params: Any,
) -> Any:
    """Runs a named detector (see ``detectors()``) over a series; returns a DataFrame.

    ``series_or_df`` is a CSV path (read exactly as ``adsim detect`` reads it),
    a DataFrame with a ``timestamp`` and a ``value`` column (or, for a rate,
    ``successes`` and ``trials`` columns), or a Series with a DatetimeIndex.
    ``side`` ("both", "upper" or "lower") and ``**params`` set the detector's
    parameters (``adsim detect --param NAME=VALUE``). The result has one row
    per input row and the columns timestamp, value, score (in [0, 1]), alarm
    (0/1), baseline, scale, reason; rows skipped by the bad row policy have
    no score (NaN) and say why in ``reason``. ``result.attrs`` holds
    ``issues`` (a list of (line, kind, message)) and ``summary``; with
    ``warn`` a summary of skipped rows is also issued as a warning.
    """
    import numpy as np
    import pandas as pd

    if (successes is None) != (trials is None):
        raise ConfigError("adsim.detect: give both successes= and trials= (a rate series), or neither")
    texts: Dict[str, str] = {name: _param_text(name, v) for name, v in params.items()}
    if side is not None:
        texts["side"] = str(side)
    if isinstance(series_or_df, (str, os.PathLike)):
        path = os.fspath(series_or_df)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError as error:
            from ._errors import IoError

            raise IoError(f"detect: cannot open {path} for reading: {error.strerror}") from error
        source = path
    else:
        text = _to_csv_text(series_or_df, timestamp, value, successes, trials)
        source = "<DataFrame>"
    raw = _adsim.detect_csv(text, source, detector, texts, timestamp, value, successes or "", trials or "")
    stamps = pd.to_datetime(pd.Series(raw["timestamp"], dtype=object), errors="coerce")
    frame = pd.DataFrame(
        {
            "timestamp": stamps,
            "value": raw["value"],
            "score": raw["score"],
            "alarm": raw["alarm"].astype(np.int64),
            "baseline": raw["baseline"],
            "scale": raw["scale"],
            "reason": raw["reason"],
        },
        columns=list(DETECT_COLUMNS),
    )
    frame.attrs["issues"] = list(raw["issues"])
    frame.attrs["summary"] = raw["summary"]
    if warn and raw["issues"]:
        warnings.warn("adsim.detect: " + raw["summary"], stacklevel=2)
    return frame


__all__ = ["detect", "detectors", "DETECT_COLUMNS"]
