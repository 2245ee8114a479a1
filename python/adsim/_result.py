"""The Result of a run: every table as a pandas DataFrame, plus attributes.

Layout (documented in docs/python.md):

* index columns keep their integer codes (``campaign``, ``channel``,
  ``segment``, ``creative``, and ``winner`` in ``events``) and each gets a
  readable twin ``<column>_name`` (a pandas Categorical; NaN where the code is
  -1), placed right after it;
* every time column (unit ``us``: int64 microseconds since the scenario start,
  e.g. ``bucket_start``, ``time``, ``day_start``) keeps its integer value and
  gets a twin ``<column>_at`` (datetime64) computed from the ``start``
  attribute, placed right after it.

This module needs numpy and pandas only; save() and summary() call the
compiled module so that files and summaries are byte-for-byte those of the
command line.
"""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ._errors import DataError, Error
from ._io import PathLike, note_existing_output, read_raw, table_sort_key

#: The index columns that get a readable ``<column>_name`` twin, and the
#: dictionary table that names them.
_NAMED_INDEX = {"campaign": "campaigns", "winner": "campaigns", "channel": "channels", "segment": "segments"}
#: Dictionary tables: they *are* the names, so they get no name twins of their own codes.
_DICTIONARIES = ("campaigns", "channels", "segments")
_COUNTERS = ("opportunities", "bids", "wins", "impressions", "clicks", "conversions", "conversion_value", "spend")


def _normalize(raw: Dict[str, Any]) -> Dict[str, Any]:
    """Puts both sources (a run, a file) in one shape: numpy arrays, canonical table order."""
    tables = []
    for t in raw["tables"]:
        columns = []
        for c in t["columns"]:
            data = c["data"]
            if not isinstance(data, np.ndarray):
                data = np.array(list(data), dtype=object) if len(data) else np.array([], dtype=object)
            columns.append({"name": c["name"], "unit": c["unit"], "description": c["description"], "data": data})
        tables.append({"name": t["name"], "description": t["description"], "columns": columns})
    tables.sort(key=lambda t: table_sort_key(t["name"]))
    return {"tables": tables, "attrs": dict(raw["attrs"])}


class Result:
    """The outcome of one run, from :func:`adsim.run` or :func:`adsim.load`.

    Tables are available as properties (``aggregates``, ``market``,
    ``actions``, ``conversions``, ``daily``, ``events``, ``campaigns``,
    ``channels``, ``segments``, ``creatives``, ``truth_rates``,
    ``truth_shocks``) or by name with :meth:`table`. DataFrames are built on
    first access and cached: treat them as read-only (``.copy()`` before
    modifying).
    """

    def __init__(self, raw: Dict[str, Any], path: Optional[str] = None) -> None:
        self._raw = _normalize(raw)
        self._by_name = {t["name"]: t for t in self._raw["tables"]}
        self._frames: Dict[str, pd.DataFrame] = {}
        #: The file this result was loaded from or saved to, if any.
        self.path: Optional[str] = path

    # ---- attributes -----------------------------------------------------

    @property
    def attrs(self) -> Dict[str, Any]:
        """File attributes: adsim_version, schema_version, boost_version, seed,
        scenario (the exact text run), scenario_name, scenario_source, start,
        duration_us, bucket_us, control_cycle_us, opportunities,
        events_truncated, fingerprint, wall_time_s."""
        return self._raw["attrs"]

    @property
    def seed(self) -> int:
        return int(self.attrs["seed"])

    @property
    def fingerprint(self) -> str:
        """64-bit hash of every table's content (not of wall time): equal runs have equal fingerprints."""
        return str(self.attrs["fingerprint"])

    @property
    def scenario(self) -> str:
        """The exact scenario text that was run (YAML, or JSON for a dict)."""
        return str(self.attrs.get("scenario", ""))

    @property
    def start(self) -> pd.Timestamp:
        """Calendar time of simulated time 0 (the scenario's ``start``)."""
        return pd.Timestamp(self.attrs.get("start", "1970-01-01T00:00:00"))

    @property
    def duration(self) -> pd.Timedelta:
        return pd.Timedelta(int(self.attrs.get("duration_us", 0)), unit="us")

    def to_datetime(self, us: Union[int, Sequence[int], np.ndarray, pd.Series]) -> Any:
        """Simulated time (int64 microseconds since the start) -> calendar time.

        A scalar gives a Timestamp, an array a DatetimeIndex, a Series a Series.
        """
        if isinstance(us, pd.Series):
            return self.start + pd.to_timedelta(us.astype("int64"), unit="us")
        if np.ndim(us) == 0:
            return self.start + pd.Timedelta(int(us), unit="us")  # type: ignore[arg-type]  # a 0-d value
        return self.start + pd.to_timedelta(np.asarray(us, dtype=np.int64), unit="us")

    # ---- tables ---------------------------------------------------------

    @property
    def tables(self) -> List[str]:
        """Names of the tables in this result."""
        return [t["name"] for t in self._raw["tables"]]

    def has_table(self, name: str) -> bool:
        return name in self._by_name

    def description(self, name: str) -> str:
        """One-line description of table `name`."""
        return str(self._table(name)["description"])

    def columns(self, name: str) -> pd.DataFrame:
        """Column metadata of table `name` as stored: name, unit, dtype, description."""
        t = self._table(name)
        return pd.DataFrame(
            {
                "column": [c["name"] for c in t["columns"]],
                "unit": [c["unit"] for c in t["columns"]],
                "dtype": [str(c["data"].dtype) if c["data"].dtype != object else "str" for c in t["columns"]],
                "description": [c["description"] for c in t["columns"]],
            }
        )

    def raw(self, name: str) -> Dict[str, np.ndarray]:
        """Table `name` as stored: column name -> numpy array (no name or datetime twins)."""
        return {c["name"]: c["data"] for c in self._table(name)["columns"]}

    def table(self, name: str) -> pd.DataFrame:
        """Table `name` as a DataFrame (see the module docstring for the layout)."""
        if name not in self._frames:
            self._frames[name] = self._build(name)
        return self._frames[name]

    def _table(self, name: str) -> Dict[str, Any]:
        if name not in self._by_name:
            raise KeyError(f"no table '{name}' in this result; tables: {', '.join(self.tables)}")
        return self._by_name[name]

    def _names(self, dictionary: str) -> List[str]:
        if dictionary not in self._by_name:
            return []
        return [str(x) for x in self.raw(dictionary)["name"]]

    @staticmethod
    def _categorical(codes: np.ndarray, names: List[str]) -> pd.Categorical:
        codes = np.asarray(codes, dtype=np.int64)
        if len(set(names)) == len(names):
            valid = (codes >= 0) & (codes < len(names))
            return pd.Categorical.from_codes(np.where(valid, codes, -1), categories=names)
        lookup = np.array(names + [None], dtype=object)  # duplicate names: categories by value
        return pd.Categorical(lookup[np.where((codes >= 0) & (codes < len(names)), codes, len(names))])

    def _creative_names(self, campaigns: np.ndarray, creatives: np.ndarray) -> pd.Categorical:
        names: Dict[tuple, str] = {}
        if "creatives" in self._by_name:
            cr = self.raw("creatives")
            for c, i, n in zip(cr["campaign"].tolist(), cr["creative"].tolist(), cr["name"].tolist()):
                names[(c, i)] = str(n)
        categories = list(dict.fromkeys(names.values()))
        values = [names.get(k) for k in zip(np.asarray(campaigns).tolist(), np.asarray(creatives).tolist())]
        return pd.Categorical(values, categories=categories)

    def _build(self, name: str) -> pd.DataFrame:
        t = self._table(name)
        data = self.raw(name)
        out: Dict[str, Any] = {}
        start = self.start
        for c in t["columns"]:
            cname, values = c["name"], c["data"]
            out[cname] = values
            if c["unit"] == "us" and values.dtype.kind in "iu":
                out[cname + "_at"] = start + pd.to_timedelta(values.astype(np.int64), unit="us")
            if name in _DICTIONARIES:
                continue
            if cname in _NAMED_INDEX and values.dtype.kind in "iu":
                out[cname + "_name"] = self._categorical(values, self._names(_NAMED_INDEX[cname]))
            elif cname == "creative" and values.dtype.kind in "iu":
                owner = data.get("campaign", data.get("winner"))
                if owner is not None:
                    out[cname + "_name"] = self._creative_names(owner, values)
        return pd.DataFrame(out, index=pd.RangeIndex(len(next(iter(data.values()))) if data else 0))

    # Named tables as properties (None for a table the run did not record).
    def _maybe(self, name: str) -> Optional[pd.DataFrame]:
        return self.table(name) if name in self._by_name else None

    @property
    def aggregates(self) -> pd.DataFrame:
        """Per bucket x campaign x channel x segment x creative counters (rows with activity)."""
        return self.table("aggregates")

    @property
    def market(self) -> pd.DataFrame:
        """All opportunities per bucket x channel x segment, whoever bid."""
        return self.table("market")

    @property
    def actions(self) -> pd.DataFrame:
        """Every action proposed by a controller, with why it was taken (reason, and as data: metric,
        observed, threshold) and what the guardrails did (status, note)."""
        return self.table("actions")

    @property
    def auction_insights(self) -> Optional[pd.DataFrame]:
        """Per day x campaign x channel auction insights: impression share, share lost to budget and
        to rank, top-of-page and absolute-top rates, average position, overlap rate, position-above
        rate and outranking share against the channel's competitors (docs/results.md), or None for a
        file written before schema 4."""
        return self._maybe("auction_insights")

    @property
    def reviews(self) -> Optional[pd.DataFrame]:
        """Every action held for review and the reviewer's decision (held_time, due, decided, decision,
        new), or None when nothing could decide held actions (no guardrails.review, no reviewer)."""
        return self._maybe("reviews")

    @property
    def conversions(self) -> pd.DataFrame:
        """Every conversion the simulated users made (truth), reported or not."""
        return self.table("conversions")

    @property
    def daily(self) -> pd.DataFrame:
        """Per day x campaign budget and spend (the ledger)."""
        return self.table("daily")

    @property
    def events(self) -> Optional[pd.DataFrame]:
        """Opportunity-level log, or None unless the scenario set ``recording: {events: true}``."""
        return self._maybe("events")

    @property
    def alerts(self) -> pd.DataFrame:
        """Every alert the monitors raised."""
        return self.table("alerts")

    @property
    def monitor_scores(self) -> pd.DataFrame:
        """Each monitor scored against the injected shocks: recall, precision, delays, false alarms."""
        return self.table("monitor_scores")

    @property
    def experiments(self) -> pd.DataFrame:
        """One row per experiment arm (arm 0 is the control): campaign, weight, split, paused_at_end."""
        return self.table("experiments")

    @property
    def experiment_looks(self) -> pd.DataFrame:
        """Every look of every experiment analysis, per treatment arm (docs/strategies/experiments/ab_test.md)."""
        return self.table("experiment_looks")

    @property
    def campaigns(self) -> pd.DataFrame:
        return self.table("campaigns")

    @property
    def channels(self) -> pd.DataFrame:
        return self.table("channels")

    @property
    def segments(self) -> pd.DataFrame:
        return self.table("segments")

    @property
    def creatives(self) -> pd.DataFrame:
        return self.table("creatives")

    @property
    def truth_rates(self) -> pd.DataFrame:
        """True CTR/CVR per cell (never shown to strategies)."""
        return self.table("truth_rates")

    @property
    def truth_shocks(self) -> pd.DataFrame:
        """Injected shocks (ground truth for monitors)."""
        return self.table("truth_shocks")

    # ---- KPIs -----------------------------------------------------------

    def kpis(self, by: Union[str, Iterable[str]] = "campaign") -> pd.DataFrame:
        """KPIs summed over the run, one row per group.

        `by` is any of ``campaign`` (default), ``channel``, ``segment``,
        ``creative`` (implies campaign) and ``bucket_start``, or a list of them.
        Columns: the group's codes and names, opportunities, bids, wins,
        impressions, clicks, conversions (reported), spend, value, then the
        ratios ctr = clicks/impressions, cvr = conversions/clicks, cpc =
        spend/clicks, cpm = 1000 spend/impressions, cpa = spend/conversions,
        roas = value/spend (NaN when the denominator is 0). Grouping by
        campaign alone also gives budget, what the campaign could spend (the
        sum over days of the daily budget in force at the end of each day,
        capped by the total budget; inf if it has neither), and budget_used =
        spend/budget (NaN if the budget is infinite or 0).
        """
        keys = [by] if isinstance(by, str) else list(by)
        allowed = {"campaign", "channel", "segment", "creative", "bucket_start"}
        bad = [k for k in keys if k not in allowed]
        if bad or not keys:
            raise ValueError(f"kpis(by=...): unknown key(s) {bad}; use any of {sorted(allowed)}")
        if "creative" in keys and "campaign" not in keys:
            keys = ["campaign"] + keys
        agg = pd.DataFrame(self.raw("aggregates"))
        sums = agg.groupby(keys, sort=True)[list(_COUNTERS)].sum()
        if keys == ["campaign"]:  # every campaign, even one that never bid
            n = len(self.raw("campaigns")["name"])
            sums = sums.reindex(pd.RangeIndex(n, name="campaign"), fill_value=0)
        df = sums.reset_index().rename(columns={"conversion_value": "value"})
        for k in ("campaign", "channel", "segment"):
            if k in keys:
                df.insert(df.columns.get_loc(k) + 1, k + "_name", self._categorical(df[k].to_numpy(), self._names(_NAMED_INDEX[k])))
        if "creative" in keys:
            df.insert(df.columns.get_loc("creative") + 1, "creative_name",
                      self._creative_names(df["campaign"].to_numpy(), df["creative"].to_numpy()))
        if "bucket_start" in keys:
            df.insert(df.columns.get_loc("bucket_start") + 1, "bucket_start_at", self.to_datetime(df["bucket_start"]))

        def ratio(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
            den = den.astype(float)
            return (scale * num.astype(float) / den).where(den > 0)

        df["ctr"] = ratio(df["clicks"], df["impressions"])
        df["cvr"] = ratio(df["conversions"], df["clicks"])
        df["cpc"] = ratio(df["spend"], df["clicks"])
        df["cpm"] = ratio(df["spend"], df["impressions"], 1000.0)
        df["cpa"] = ratio(df["spend"], df["conversions"])
        df["roas"] = ratio(df["value"], df["spend"])
        if keys == ["campaign"]:
            # What the campaign could spend, as in the C++ summary: the sum over
            # days of the daily budget, capped by the last total budget (inf = none).
            daily = pd.DataFrame(self.raw("daily"))
            if len(daily):
                g = daily.groupby("campaign", sort=True)
                budget = np.minimum(g["daily_budget"].sum(), g["total_budget"].last())
            else:
                budget = pd.Series(dtype=float)
            df["budget"] = df["campaign"].map(budget).fillna(np.inf).astype(float)
            finite = np.isfinite(df["budget"]) & (df["budget"] > 0)
            df["budget_used"] = (df["spend"] / df["budget"]).where(finite)
        return df

    def summary(self) -> str:
        """The KPI summary that ``adsim run`` prints (same C++ code)."""
        from . import _adsim

        return _adsim.format_summary(self._raw)

    # ---- files ----------------------------------------------------------

    def save(self, path: PathLike) -> str:
        """Writes this result to an HDF5 file (a temporary file renamed into
        place when complete) and returns the path."""
        from . import _adsim

        path = os.fspath(path)
        try:
            _adsim.write_results(self._raw, path)
        except Error as e:
            note_existing_output(e, path)
            raise
        self.path = path
        return path

    def __repr__(self) -> str:
        a = self.attrs
        where = f", path={self.path!r}" if self.path else ""
        return (
            f"<adsim.Result scenario={a.get('scenario_name', '?')!r} seed={a.get('seed', '?')} "
            f"fingerprint={a.get('fingerprint', '?')} tables={len(self.tables)}{where}>"
        )


def load(path: PathLike) -> Result:
    """Reads a result file written by :func:`adsim.run` (``out=``), :meth:`Result.save`
    or ``adsim run -o``. Pure Python (h5py): no compiled code is involved.

    Raises :class:`adsim.IoError` if the file cannot be read and
    :class:`adsim.DataError` if it is not an adsim result file or is damaged
    (e.g. cut short); h5py's own exceptions do not escape.
    """
    raw = read_raw(path)
    for needed in ("aggregates", "campaigns"):
        if needed not in {t["name"] for t in raw["tables"]}:
            raise DataError(f"'{os.fspath(path)}' is not a complete adsim result file (no '{needed}' table)")
    return Result(raw, path=os.fspath(path))
