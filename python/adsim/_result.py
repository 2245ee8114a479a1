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
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ._errors import DataError, Error
from ._io import PathLike, note_existing_output, read_raw, table_sort_key

if TYPE_CHECKING:  # pragma: no cover
    from ._plot import PlotAccessor

#: The index columns that get a readable ``<column>_name`` twin, and the
#: dictionary table that names them.
_NAMED_INDEX = {
    "campaign": "campaigns",
    "winner": "campaigns",
    "channel": "channels",
    "segment": "segments",
    # journey_conversions (docs/journeys.md)
    "cause_campaign": "campaigns",
    "cause_channel": "channels",
    "credited_campaign": "campaigns",
    "credited_channel": "channels",
}
#: Dictionary tables: they *are* the names, so they get no name twins of their own codes.
_DICTIONARIES = ("campaigns", "channels", "segments")
#: The attribution models that read the channels' user holdouts: scored per channel only.
HOLDOUT_MODELS = ("holdout", "holdout_calibrated")
_HOUR_US = 3600 * 10**6
_DAY_US = 24 * _HOUR_US
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
                at = start + pd.to_timedelta(values.astype(np.int64), unit="us")
                out[cname + "_at"] = at.where(values >= 0)  # -1 (never, pending) has no calendar time: NaT
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
    def journey_conversions(self) -> Optional[pd.DataFrame]:
        """Journeys only (docs/journeys.md): every conversion the hazard produced, organic or
        incremental, with its causing touchpoint, the campaign a platform credits and its path;
        None for a run without ``journeys:``."""
        return self._maybe("journey_conversions")

    @property
    def journey_paths(self) -> Optional[pd.DataFrame]:
        """Journeys only: the paths of users whose journey ended without conversion (path, users)."""
        return self._maybe("journey_paths")

    def journey_path_data(self) -> pd.DataFrame:
        """The run's journeys in the common path format: one row per distinct path with
        ``path``, ``total_conversions``, ``total_conversion_value`` and ``total_null``.

        Conversions with no touchpoint in their windows (organic conversions of users the
        campaigns never reached) are left out, as no model can credit them; the same paths as
        ``adsim attribute RUN.h5`` builds. Raises DataError for a run without journeys."""
        conversions, nulls = self.journey_conversions, self.journey_paths
        if conversions is None or nulls is None:
            raise DataError(
                f"{self.path or 'result'}: expected a result of a scenario with journeys "
                "(tables journey_conversions and journey_paths; docs/journeys.md), found none"
            )
        touched = conversions[conversions["path"] != ""]
        converted = touched.groupby("path", sort=False).agg(
            total_conversions=("value", "size"), total_conversion_value=("value", "sum")
        )
        null = nulls[nulls["path"] != ""].set_index("path")["users"].rename("total_null")
        frame = converted.join(null, how="outer").fillna(0.0)
        frame["total_conversions"] = frame["total_conversions"].astype(float)
        return frame.rename_axis("path").reset_index()[
            ["path", "total_conversions", "total_conversion_value", "total_null"]
        ]

    @property
    def journey_truth(self) -> Optional[pd.DataFrame]:
        """Journeys with ``truth: true`` only (docs/journeys.md, "Ground truth"): per channel and
        per campaign (``scope``), the true incremental conversions and value by counterfactual
        re-simulation (``removal_*``, ``shapley_*``), the drawn causes (``cause_*``) and what the
        channels' dashboards report (``reported_*``); None otherwise."""
        return self._maybe("journey_truth")

    @property
    def journey_campaign_paths(self) -> Optional[pd.DataFrame]:
        """Journeys with ``truth: true`` only: the journeys as paths of campaign names, in the
        common path format (path, total_conversions, total_conversion_value, total_null)."""
        return self._maybe("journey_campaign_paths")

    def attribution_accuracy(
        self, models: Optional[Union[str, Sequence[str]]] = None, **params: Any
    ) -> pd.DataFrame:
        """How close each attribution model's shares come to the true incremental shares
        (docs/attribution.md, "Accuracy against truth"), on a run with ``journeys.truth: true``.

        One row per model and scope (``channel``: the models on :meth:`journey_path_data`;
        ``campaign``: on :attr:`journey_campaign_paths`), plus ``platform_reported`` (the
        dashboards' claims) and ``drawn_cause`` (the touchpoint the run drew as each conversion's
        cause), with the columns ``conversions_vs_removal``, ``conversions_vs_shapley``,
        ``value_vs_removal`` and ``value_vs_shapley``: :func:`adsim.attribution_accuracy_score`
        of the model's credit against each truth. ``models`` and ``params`` as in
        :meth:`attribute`; with ``journeys.holdout`` the ``holdout`` and ``holdout_calibrated``
        models may be among them, and are scored per channel only (a channel holdout measures
        channels, not campaigns), a negative measured lift crediting its channel 0. Raises
        DataError for a run without the truth tables."""
        from ._attribute import attribute, attribution_accuracy_score

        truth, campaign_paths = self.journey_truth, self.journey_campaign_paths
        if truth is None or campaign_paths is None:
            raise DataError(
                f"{self.path or 'result'}: expected a result of a scenario with journeys.truth: true "
                "(tables journey_truth and journey_campaign_paths; docs/journeys.md), found none"
            )
        path_data = {
            "channel": self.journey_path_data(),
            "campaign": campaign_paths[campaign_paths["path"] != ""][
                ["path", "total_conversions", "total_conversion_value", "total_null"]
            ],
        }
        rows: List[Dict[str, Any]] = []
        for scope, paths in path_data.items():
            players = truth[truth["scope"] == scope].set_index("name")
            if scope == "channel":  # with journeys.holdout, the holdout model too (attribute() hands it over)
                frame = self.attribute(models, **params)
            else:  # a channel holdout measures channels, not campaigns: the holdout models are scored per channel
                names = None if models is None else [
                    m.strip() for m in (models.split(",") if isinstance(models, str) else models)
                    if m.strip() not in HOLDOUT_MODELS
                ]
                frame = attribute(paths, names, **params) if names is None or names else None
            # A measured lift below 0 (noise, or a channel that does nothing) credits the channel
            # nothing, as budget_reallocation's holdout source does; the path models never go below 0.
            credits = {} if frame is None else {
                name: (group.set_index("channel")["conversions"].clip(lower=0),
                       group.set_index("channel")["value"].clip(lower=0))
                for name, group in frame.groupby("model", sort=False)
            }
            for source in ("reported", "cause"):
                label = "platform_reported" if source == "reported" else "drawn_cause"
                credits[label] = (players[f"{source}_conversions"], players[f"{source}_value"])
            for name, (conversions, value) in credits.items():
                row: Dict[str, Any] = {"model": name, "scope": scope}
                for measure, credit in (("conversions", conversions), ("value", value)):
                    for game in ("removal", "shapley"):
                        row[f"{measure}_vs_{game}"] = attribution_accuracy_score(
                            credit, players[f"{game}_{measure}"]
                        )
                rows.append(row)
        return pd.DataFrame(rows)

    def attribute(self, models: Optional[Union[str, Sequence[str]]] = None, **params: Any) -> pd.DataFrame:
        """Attribution models (docs/attribution.md) on the run's simulated journeys: the paths of
        :meth:`journey_path_data` handed to :func:`adsim.attribute` (same models, parameters and
        columns: model, channel, conversions, value, conversions_se, value_se). With
        ``journeys.holdout``, the ``journey_holdout`` table is handed over too, for the
        ``holdout`` model (docs/attribution.md, "Holdout-measured incrementality")."""
        from ._attribute import attribute

        holdout = self.table("journey_holdout") if "journey_holdout" in self._by_name else None
        return attribute(self.journey_path_data(), models, holdout=holdout, **params)

    def funnel(self, by: Union[str, Iterable[str]] = "channel") -> pd.DataFrame:
        """Funnel only (docs/funnel.md): stage counts and stage-to-stage rates, one row per group.

        `by` is any of ``campaign``, ``channel`` (default), ``segment``,
        ``creative`` (implies campaign), ``bucket_start``, ``hour``,
        ``hour_of_day`` and ``day`` (as in :meth:`kpis`), or a list of them;
        ``[]`` gives the account total. Counts come from the ``funnel`` table
        (each impression and the stages it reached, in the impression's bucket;
        purchases are the true conversions, reported or not). Columns: the
        group's codes and names, impressions, clicks, visits, carts, purchases,
        then the rates click_rate = clicks/impressions, visit_rate =
        visits/clicks, cart_rate = carts/visits, purchase_rate =
        purchases/carts and conversion_rate = purchases/clicks (NaN when the
        denominator is 0), each with its binomial standard error
        (``<rate>_se`` = sqrt(rate (1 - rate) / denominator)). Raises DataError
        for a run without a funnel."""
        if "funnel" not in self._by_name:
            raise DataError(f"{self.path or 'result'}: expected a result of a scenario with a funnel "
                            "(table funnel; docs/funnel.md), found none")
        keys = self._grouping_keys("funnel", by)
        stages = ["impressions", "clicks", "visits", "carts", "purchases"]
        counts = pd.DataFrame(self.raw("funnel"))
        for name, values in self._time_keys(counts["bucket_start"].to_numpy(), keys).items():
            counts[name] = values
        group = [{"hour": "hour_start", "day": "day_start"}.get(k, k) for k in keys]
        if group:
            df = counts.groupby(group, sort=True)[stages].sum().reset_index()
        else:
            df = pd.DataFrame([counts[stages].sum()]).astype(counts[stages].dtypes.to_dict())
        self._insert_group_names(df, keys, group)
        for rate, num, den in (("click_rate", "clicks", "impressions"), ("visit_rate", "visits", "clicks"),
                               ("cart_rate", "carts", "visits"), ("purchase_rate", "purchases", "carts"),
                               ("conversion_rate", "purchases", "clicks")):
            n = df[den].astype(float)
            p = (df[num].astype(float) / n).where(n > 0)
            df[rate] = p
            df[rate + "_se"] = np.sqrt(p * (1 - p) / n).where(n > 0)
        return df

    @property
    def daily(self) -> pd.DataFrame:
        """Per day x campaign budget and spend (the ledger)."""
        return self.table("daily")

    def pacing_target(self, campaign: Union[None, int, str] = None) -> pd.DataFrame:
        """The pacing target curve the controllers used: per control cycle x paced campaign, the
        cumulative spend aimed at (``target_spend``, ``target_share`` of ``budget``) and the actual
        ``spend`` then; ``scope`` is ``day`` (today's spend against today's plan) or ``flight``.

        `campaign` (an index or a name) keeps one campaign's rows; None keeps all. Empty when no
        controller reported a target (only pacing controllers such as pid_pacing do), and for files
        written before schema 4, which did not record it.
        """
        if "pacing_target" not in self._by_name:
            df = pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
                ("time", "int64"), ("campaign", "int64"), ("controller", object), ("scope", object),
                ("target_spend", float), ("spend", float), ("budget", float), ("target_share", float))})
        else:
            df = self.table("pacing_target")
        if campaign is None:
            return df
        names = self._names("campaigns")
        if isinstance(campaign, str):
            if campaign not in names:
                raise KeyError(f"pacing_target: no campaign '{campaign}'; campaigns: {', '.join(names)}")
            campaign = names.index(campaign)
        elif not 0 <= int(campaign) < len(names):
            raise KeyError(f"pacing_target: campaign index {campaign} out of range 0..{len(names) - 1}")
        return df[df["campaign"] == int(campaign)].reset_index(drop=True)

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
    def funnel_counts(self) -> Optional[pd.DataFrame]:
        """Funnel only (docs/funnel.md): the ``funnel`` table (per bucket x cell: impressions and the
        stages they reached), or None for a run without ``funnel:``. :meth:`funnel` gives rates."""
        return self._maybe("funnel")

    @property
    def truth_shocks(self) -> pd.DataFrame:
        """Injected shocks (ground truth for monitors)."""
        return self.table("truth_shocks")

    @property
    def plot(self) -> "PlotAccessor":
        """matplotlib plots of this run: ``plot.pacing(campaign)``, ``plot.kpi(metric, by=...)``,
        ``plot.timeline()`` (docs/plots.md). Each returns the Axes and accepts ``ax=``."""
        from ._plot import PlotAccessor

        return PlotAccessor(self)

    # ---- KPIs -----------------------------------------------------------

    def _insert_group_names(self, df: pd.DataFrame, keys: List[str], group: List[str]) -> None:
        """Inserts, in place, the name twin after each grouping code (campaign_name, channel_name,
        segment_name, creative_name) and the datetime twin after each time key (``<key>_at``)."""
        for k in ("campaign", "channel", "segment"):
            if k in keys:
                df.insert(df.columns.get_loc(k) + 1, k + "_name",
                          self._categorical(df[k].to_numpy(), self._names(_NAMED_INDEX[k])))
        if "creative" in keys:
            df.insert(df.columns.get_loc("creative") + 1, "creative_name",
                      self._creative_names(df["campaign"].to_numpy(), df["creative"].to_numpy()))
        for column in ("bucket_start", "hour_start", "day_start"):
            if column in group:
                df.insert(df.columns.get_loc(column) + 1, column + "_at", self.to_datetime(df[column]))

    def _grouping_keys(self, method: str, by: Union[str, Iterable[str]]) -> List[str]:
        """The keys of ``METHOD(by=...)`` (kpis, funnel): checked against the groupings the
        bucketed tables allow, campaign added before creative (a creative is named within its
        campaign), duplicates dropped; ValueError naming the method for an unknown key, or for
        "hour" when the run's buckets are longer than an hour."""
        keys = [by] if isinstance(by, str) else list(by)
        allowed = {"campaign", "channel", "segment", "creative", "bucket_start", "hour", "hour_of_day", "day"}
        bad = [k for k in keys if k not in allowed]
        if bad:
            raise ValueError(f"{method}(by=...): unknown key(s) {bad}; use any of {sorted(allowed)}, or [] for the "
                             "account total")
        if "creative" in keys and "campaign" not in keys:
            keys = ["campaign"] + keys
        keys = list(dict.fromkeys(keys))
        bucket_us = int(self.attrs.get("bucket_us", 0))
        if "hour" in keys and bucket_us > _HOUR_US:
            raise ValueError(f"{method}(by='hour'): this run's buckets are {bucket_us / _HOUR_US:g} h long, so its "
                             "counters cannot be split by hour; use 'bucket_start' or 'day'")
        return keys

    def kpis(self, by: Union[str, Iterable[str]] = "campaign", basis: str = "report") -> pd.DataFrame:
        """KPIs summed over the run, one row per group.

        `by` is any of ``campaign`` (default), ``channel``, ``segment``,
        ``creative`` (implies campaign), ``bucket_start``, ``hour`` (hourly
        time buckets: the calendar hour each bucket starts in, columns
        ``hour_start``/``hour_start_at``; needs buckets of at most an hour),
        ``hour_of_day`` (0..23, all days together) and ``day`` (the days of
        the ``daily`` table: midnight to midnight from ``start``, columns
        ``day_start``/``day_start_at``), or a list of them; ``[]`` gives the
        account total (one row). Time keys place each bucket by its start.

        `basis` says when a conversion counts: ``"report"`` (default) in the
        bucket it arrived in, as the advertiser's report shows it (the
        ``aggregates`` table); ``"click"`` in the bucket of the click that
        led to it (cohort view, from the ``conversions`` table; needs
        ``recording.conversions``). Both count reported conversions only, so
        without a time key they agree. Impressions, clicks and spend count
        when they happen in both.

        Columns: the group's codes and names, opportunities, bids, wins,
        impressions, clicks, conversions (reported), spend, value, then the
        ratios ctr = clicks/impressions, cvr = conversions/clicks, cpc =
        spend/clicks, cpm = 1000 spend/impressions, cpa = spend/conversions,
        roas = value/spend (NaN when the denominator is 0). Grouping by
        campaign alone (or ``[]``) also gives budget, what the campaign could
        spend (the sum over days of the daily budget in force at the end of
        each day, capped by the total budget; inf if it has neither; summed
        over campaigns for ``[]``), and budget_used = spend/budget (NaN if
        the budget is infinite or 0).
        """
        keys = self._grouping_keys("kpis", by)
        if basis not in ("report", "click"):
            raise ValueError(f"kpis(basis=...): expected 'report' (conversions when they arrive) or 'click' "
                             f"(conversions at the time of their click), found {basis!r}")
        bucket_us = int(self.attrs.get("bucket_us", 0))
        agg = pd.DataFrame(self.raw("aggregates"))
        if basis == "click":
            agg = self._by_click_time(agg, bucket_us)
        time_columns = self._time_keys(agg["bucket_start"].to_numpy(), keys)
        for name, values in time_columns.items():
            agg[name] = values
        group = [{"hour": "hour_start", "day": "day_start"}.get(k, k) for k in keys]
        if group:
            sums = agg.groupby(group, sort=True)[list(_COUNTERS)].sum()
        else:
            sums = pd.DataFrame([agg[list(_COUNTERS)].sum()]).astype(agg[list(_COUNTERS)].dtypes.to_dict())
        if keys == ["campaign"]:  # every campaign, even one that never bid
            n = len(self.raw("campaigns")["name"])
            sums = sums.reindex(pd.RangeIndex(n, name="campaign"), fill_value=0)
        df = sums.reset_index(drop=not group).rename(columns={"conversion_value": "value"})
        self._insert_group_names(df, keys, group)

        def ratio(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
            den = den.astype(float)
            return (scale * num.astype(float) / den).where(den > 0)

        df["ctr"] = ratio(df["clicks"], df["impressions"])
        df["cvr"] = ratio(df["conversions"], df["clicks"])
        df["cpc"] = ratio(df["spend"], df["clicks"])
        df["cpm"] = ratio(df["spend"], df["impressions"], 1000.0)
        df["cpa"] = ratio(df["spend"], df["conversions"])
        df["roas"] = ratio(df["value"], df["spend"])
        if keys in (["campaign"], []):
            # What the campaign could spend, as in the C++ summary: the sum over
            # days of the daily budget, capped by the last total budget (inf = none).
            daily = pd.DataFrame(self.raw("daily"))
            if len(daily):
                g = daily.groupby("campaign", sort=True)
                budget = np.minimum(g["daily_budget"].sum(), g["total_budget"].last())
            else:
                budget = pd.Series(dtype=float)
            if keys:
                df["budget"] = df["campaign"].map(budget).fillna(np.inf).astype(float)
            else:  # the account: every campaign's budget (inf if any campaign has none)
                n = len(self.raw("campaigns")["name"])
                df["budget"] = float(budget.reindex(range(n)).fillna(np.inf).sum())
            finite = np.isfinite(df["budget"]) & (df["budget"] > 0)
            df["budget_used"] = (df["spend"] / df["budget"]).where(finite)
        return df

    def _time_keys(self, bucket_start: np.ndarray, keys: List[str]) -> Dict[str, np.ndarray]:
        """hour_start, hour_of_day and day_start (int64 us; hour_of_day 0..23) of each bucket start, as asked."""
        out: Dict[str, np.ndarray] = {}
        if not {"hour", "hour_of_day", "day"} & set(keys):
            return out
        t = np.asarray(bucket_start, dtype=np.int64)
        start = self.start
        # Microseconds from the previous midnight to the start (the start's time of day).
        offset = int((start - start.normalize()) / pd.Timedelta(microseconds=1))
        if "hour" in keys:
            out["hour_start"] = np.maximum(((t + offset) // _HOUR_US) * _HOUR_US - offset, 0)
        if "hour_of_day" in keys:
            out["hour_of_day"] = ((t + offset) // _HOUR_US) % 24
        if "day" in keys:
            out["day_start"] = np.maximum(((t + offset) // _DAY_US) * _DAY_US - offset, 0)
        return out

    def _by_click_time(self, agg: pd.DataFrame, bucket_us: int) -> pd.DataFrame:
        """The aggregates with conversions and their value moved to the bucket of their click."""
        conversions = pd.DataFrame(self.raw("conversions"))
        if len(conversions) == 0 and int(agg["conversions"].sum()) > 0:
            raise DataError("kpis(basis='click') needs the conversions table, and this run did not record it "
                            "(recording.conversions: false); use basis='report'")
        reported = conversions[conversions["reported"] == 1] if len(conversions) else conversions
        cells = ["campaign", "channel", "segment", "creative"]
        by_click = pd.DataFrame({c: reported[c].to_numpy() if len(reported) else np.array([], dtype=np.int64)
                                 for c in cells})
        click_time = reported["click_time"].to_numpy() if len(reported) else np.array([], dtype=np.int64)
        by_click.insert(0, "bucket_start", (click_time // max(bucket_us, 1)) * max(bucket_us, 1))
        for counter in _COUNTERS:
            by_click[counter] = 0
        by_click["conversions"] = 1
        by_click["conversion_value"] = reported["value"].to_numpy() if len(reported) else np.array([], dtype=float)
        others = agg.copy()
        others["conversions"] = 0
        others["conversion_value"] = 0.0
        merged = pd.concat([others[by_click.columns], by_click.astype(others[by_click.columns].dtypes.to_dict())],
                           ignore_index=True)
        return merged

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

    def report(self, path: PathLike) -> str:
        """Writes the HTML report of this result to `path` (one self-contained
        file, docs/report.md) and returns the path; as ``adsim report``."""
        from .report import write_report

        return write_report(self, path)

    def __repr__(self) -> str:
        a = self.attrs
        where = f", path={self.path!r}" if self.path else ""
        return (
            f"<adsim.Result scenario={a.get('scenario_name', '?')!r} seed={a.get('seed', '?')} "
            f"fingerprint={a.get('fingerprint', '?')} tables={len(self.tables)}{where}>"
        )


def load(path: PathLike) -> Any:
    """Reads a result file written by :func:`adsim.run` (``out=``), :meth:`Result.save`
    or ``adsim run -o``. Pure Python (h5py): no compiled code is involved.
    A sweep file (``adsim.sweep(output=...)``, ``adsim sweep -o``) gives an
    :class:`adsim.Sweep` that reads each run's result only when asked.

    Raises :class:`adsim.IoError` if the file cannot be read and
    :class:`adsim.DataError` if it is not an adsim result file or is damaged
    (e.g. cut short); h5py's own exceptions do not escape.
    """
    from ._sweep import is_sweep_file, load_sweep  # the sweep module imports this one

    if is_sweep_file(path):
        return load_sweep(path)
    raw = read_raw(path)
    for needed in ("aggregates", "campaigns"):
        if needed not in {t["name"] for t in raw["tables"]}:
            raise DataError(f"'{os.fspath(path)}' is not a complete adsim result file (no '{needed}' table)")
    return Result(raw, path=os.fspath(path))
