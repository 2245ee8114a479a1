"""adsim.attribute: multi-touch attribution models on customer-journey path data.

Owns the Python entry to the attribution models of ``core/attribution/``
(docs/attribution.md): the paths (a ``path;conversions;value;null`` CSV file
or a DataFrame) are handed to the compiled ``_adsim.attribute_csv`` as CSV
text, so that ``adsim.attribute`` and ``adsim attribute`` read, check and
attribute them with the same C++ code.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _adsim
from ._errors import ConfigError, IoError

#: The columns of the result, in order.
ATTRIBUTE_COLUMNS: Tuple[str, ...] = ("model", "channel", "conversions", "value", "conversions_se", "value_se")

#: The models run when none are named (markov2 and higher orders only on request).
DEFAULT_MODELS: Tuple[str, ...] = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "linear_unique",
    "time_decay",
    "position_based",
    "markov1",
    "shapley",
)

# DataFrame column names accepted for each field, first the common format's.
_COLUMN_NAMES: Dict[str, Tuple[str, ...]] = {
    "path": ("path",),
    "total_conversions": ("total_conversions", "conversions"),
    "total_conversion_value": ("total_conversion_value", "conversion_value", "value"),
    "total_null": ("total_null", "null"),
}

PathsLike = Union[str, "os.PathLike[str]", Any]

#: The counts of a holdout table (journey_holdout, docs/attribution.md), in the order the compiled side takes them.
HOLDOUT_COLUMNS: Tuple[str, ...] = tuple(
    f"{group}_{count}"
    for group in ("held_out", "exposed")
    for count in ("users", "conversions", "conversions_sq", "value", "value_sq")
)


def attribution_models() -> Dict[str, Any]:
    """The models ({name: description}; ``markov<k>`` stands for every order) and
    the parameters ({name: default as text}) that ``attribute(**params)`` takes."""
    models, params = _adsim.attribution_models()
    return {"models": dict(models), "params": dict(params)}


def _path_text(cell: Any, row: int) -> str:
    """A path cell (text joined by ' > ', or a list of channel names) as text."""
    if isinstance(cell, str):
        text = cell
    elif isinstance(cell, (list, tuple)) or type(cell).__name__ == "ndarray":
        names = [str(name) for name in cell]
        for name in names:
            if ">" in name or not name.strip():
                raise ConfigError(
                    f"adsim.attribute: row {row}: path: expected channel names without '>' and not empty, "
                    f"found {name!r}"
                )
        text = " > ".join(names)
    else:
        raise ConfigError(
            f"adsim.attribute: row {row}: path: expected text (channels joined by ' > ') or a list of channel "
            f"names, found {type(cell).__name__}"
        )
    if ";" in text or "\n" in text or "\r" in text:
        raise ConfigError(f"adsim.attribute: row {row}: path: expected no ';' or line break, found {text!r}")
    return text


def _number_text(cell: Any, row: int, column: str) -> str:
    if isinstance(cell, bool) or not isinstance(cell, (int, float)) and not hasattr(cell, "__float__"):
        raise ConfigError(f"adsim.attribute: row {row}: {column}: expected a number >= 0, found {cell!r}")
    value = float(cell)
    if math.isnan(value):
        return ""  # reported by the reader as an empty field, with its line
    return repr(value)


def _frame_to_csv_text(frame: Any) -> str:
    """A DataFrame of paths as the common format's CSV text (line 1 is the header, row i is line i + 2)."""
    chosen: Dict[str, str] = {}
    for field, names in _COLUMN_NAMES.items():
        found = [name for name in names if name in frame.columns]
        if len(found) > 1:
            raise ConfigError(f"adsim.attribute: the DataFrame has both columns {found[0]!r} and {found[1]!r}")
        if found:
            chosen[field] = found[0]
    for required in ("path", "total_conversions"):
        if required not in chosen:
            raise ConfigError(
                f"adsim.attribute: the DataFrame has no column {' or '.join(map(repr, _COLUMN_NAMES[required]))}; "
                f"found columns {list(map(str, frame.columns))}"
            )
    fields = list(chosen)
    lines = [";".join(fields)]
    columns = [frame[chosen[field]].tolist() for field in fields]
    for row, cells in enumerate(zip(*columns)):
        texts = [
            _path_text(cell, row) if field == "path" else _number_text(cell, row, chosen[field])
            for field, cell in zip(fields, cells)
        ]
        lines.append(";".join(texts))
    return "\n".join(lines) + "\n"


def _param_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        raise ConfigError(f"adsim.attribute: parameter {name}: expected a number or a name, found a bool ({value})")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def attribute(
    paths_df_or_csv: PathsLike,
    models: Optional[Union[str, Sequence[str]]] = None,
    holdout: Any = None,
    **params: Any,
) -> Any:
    """Credits conversions and value to channels with attribution models; returns a DataFrame.

    ``paths_df_or_csv`` is a CSV path in the common ``path;total_conversions;
    total_conversion_value;total_null`` format (read exactly as ``adsim
    attribute`` reads it) or a DataFrame with a ``path`` column (text with
    channels joined by `` > ``, or lists of channel names) and
    ``total_conversions`` (or ``conversions``), optionally
    ``total_conversion_value`` (or ``value``) and ``total_null`` (or
    ``null``). In a DataFrame's error messages, row i is line i + 2 (line 1
    is the header). ``models`` is a list of model names or one comma-separated
    string (default: ``DEFAULT_MODELS``); ``**params`` are the models'
    parameters (``attribution_models()["params"]``, e.g. ``half_life_touches=2``,
    ``first_weight=0.3``, ``seed=7``). The result has one row per model and
    channel with the columns model, channel, conversions, value,
    conversions_se and value_se (0 except for sampled Shapley values and the holdout models);
    ``result.attrs`` holds ``notes`` ({model: how it was computed}) and the
    data's totals (``paths``, ``total_conversions``, ``total_value``,
    ``total_nulls``). ``holdout`` (optional) is a DataFrame of user-holdout
    counts per channel, as the ``journey_holdout`` table of a run with
    ``journeys.holdout`` holds them (a ``channel_name`` column and
    ``HOLDOUT_COLUMNS``): the data of the ``holdout`` model and of
    ``holdout_calibrated`` (the holdout shrunk toward the shares of the path
    model ``calibration_prior``, default ``first_touch``; ``average`` or ``best_fit``
    weigh several path models by how well the holdout fits them; docs/attribution.md).
    """
    import pandas as pd

    if models is None:
        names: List[str] = list(DEFAULT_MODELS)
    elif isinstance(models, str):
        names = models.split(",")
    else:
        names = [str(m) for m in models]
    if not names or any(not n for n in names):
        raise ConfigError(f"adsim.attribute: models: expected model names, found {models!r}")
    texts: Mapping[str, str] = {name: _param_text(name, v) for name, v in params.items()}
    if isinstance(paths_df_or_csv, (str, os.PathLike)):
        source = os.fspath(paths_df_or_csv)
        try:
            with open(source, encoding="utf-8", errors="replace", newline="") as handle:
                text = handle.read()
        except OSError as error:
            raise IoError(f"attribute: cannot open {source} for reading: {error.strerror}") from error
    elif isinstance(paths_df_or_csv, pd.DataFrame):
        text = _frame_to_csv_text(paths_df_or_csv)
        source = "<DataFrame>"
    else:
        raise ConfigError(
            "adsim.attribute: expected a CSV path or a DataFrame of paths; "
            f"found {type(paths_df_or_csv).__name__}"
        )
    holdout_counts: List[List[float]] = []
    holdout_channels: List[str] = []
    if holdout is not None:
        missing = [c for c in ("channel_name",) + HOLDOUT_COLUMNS if c not in holdout.columns]
        if missing:
            raise ConfigError(f"adsim.attribute: holdout: expected the columns {missing}, found {list(holdout.columns)}")
        holdout_channels = [str(name) for name in holdout["channel_name"]]
        holdout_counts = holdout[list(HOLDOUT_COLUMNS)].astype(float).values.tolist()
    raw = _adsim.attribute_csv(text, source, names, dict(texts), holdout_counts, holdout_channels)
    frame = pd.DataFrame({column: raw[column] for column in ATTRIBUTE_COLUMNS}, columns=list(ATTRIBUTE_COLUMNS))
    frame.attrs["notes"] = dict(raw["notes"])
    for key in ("paths", "total_conversions", "total_value", "total_nulls"):
        frame.attrs[key] = raw[key]
    return frame


def attribution_accuracy_score(model_credit: Mapping[str, float], true_credit: Mapping[str, float]) -> float:
    """The accuracy of a credit against the truth: ``1 - 1/2 * sum |model share - true share|``
    over the players (channel or campaign names) of both mappings (or Series), a missing
    player counting as 0.

    1 when the model's shares are the true shares, 0 when they share nothing, always in
    [0, 1]; NaN when either total is 0. The same C++ function as ``adsim attribute RUN.h5
    --truth`` (``core/attribution/accuracy.h``). Raises DataError naming the player for a
    negative or non-finite amount."""
    return float(
        _adsim.attribution_accuracy_score(
            {str(name): float(amount) for name, amount in model_credit.items()},
            {str(name): float(amount) for name, amount in true_credit.items()},
        )
    )


__all__ = ["attribute", "attribution_accuracy_score", "attribution_models", "ATTRIBUTE_COLUMNS", "DEFAULT_MODELS",
           "HOLDOUT_COLUMNS"]
