"""Reading adsim result files with h5py only.

This module deliberately does not import adsim's compiled module: it is the
proof that a result file is plain HDF5 that any h5py user can read (the schema
is in docs/results.md). Each table is a group holding one 1-D dataset per
column; the group attribute ``columns`` gives their order; strings are
fixed-length UTF-8 bytes; times are int64 microseconds since the scenario start.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Union

import numpy as np

from ._errors import DataError, IoError

PathLike = Union[str, "os.PathLike[str]"]

#: Schema versions this reader understands (3 keeps the scenario text in the
#: root dataset ``scenario``, older versions in the file attribute ``scenario``).
SUPPORTED_SCHEMA_VERSIONS = (1, 2, 3, 4)

#: Tables in the order the engine produces them; other tables follow by name.
TABLE_ORDER = (
    "aggregates",
    "market",
    "funnel",
    "actions",
    "conversions",
    "daily",
    "pacing_target",
    "events",
    "alerts",
    "monitor_scores",
    "campaigns",
    "channels",
    "segments",
    "creatives",
    "truth_rates",
    "truth_shocks",
)


def table_sort_key(name: str) -> tuple:
    return (TABLE_ORDER.index(name), "") if name in TABLE_ORDER else (len(TABLE_ORDER), name)


def _decode(value: Any) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _attr(value: Any) -> Any:
    """An HDF5 attribute as a plain Python value."""
    if isinstance(value, (bytes, np.bytes_, str)):
        return _decode(value)
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == ():
        return _attr(value[()])
    return value


def note_existing_output(error: BaseException, path: str) -> None:
    """Adds to the message of a failed run (or save) that the file already at
    `path`, if any, was left as it was: nobody should read it as this run's."""
    if not path or not os.path.isfile(path):
        return
    note = f"the existing file '{path}' was left as it was: it is not the result of this run"
    first = str(error.args[0]) if error.args else ""
    error.args = ((first + "\n" if first else "") + note,) + tuple(error.args[1:])


def decode_strings(data: np.ndarray) -> np.ndarray:
    """Fixed-length UTF-8 bytes -> an object array of str (NUL padding removed)."""
    return np.array([_decode(b) for b in data.tolist()], dtype=object)


def read_raw(path: PathLike, group: str = "/") -> Dict[str, Any]:
    """Reads a result file (or, with `group`, the result in that group of a
    sweep file, e.g. ``runs/000003``) into adsim's raw layout.

    Returns ``{"tables": [{"name", "description", "columns": [{"name", "unit",
    "description", "data"}]}], "attrs": {...}}`` with numpy arrays as data
    (int64, float64, or object arrays of str).

    Raises IoError if the file cannot be read and DataError if it is not an
    adsim result file or is damaged (e.g. truncated); both name the path.
    """
    path = os.fspath(path)
    try:
        return _read_raw(path, group)
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as e:
        # h5py's own errors on damaged content: a dataset or attribute that
        # cannot be read although the file opened.
        raise DataError(f"'{path}' is damaged or truncated: {type(e).__name__}: {e}") from e


def _read_raw(path: str, group_name: str = "/") -> Dict[str, Any]:
    try:
        import h5py  # imported here so that `import adsim` does not need it
    except ImportError as e:  # pragma: no cover - depends on the installation
        raise ImportError("adsim.load needs h5py (Debian: apt-get install python3-h5py; else pip install h5py)") from e

    path = os.fspath(path)
    if not os.path.exists(path):
        raise IoError(f"cannot read result file '{path}': no such file")
    if os.path.isdir(path):
        raise IoError(f"cannot read result file '{path}': it is a directory")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as e:
        raise IoError(f"cannot read result file '{path}': {e}") from e
    if not is_hdf5:
        raise DataError(f"'{path}' is not an HDF5 file (adsim result files are HDF5)")
    try:
        with open(path, "rb") as plain:
            plain.read(1)
    except OSError as e:
        raise IoError(f"cannot read result file '{path}': {e.strerror or e}") from e
    try:
        f = h5py.File(path, "r")
    except OSError as e:  # readable (checked above), yet HDF5 cannot open it
        raise DataError(f"'{path}' is damaged or truncated: HDF5 cannot open it ({e})") from e
    with f:
        if group_name not in f:
            raise DataError(f"'{path}' has no group '{group_name}' (not an adsim sweep file, or a run it does not hold)")
        root = f[group_name]
        attrs = {k: _attr(v) for k, v in root.attrs.items()}
        if "schema_version" not in attrs:
            raise DataError(f"'{path}' is not an adsim result file (no schema_version attribute)")
        if attrs["schema_version"] not in SUPPORTED_SCHEMA_VERSIONS:
            raise DataError(
                f"'{path}' has result schema version {attrs['schema_version']}; this adsim reads "
                f"{', '.join(map(str, SUPPORTED_SCHEMA_VERSIONS))}"
            )
        scenario = root.get("scenario")
        if isinstance(scenario, h5py.Dataset):  # schema 3: a dataset holds text of any size
            attrs["scenario"] = _attr(scenario[()])
        tables: List[Dict[str, Any]] = []
        for name in sorted(root.keys(), key=table_sort_key):
            group = root[name]
            if not isinstance(group, h5py.Group):
                continue
            order = _attr(group.attrs.get("columns", ""))
            names = [c for c in order.split(",") if c] if order else sorted(group.keys())
            columns = []
            for cname in names:
                if cname not in group or not isinstance(group[cname], h5py.Dataset):
                    raise DataError(f"'{path}': table '{name}' lists column '{cname}' but has no such dataset")
                ds = group[cname]
                if ds.ndim != 1:
                    raise DataError(f"'{path}': {name}/{cname} is not a 1-D dataset")
                data = ds[()]
                kind = data.dtype.kind
                if kind == "S":
                    data = decode_strings(data)
                elif kind in "iu":
                    data = data.astype(np.int64, copy=False)
                elif kind == "f":
                    data = data.astype(np.float64, copy=False)
                elif kind == "O":  # variable-length strings (not written by adsim, but harmless)
                    data = decode_strings(data)
                else:
                    raise DataError(f"'{path}': {name}/{cname} has a type adsim does not write ({data.dtype})")
                columns.append(
                    {
                        "name": cname,
                        "unit": _attr(ds.attrs.get("unit", "")),
                        "description": _attr(ds.attrs.get("description", "")),
                        "data": data,
                    }
                )
            lengths = {len(c["data"]) for c in columns}
            if len(lengths) > 1:
                raise DataError(f"'{path}': the columns of table '{name}' differ in length")
            tables.append({"name": name, "description": _attr(group.attrs.get("description", "")), "columns": columns})
    return {"tables": tables, "attrs": attrs}
