"""Many runs as one thing: :func:`adsim.sweep`, the :class:`Sweep` it returns,
the sweep HDF5 file (written with ``output=`` or :meth:`Sweep.save`, read
lazily by :func:`adsim.load`) and ``Sweep.plot.compare``.

A sweep is a list of runs, one per (variation, seed). Locally the runs go to
the compiled ``run_many`` (C++ threads, the GIL released); with a Dask
``client`` each run is a task calling :func:`_dask_task`, an importable
function that receives the scenario text and the seed, so workers may be
other processes or machines. A run is a pure function of (scenario text,
seed), so a run's result does not depend on where or beside what it ran.
docs/sweeps.md is the user's guide and the file format.
"""

from __future__ import annotations

import copy
import datetime
import io
import json
import os
import re
import sys
import threading
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _adsim
from ._errors import ConfigError, DataError, Error, IoError
from ._io import PathLike, note_existing_output, read_raw
from ._result import Result
from ._run import ScenarioLike, _json_default, _scenario_args

SeedsLike = Union[int, str, range, Sequence[int]]
#: What ``variations`` maps a name to: a patch (nested dict merged into the
#: scenario; keys with "." or "[" are field paths) or a callable taking the
#: scenario dict and returning the modified one.
VariationLike = Union[Mapping[str, Any], Callable[[Dict[str, Any]], Optional[Dict[str, Any]]]]

#: Root attribute ``kind`` of a sweep file; ``sweep_format`` is its version.
SWEEP_KIND = "adsim sweep"
SWEEP_FORMAT = 1

_KPI_FIRST = ["run", "variation", "seed", "campaign"]


# ---- arguments ------------------------------------------------------------


def _argument_error(path: str, expected: str, found: Any) -> ConfigError:
    return ConfigError(issues=[{"file": "<argument>", "path": path, "line": 0, "expected": expected,
                                "found": repr(found)[:200]}])


def parse_seeds(seeds: SeedsLike) -> List[int]:
    """The seeds of a sweep: an int N (seeds 1..N), a range or list of ints, or
    a string "1-100" (inclusive) or "1,5,9" (the two may be mixed: "1-10,20")."""
    expected = "an int N (seeds 1..N), a range or list of ints in [0, 2**64), or a string such as '1-100' or '1,5,9'"
    out: List[int] = []
    if isinstance(seeds, (bool, np.bool_)):
        raise _argument_error("seeds", expected, seeds)
    if isinstance(seeds, (int, np.integer)):
        if int(seeds) < 1:
            raise _argument_error("seeds", expected + " (N >= 1)", seeds)
        out = list(range(1, int(seeds) + 1))
    elif isinstance(seeds, str):
        for part in seeds.replace(" ", "").split(","):
            match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
            if not match:
                raise _argument_error("seeds", expected, seeds)
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) else first
            if last < first:
                raise _argument_error("seeds", expected + " (a range's end not below its start)", seeds)
            out.extend(range(first, last + 1))
    elif isinstance(seeds, Iterable):
        for seed in seeds:
            if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
                raise _argument_error("seeds", expected, seed)
            out.append(int(seed))
    else:
        raise _argument_error("seeds", expected, seeds)
    if not out:
        raise _argument_error("seeds", expected + " (at least one)", seeds)
    bad = [s for s in out if not 0 <= s < 2**64]
    if bad:
        raise _argument_error("seeds", expected, bad[0])
    if len(set(out)) != len(out):
        raise _argument_error("seeds", "each seed once", sorted(s for s in set(out) if out.count(s) > 1)[:5])
    return out


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]|(\.)")


def parse_path(path: str) -> List[Union[str, int]]:
    """ "campaigns[0].budget.daily" -> ["campaigns", 0, "budget", "daily"]: the
    field-path syntax of adsim's error messages."""
    parts: List[Union[str, int]] = []
    position = 0
    expect_name = True
    for match in _PATH_PART.finditer(path):
        if match.start() != position:
            break
        position = match.end()
        if match.group(1) is not None:
            if not expect_name:
                break
            parts.append(match.group(1))
            expect_name = False
        elif match.group(2) is not None:
            if expect_name:
                break
            parts.append(int(match.group(2)))
        else:
            if expect_name:
                break
            expect_name = True
    if not parts or position != len(path) or expect_name or not isinstance(parts[0], str):
        raise _argument_error(path, "a field path such as campaigns[0].bid or channels[1].competition.median", path)
    return parts


def set_path(document: Dict[str, Any], path: str, value: Any) -> None:
    """Sets the field at `path` in a scenario dict. Every step but the last
    must exist (ConfigError naming the path otherwise); the last may be a new
    key of an existing mapping (the scenario's validation then checks it)."""
    parts = parse_path(path)
    node: Any = document
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        walked = path if last else _format_path(parts[: depth + 1])
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                size = f"a list of {len(node)}" if isinstance(node, list) else type(node).__name__
                raise _argument_error(path, f"an existing list item at {walked}", size)
        elif not isinstance(node, dict) or (not last and part not in node):
            raise _argument_error(path, f"an existing mapping at {_format_path(parts[:depth]) or 'the top'} "
                                        f"with the key '{part}'", "nothing there" if isinstance(node, dict) else node)
        if last:
            node[part] = value
        else:
            node = node[part]


def _format_path(parts: Sequence[Union[str, int]]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _merge(document: Dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if "." in key or "[" in key:
            set_path(document, key, copy.deepcopy(value))
        elif isinstance(value, Mapping) and isinstance(document.get(key), dict):
            _merge(document[key], value)
        else:
            document[key] = copy.deepcopy(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return _json_default(value)


def _scenario_text(scenario: ScenarioLike) -> Tuple[str, str]:
    """(text, source name) of a scenario: a file is read here, so that the
    same text reaches local threads and remote Dask workers."""
    text, source, path = _scenario_args(scenario)
    if path is not None:
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("utf-8"), path
        except OSError as e:
            raise IoError(f"cannot open scenario file '{path}': {e.strerror or e}") from e
        except UnicodeDecodeError as e:
            raise ConfigError(issues=[{"file": path, "path": "", "line": 0, "expected": "UTF-8 text",
                                       "found": f"invalid UTF-8 at byte {e.start}"}]) from e
    if text is None:
        return _adsim.default_scenario_text(), "<default>"
    return text, source


def _scenario_dict(text: str, source: str) -> Dict[str, Any]:
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    _adsim.validate(text, source, None)  # the scenario's own errors first, with its lines
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ConfigError(issues=[{"file": source, "path": "", "line": 1, "expected": "a scenario mapping",
                                   "found": type(document).__name__}])
    return document


class _Patch:
    """A variation as a function of the scenario dict (a copy) to the varied dict."""

    def __init__(self, variation: VariationLike) -> None:
        self.variation = variation

    def __call__(self, document: Dict[str, Any]) -> Any:
        if callable(self.variation):
            changed = self.variation(document)
            return document if changed is None else changed
        _merge(document, self.variation)
        return document


class _Variation:
    """One scenario of the sweep: its name, text, and the grid values that made it."""

    def __init__(self, name: str, text: str, source: str, grid: Dict[str, Any]) -> None:
        self.name, self.text, self.source, self.grid = name, text, source, grid


def _variations(scenario: ScenarioLike, grid: Optional[Mapping[str, Sequence[Any]]],
                variations: Optional[Mapping[str, VariationLike]], oracle: bool) -> List[_Variation]:
    text, source = _scenario_text(scenario)
    if not grid and not variations and not oracle:
        return [_Variation("base", text, source, {})]
    base = _scenario_dict(text, source)
    if oracle:
        base["oracle"] = True
    patches: List[Tuple[str, _Patch, Dict[str, Any]]] = []
    if variations:
        for name, variation in variations.items():
            if not isinstance(name, str) or not name:
                raise _argument_error("variations", "names that are non-empty strings", name)
            if not callable(variation) and not isinstance(variation, Mapping):
                raise _argument_error(f"variations[{name!r}]", "a dict patch or a callable", variation)
            patches.append((name, _Patch(variation), {}))
    else:
        patches.append(("base", _Patch({}), {}))
    grid_items = list((grid or {}).items())
    for path, values in grid_items:
        parse_path(path)
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable) or not list(values):
            raise _argument_error(f"grid[{path!r}]", "a non-empty list of values", values)
    points: List[Dict[str, Any]] = [{}]
    for path, values in grid_items:
        points = [dict(point, **{path: value}) for point in points for value in list(values)]
    out: List[_Variation] = []
    for name, apply, _ in patches:
        for point in points:
            document = apply(copy.deepcopy(base))
            if not isinstance(document, dict):
                raise _argument_error(f"variations[{name!r}]", "a callable returning the scenario dict (or None)",
                                      document)
            for path, value in point.items():
                set_path(document, path, value)
            label = ", ".join(f"{path}={value}" for path, value in point.items())
            full = name if not label else (label if name == "base" and not variations else f"{name}, {label}")
            body = json.dumps(document, default=_plain)
            out.append(_Variation(full, body, f"{source} ({full})" if full != "base" else source, point))
    names = [v.name for v in out]
    if len(set(names)) != len(names):
        raise _argument_error("variations", "distinct variation names", names)
    return out


# ---- one run's summary (also on Dask workers) --------------------------------


def regret_share(regret: Any, oracle: Any) -> np.ndarray:
    """Regret as a share of the oracle: regret / oracle, elementwise, NaN
    where the oracle reached nothing (0 matches the oracle, 1 reaches
    nothing, negative beats it)."""
    regret = np.asarray(regret, dtype=float)
    oracle = np.asarray(oracle, dtype=float)
    out = np.full(np.broadcast(regret, oracle).shape, np.nan)
    np.divide(regret, oracle, out=out, where=oracle > 0)
    return out


def _summarize(result: Result, run: int, variation: str, seed: int, grid: Mapping[str, Any]
               ) -> Tuple[Dict[str, Any], pd.DataFrame, Optional[pd.DataFrame]]:
    """(runs row, kpis rows, monitor score rows) of one run."""
    row: Dict[str, Any] = {"run": run, "variation": variation, "seed": seed, "fingerprint": result.fingerprint}
    row.update(grid)
    if result.has_table("sampled_parameters"):
        sampled = result.raw("sampled_parameters")
        for field, value in zip(sampled["field"], sampled["value"]):
            row[str(field)] = float(value)
    kpis = result.kpis().copy()
    names = kpis["campaign_name"].astype(str)
    codes = kpis["campaign"].to_numpy()
    kpis = kpis.drop(columns=["campaign", "campaign_name"])
    if result.has_table("oracle"):
        oracle = pd.DataFrame(result.raw("oracle")).set_index("campaign")
        for column in oracle.columns:
            kpis[column] = oracle[column].reindex(codes).to_numpy()
        # The regret as a share of what the oracle reached (NaN when it reached nothing).
        kpis["regret_conversions_share"] = regret_share(kpis["regret_conversions"], kpis["oracle_conversions"])
        kpis["regret_value_share"] = regret_share(kpis["regret_value"], kpis["oracle_value"])
    if result.has_table("campaign_truth"):
        truth = pd.DataFrame(result.raw("campaign_truth")).set_index("campaign")
        kpis["true_conversions"] = truth["conversions"].reindex(codes).to_numpy()
        kpis["true_value"] = truth["conversion_value"].reindex(codes).to_numpy()
    from ._risk import run_risk_columns  # the risk metrics of adsim.risk, per run

    risk = run_risk_columns(result).reindex(names.to_numpy())
    for column in risk.columns:
        kpis[column] = risk[column].to_numpy()
    kpis.insert(0, "campaign", names.to_numpy())
    kpis.insert(0, "seed", seed)
    kpis.insert(0, "variation", variation)
    kpis.insert(0, "run", run)
    scores: Optional[pd.DataFrame] = None
    if result.has_table("monitor_scores"):
        frame = pd.DataFrame(result.raw("monitor_scores"))
        if len(frame):
            frame.insert(0, "seed", seed)
            frame.insert(0, "variation", variation)
            frame.insert(0, "run", run)
            scores = frame
    return row, kpis, scores


def _dask_task(text: str, source: str, run: int, variation: str, seed: int, grid: Dict[str, Any],
               images: bool) -> Tuple[Dict[str, Any], pd.DataFrame, Optional[pd.DataFrame], Optional[bytes]]:
    """One run on a Dask worker (an importable function: workers may be other
    processes or machines): the run's summary, and the bytes of its result
    file when the sweep keeps results or writes a file."""
    out = _adsim.run_many([(text, source, None)], [(0, seed)], 1, None, False, images)
    raw, image = out[0] if images else (out[0], None)
    row, kpis, scores = _summarize(Result(raw), run, variation, seed, grid)
    return row, kpis, scores, image


# ---- the sweep file ---------------------------------------------------------


def _run_group(run: int) -> str:
    return f"runs/{run:06d}"


def _write_table(parent: Any, name: str, frame: pd.DataFrame, description: str) -> None:
    group = parent.create_group(name)
    names = [str(c) for c in frame.columns]
    bad = [c for c in names if "," in c]
    if bad:
        raise ValueError(f"column names of a sweep table may not contain ',': {bad}")
    group.attrs["columns"] = np.bytes_(",".join(names).encode("utf-8"))
    group.attrs["description"] = np.bytes_(description.encode("utf-8"))
    for column, key in zip(frame.columns, names):
        series = frame[column]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_integer_dtype(series):
            data = series.to_numpy(dtype=np.int64)
        elif pd.api.types.is_numeric_dtype(series):
            data = series.to_numpy(dtype=np.float64)
        else:
            encoded = [("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))
                       .encode("utf-8") for value in series.tolist()]
            width = max([len(e) for e in encoded] + [1])
            data = np.array(encoded, dtype=f"S{width}")
        group.create_dataset(key, data=data)


class _SweepWriter:
    """The sweep file being written: a temporary file next to `path`, renamed
    into place by close(True); removed by close(False) (a failed sweep leaves
    no file that looks whole)."""

    def __init__(self, path: str) -> None:
        import h5py

        self.path = path
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise IoError(f"cannot write the sweep to '{path}': it is a directory")
        if not os.path.isdir(folder):
            raise IoError(f"cannot write the sweep to '{path}': the folder '{folder}' does not exist")
        self.temporary = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
        try:
            self.file = h5py.File(self.temporary, "w")
        except OSError as e:
            raise IoError(f"cannot write the sweep to '{path}': {e}") from e
        self.file.attrs["kind"] = np.bytes_(SWEEP_KIND.encode())
        self.file.attrs["sweep_format"] = np.int64(SWEEP_FORMAT)
        self.file.attrs["adsim_version"] = np.bytes_(_adsim.__version__.encode())
        self.runs = self.file.create_group("runs")

    def add_run(self, run: int, image: bytes) -> None:
        """Copies a single-run file (its bytes) into the group runs/NNNNNN:
        the same attributes, scenario dataset and tables as the file itself."""
        import h5py

        with h5py.File(io.BytesIO(image), "r") as single:
            group = self.file.create_group(_run_group(run))
            for key, value in single.attrs.items():
                group.attrs[key] = value
            for key in single.keys():
                single.copy(single[key], group, name=key)

    def close(self, complete: bool, runs: Optional[pd.DataFrame] = None, kpis: Optional[pd.DataFrame] = None,
              monitor_scores: Optional[pd.DataFrame] = None) -> None:
        try:
            if complete:
                assert runs is not None and kpis is not None
                tables = self.file.create_group("sweep")
                tables.attrs["schema_version"] = np.int64(_adsim.schema_version)
                tables.attrs["runs"] = np.int64(len(runs))
                index = runs.copy()
                index["group"] = [_run_group(int(r)) for r in index["run"]]
                _write_table(tables, "index", index, "One row per run: its variation, seed, fingerprint, grid and "
                                                     "sampled values, and the group holding its result")
                _write_table(tables, "kpis", kpis, "One row per run and campaign: Result.kpis() and truth")
                if monitor_scores is not None and len(monitor_scores):
                    _write_table(tables, "monitor_scores", monitor_scores, "Each run's monitor scores")
            self.file.close()
            if complete:
                os.replace(self.temporary, self.path)
        finally:
            if os.path.exists(self.temporary):
                os.unlink(self.temporary)


def is_sweep_file(path: PathLike) -> bool:
    """True if `path` is a readable HDF5 file whose root says it is a sweep."""
    try:
        import h5py

        with h5py.File(os.fspath(path), "r") as handle:
            kind = handle.attrs.get("kind", b"")
            return (kind.decode() if isinstance(kind, bytes) else str(kind)) == SWEEP_KIND
    except Exception:  # noqa: BLE001 - anything unreadable is read (and reported) as a result file
        return False


def _frame(raw: Dict[str, Any], name: str) -> Optional[pd.DataFrame]:
    for table in raw["tables"]:
        if table["name"] == name:
            return pd.DataFrame({c["name"]: c["data"] for c in table["columns"]})
    return None


def load_sweep(path: PathLike) -> "Sweep":
    """Opens a sweep file: reads its index and KPI tables now and each run's
    result only when :meth:`Sweep.result` asks for it."""
    path = os.fspath(path)
    raw = read_raw(path, group="sweep")
    runs, kpis = _frame(raw, "index"), _frame(raw, "kpis")
    if runs is None or kpis is None:
        raise DataError(f"'{path}' is not a complete adsim sweep file (no 'sweep/index' or 'sweep/kpis' table)")
    runs = runs.drop(columns=["group"])
    return Sweep(runs, kpis, _frame(raw, "monitor_scores"), results=None, path=path)


# ---- the Sweep ---------------------------------------------------------------


class Sweep:
    """The outcome of :func:`adsim.sweep` or :func:`adsim.load` of a sweep file.

    * ``runs``: one row per run: run, variation, seed, fingerprint, then one
      column per grid field and per sampled field (its path).
    * ``kpis``: one row per run and campaign: run, variation, seed, campaign
      (its name), the columns of :meth:`Result.kpis`, the oracle's columns
      and regret when the oracle ran (with regret_conversions_share and
      regret_value_share, the regret / the oracle's), true_conversions / true_value
      (every conversion made, reported or not, from ``campaign_truth``), and
      the run's risk events as adsim.risk counts them: goal, goal_value,
      overspend, miss_goal, budget_exhausted_days, first_exhausted_hour.
    * ``monitor_scores``: each run's monitor scores (None without monitors).
    * :meth:`result` gives one run's full :class:`Result` when the sweep kept
      results (``keep="results"``) or has a file (``output=``, :meth:`save`).
    """

    def __init__(self, runs: pd.DataFrame, kpis: pd.DataFrame, monitor_scores: Optional[pd.DataFrame],
                 results: Optional[Dict[int, Result]], path: Optional[str] = None) -> None:
        self.runs = runs
        self.kpis = kpis
        self.monitor_scores = monitor_scores
        self._results = results
        #: The sweep file this sweep was written to or loaded from, if any.
        self.path = path

    def __len__(self) -> int:
        return len(self.runs)

    def result(self, run: int) -> Result:
        """The full result of run `run` (the ``run`` column of ``runs``)."""
        if run not in set(self.runs["run"].tolist()):
            raise KeyError(f"no run {run} in this sweep (runs 0..{len(self.runs) - 1})")
        if self._results is not None and run in self._results:
            return self._results[run]
        if self.path is not None:
            raw = read_raw(self.path, group=_run_group(run))
            return Result(raw)
        raise ValueError("this sweep kept only summaries: run it with keep='results' or output=PATH to get results")

    def save(self, path: PathLike) -> str:
        """Writes the sweep (every run's result in its group, the index and the
        KPI tables) to one HDF5 file; needs the results (keep="results", or a
        sweep loaded from or written to a file)."""
        path = os.fspath(path)
        if self._results is None and self.path is None:
            raise ValueError("this sweep kept only summaries: run it with keep='results' or output=PATH to save it")
        writer = _SweepWriter(path)
        complete = False
        try:
            for run in self.runs["run"].tolist():
                writer.add_run(int(run), _adsim.results_image(self.result(int(run))._raw))
            complete = True
        except Error as e:
            note_existing_output(e, path)
            raise
        finally:
            writer.close(complete, self.runs, self.kpis, self.monitor_scores)
        self.path = path
        return path

    def report(self, path: PathLike) -> str:
        """Writes the HTML report of this sweep (strategy comparison and risk
        tables with intervals, docs/report.md) to `path` and returns the path;
        as ``adsim report SWEEP.h5``. Needs the runs' results (a sweep file or
        keep="results")."""
        from .report import write_report

        return write_report(self, path)

    @property
    def plot(self) -> "SweepPlot":
        """Plots of this sweep: ``plot.compare(metric, by)``."""
        return SweepPlot(self)

    def __repr__(self) -> str:
        variations = self.runs["variation"].nunique() if len(self.runs) else 0
        where = f", path={self.path!r}" if self.path else ""
        return f"<adsim.Sweep runs={len(self.runs)} variations={variations}{where}>"


class SweepPlot:
    """``sweep.plot``: matplotlib plots of a :class:`Sweep`."""

    def __init__(self, sweep: Sweep) -> None:
        self._sweep = sweep

    def compare(self, metric: str = "cpa", by: str = "variation", campaign: Optional[str] = None,
                baseline: Any = None, confidence: float = 0.95, ax: Any = None) -> Any:
        """Mean of `metric` (a column of ``kpis``) per value of `by` (a column
        of ``runs``, e.g. "variation" or a grid field), one series per
        campaign (or only `campaign`). Error bars are the `confidence` interval
        of the paired difference to `baseline` (default: the first value of
        `by`) over the seeds both share, drawn around each mean: a bar that
        does not reach the baseline's dashed line is a significant change.
        Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt
        from scipy import stats  # type: ignore[import]

        kpis = self._sweep.kpis
        if metric not in kpis.columns:
            raise ValueError(f"compare: unknown metric '{metric}'; one of {list(kpis.columns[4:])}")
        if by not in self._sweep.runs.columns:
            raise ValueError(f"compare: unknown by '{by}'; one of {list(self._sweep.runs.columns)}")
        frame = kpis.merge(self._sweep.runs[["run", by]], on="run", suffixes=("_kpi", "")) if by not in kpis.columns \
            else kpis
        campaigns = [campaign] if campaign is not None else list(dict.fromkeys(frame["campaign"]))
        if campaign is not None and campaign not in set(frame["campaign"]):
            raise ValueError(f"compare: unknown campaign '{campaign}'; one of {sorted(set(frame['campaign']))}")
        levels = list(dict.fromkeys(self._sweep.runs[by]))
        base = levels[0] if baseline is None else baseline
        if base not in levels:
            raise ValueError(f"compare: baseline {base!r} is not a value of '{by}': {levels}")
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(levels) + 2), 3.5))
        width = 0.8 / max(len(campaigns), 1)
        for position, name in enumerate(campaigns):
            rows = frame[frame["campaign"] == name]
            table = rows.pivot_table(index="seed", columns=by, values=metric, aggfunc="mean")
            means, errors = [], []
            for level in levels:
                values = table[level] if level in table.columns else pd.Series(dtype=float)
                means.append(float(values.mean()))
                pairs = (table[level] - table[base]).dropna() if level in table.columns else pd.Series(dtype=float)
                if level == base or len(pairs) < 2:
                    errors.append(0.0)
                else:
                    half = stats.t.ppf(0.5 + confidence / 2, len(pairs) - 1) * pairs.std(ddof=1) / np.sqrt(len(pairs))
                    errors.append(float(half))
            x = np.arange(len(levels)) - 0.4 + width * (position + 0.5)
            line = ax.errorbar(x, means, yerr=errors, fmt="o", capsize=4, label=str(name))
            ax.axhline(means[levels.index(base)], color=line[0].get_color(), linestyle="--", linewidth=0.8)
        ax.set_xticks(np.arange(len(levels)))
        ax.set_xticklabels([str(level) for level in levels], rotation=20, ha="right")
        ax.set_xlabel(by)
        ax.set_ylabel(f"mean {metric} over seeds")
        ax.set_title(f"{metric} by {by}: {int(confidence * 100)}% paired intervals against {base}")
        if len(campaigns) > 1:
            ax.legend(title="campaign", fontsize="small")
        return ax


# ---- adsim.sweep -------------------------------------------------------------


class _Bar:
    """The ``progress=True`` bar of a sweep: tqdm.auto (a widget in Jupyter,
    text on stderr elsewhere), in runs."""

    def __init__(self, total: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="sweep", unit="run", file=sys.stderr)
        self.done = 0

    def to(self, done: int) -> None:
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        self.bar.close()


def sweep(
    scenario: ScenarioLike = None,
    seeds: SeedsLike = 10,
    grid: Optional[Mapping[str, Sequence[Any]]] = None,
    variations: Optional[Mapping[str, VariationLike]] = None,
    workers: int = 1,
    client: Any = None,
    progress: Union[bool, Callable[[int, int], Any]] = True,
    keep: str = "summary",
    output: Optional[PathLike] = None,
    oracle: bool = False,
) -> Sweep:
    """Runs a scenario on many seeds (and variations) and returns a :class:`Sweep`.

    * `scenario`: as :func:`adsim.run` takes it (None, a path, YAML/JSON text, a dict).
    * `seeds`: an int N (seeds 1..N), a range or list of ints, or "1-100".
    * `grid`: ``{"campaigns[0].bid": [0.004, 0.005], ...}``: the cartesian
      product of values for field paths (the syntax of adsim's error messages).
    * `variations`: ``{"name": patch_or_callable}``; a patch is a nested dict
      merged into the scenario (keys containing "." or "[" are field paths), a
      callable receives the scenario dict and returns it modified. With a
      grid too, every variation gets every grid point.
    * Every (variation, seed) is one run; runs are numbered variation-major.
    * `workers`: C++ threads (local). `client`: a ``distributed.Client``: the
      runs become Dask tasks on its workers instead (scenario text and seed
      are sent; summaries, and file bytes when needed, come back).
    * `progress`: True for a tqdm bar, or a callable (done, total).
    * `keep`: "summary" (only ``runs``, ``kpis``, ``monitor_scores``) or
      "results" (also every run's :class:`Result` in memory).
    * `output`: write the sweep file there as the runs finish (a temporary
      file, renamed when the sweep completes; removed if it fails).
    * `oracle`: also run each campaign's oracle and add regret columns.

    Scenarios with Python controllers are refused (ConfigError): a sweep runs
    them on C++ threads. Each run equals ``adsim.run(variation, seed=seed)``.
    """
    if keep not in ("summary", "results"):
        raise ValueError(f"keep must be 'summary' or 'results', not {keep!r}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise _argument_error("workers", "an int >= 1", workers)
    if progress not in (True, False, None) and not callable(progress):
        raise TypeError("progress must be a bool or a callable taking (done, total)")
    seed_list = parse_seeds(seeds)
    cases = _variations(scenario, grid, variations, oracle)
    plan = [(index, seed) for index in range(len(cases)) for seed in seed_list]
    total = len(plan)
    output_path = os.fspath(output) if output is not None else None
    writer = _SweepWriter(output_path) if output_path else None
    images = writer is not None or (client is not None and keep == "results")
    bar = _Bar(total) if progress is True else None
    callback = progress if callable(progress) else None

    def report(done: int) -> None:
        if bar is not None:
            bar.to(done)
        elif callback is not None:
            callback(done, total)
    rows: List[Dict[str, Any]] = [{}] * total
    kpi_parts: List[Optional[pd.DataFrame]] = [None] * total
    score_parts: List[Optional[pd.DataFrame]] = [None] * total
    results: Optional[Dict[int, Result]] = {} if keep == "results" else None
    complete = False

    def take(run: int, row: Dict[str, Any], kpis: pd.DataFrame, scores: Optional[pd.DataFrame],
             image: Optional[bytes], result: Optional[Result]) -> None:
        rows[run], kpi_parts[run], score_parts[run] = row, kpis, scores
        if writer is not None and image is not None:
            writer.add_run(run, image)
        if results is not None:
            results[run] = result if result is not None else Result(read_raw_image(image))

    try:
        if client is not None:
            from distributed import as_completed

            futures = {}
            for run, (index, seed) in enumerate(plan):
                case = cases[index]
                future = client.submit(_dask_task, case.text, case.source, run, case.name, seed, case.grid, images,
                                       key=f"adsim-sweep-{os.getpid()}-{id(rows)}-{run}", pure=False)
                futures[future] = run
            done = 0
            for future in as_completed(list(futures)):
                row, kpis, scores, image = future.result()
                take(futures[future], row, kpis, scores, image, None)
                done += 1
                report(done)
        else:
            in_main = threading.current_thread() is threading.main_thread()
            scenarios: List[Tuple[Optional[str], str, Optional[str]]] = [(case.text, case.source, None)
                                                                          for case in cases]

            def consume(run: int, raw: Dict[str, Any], image: Optional[bytes] = None) -> None:
                # On this thread, in run order, while the C++ workers go on
                # with the next runs: the summaries overlap the simulations.
                index, seed = plan[run]
                result = Result(raw)
                row, kpis, scores = _summarize(result, run, cases[index].name, seed, cases[index].grid)
                take(run, row, kpis, scores, image, result)

            _adsim.run_many(scenarios, plan, int(workers), report, in_main, images, consume)
            report(total)
        runs_frame = pd.DataFrame(rows)
        kpi_frame = pd.concat([k for k in kpi_parts if k is not None], ignore_index=True)
        scored = [s for s in score_parts if s is not None]
        score_frame = pd.concat(scored, ignore_index=True) if scored else None
        complete = True
    except Error as e:
        if output_path:
            note_existing_output(e, output_path)
        raise
    finally:
        if bar is not None:
            bar.close()
        if writer is not None:
            if complete:
                writer.close(True, runs_frame, kpi_frame, score_frame)
            else:
                writer.close(False)
    return Sweep(runs_frame, kpi_frame, score_frame, results, path=output_path)


def read_raw_image(image: Optional[bytes]) -> Dict[str, Any]:
    """The raw layout of a result file given as bytes (from a Dask worker)."""
    if image is None:
        raise DataError("a sweep run came back without its result")
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".h5") as handle:
        handle.write(image)
        handle.flush()
        return read_raw(handle.name)


__all__ = ["sweep", "Sweep", "SweepPlot", "load_sweep", "is_sweep_file", "parse_seeds", "parse_path", "set_path"]
