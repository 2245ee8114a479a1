"""Python controllers: the Controller base class, the Snapshot it receives,
the Actions it returns, and registration into adsim's C++ component registry.

A registered controller is usable by name from any scenario (YAML file, text
or dict), exactly like a built-in C++ one; the engine calls its ``on_cycle``
once per control cycle, holding the GIL only for that call, and passes every
returned action through the guardrails.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Type, TypeVar, Union

import numpy as np
import pandas as pd

from . import _adsim
from ._errors import ConfigError

__all__ = [
    "Action",
    "CampaignState",
    "Controller",
    "Param",
    "Snapshot",
    "register_controller",
    "COUNTER_FIELDS",
    "SNAPSHOT_FIELDS",
]

#: The fields of every struct a controller reads each cycle, as the compiled
#: module lists them (core/snapshot_fields.h): "Snapshot", "CampaignState",
#: "Alert", "ObservedStats" -> field names in declaration order.
SNAPSHOT_FIELDS: Dict[str, Tuple[str, ...]] = {k: tuple(v) for k, v in _adsim.snapshot_fields().items()}

#: Fields of one cell's counters (the structured dtype of Snapshot.total etc.),
#: from the C++ ObservedStats: requests, bids, impressions, clicks, conversions,
#: conversion_value, conversion_value_sq, spend, visits, carts (the last two
#: only with a funnel, docs/funnel.md).
COUNTER_FIELDS: Tuple[str, ...] = SNAPSHOT_FIELDS["ObservedStats"]

#: Action kinds and their C++ codes (adsim::ActionKind; checked by the tests).
ACTION_KINDS = {
    "set_bid": 0,
    "set_daily_budget": 1,
    "set_total_budget": 2,
    "pause_campaign": 3,
    "resume_campaign": 4,
    "pause_creative": 5,
    "resume_creative": 6,
    "set_segment_modifier": 7,
    "set_creative_weight": 8,
}

Index = Union[int, str]


# ---------------------------------------------------------------------------
# What a controller sees.


@dataclass(frozen=True)
class CampaignState:
    """A campaign's settings and ledger as the advertiser knows them at the snapshot time."""

    name: str
    bid: float  # current base bid
    initial_bid: float  # the scenario's base bid
    daily_budget: float  # math.inf when the campaign has none
    total_budget: float  # math.inf when the campaign has none
    spend_today: float
    spend_total: float
    paused: bool
    segment_modifier: Tuple[float, ...]  # per scenario segment, multiplies the bid
    creative_paused: Tuple[bool, ...]  # per creative of the campaign
    #: Rotation weight per creative (default 1): a request shows an unpaused
    #: creative with probability weight / sum of the unpaused weights.
    creative_weight: Tuple[float, ...]
    goal: str  # "none", "cpa" or "roas"
    goal_value: float  # target CPA (currency) or ROAS (ratio)


def _sums(cells: np.ndarray) -> Dict[str, float]:
    """Each counter summed over `cells`: int for counts, float for currency."""
    return {f: (float(cells[f].sum()) if cells.dtype[f].kind == "f" else int(cells[f].sum())) for f in COUNTER_FIELDS}


class Snapshot:
    """What a controller receives each control cycle: only what the advertiser
    can know at ``time`` (no true rate, no competitor bid, no future event).

    Times are int64 microseconds of simulated time. The per-cell counters
    ``total`` (since the start), ``last_cycle`` (during the last control
    cycle) and ``today`` (since the current day's start) are read-only numpy
    structured arrays with one record per cell and the fields of
    :data:`COUNTER_FIELDS`, e.g. ``snapshot.today["spend"]``. A cell is a
    (campaign, channel, segment, creative); :meth:`cell` gives its index, and
    a campaign's cells are the contiguous slice :meth:`cells`.
    """

    # One slot per field of the C++ Snapshot (core/snapshot_fields.h); the
    # constructor refuses a raw snapshot with other fields, so the two cannot
    # drift apart silently (and tests/python/test_snapshot_parity.py compares
    # them value by value).
    __slots__ = (
        "time",
        "day_start",
        "control_cycle",
        "num_channels",
        "num_segments",
        "num_creatives",
        "cell_offset",
        "campaigns",
        "total",
        "last_cycle",
        "today",
        "hourly_traffic_share",
        "channel_names",
        "segment_names",
        "creative_names",
        "alerts",
        "_cell_keys",
    )

    time: int  # simulated µs of this cycle
    day_start: int  # simulated time of the current day's start
    control_cycle: int  # the cycle length, µs
    num_channels: int
    num_segments: int
    num_creatives: Tuple[int, ...]  # per campaign
    cell_offset: Tuple[int, ...]  # per campaign: its first cell
    campaigns: Tuple[CampaignState, ...]
    total: np.ndarray  # per cell, since the start
    last_cycle: np.ndarray  # per cell, during the last control cycle
    today: np.ndarray  # per cell, since the current day's start
    #: Expected share of a day's traffic per hour of day, shape (channels, 24); rows sum to 1.
    hourly_traffic_share: np.ndarray
    channel_names: Tuple[str, ...]
    segment_names: Tuple[str, ...]
    creative_names: Tuple[Tuple[str, ...], ...]  # per campaign, per creative
    #: Alerts the monitors raised in this cycle (dicts with the fields of
    #: SNAPSHOT_FIELDS["Alert"]: time, monitor, campaign, channel, segment,
    #: creative, metric, value, expected, score, severity, message).
    alerts: Tuple[Dict[str, Any], ...]

    def __init__(self, raw: Dict[str, Any]) -> None:
        if raw.keys() != _SNAPSHOT_KEYS:
            raise TypeError(
                "the compiled module's snapshot fields and adsim.Snapshot's differ "
                f"(only in C++: {sorted(set(raw) - _SNAPSHOT_KEYS)}, only in Python: "
                f"{sorted(_SNAPSHOT_KEYS - set(raw))}): python/adsim/_controller.py must follow core/snapshot_fields.h"
            )
        for name, value in raw.items():
            setattr(self, name, value)
        # The compiled module sends tuples, read-only arrays and one dict per
        # campaign and alert; campaigns become CampaignState objects.
        self.campaigns = tuple(CampaignState(**c) for c in raw["campaigns"])
        self._cell_keys: Optional[Dict[str, np.ndarray]] = None

    # ---- names and indices ----------------------------------------------

    @property
    def campaign_names(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.campaigns)

    @property
    def num_campaigns(self) -> int:
        return len(self.campaigns)

    @property
    def num_cells(self) -> int:
        return len(self.total)

    @staticmethod
    def _lookup(what: str, key: Index, names: Sequence[str]) -> int:
        if isinstance(key, str):
            try:
                return names.index(key)
            except ValueError:
                raise KeyError(f"no {what} named '{key}'; {what}s: {', '.join(names)}") from None
        i = int(key)
        if not 0 <= i < len(names):
            raise IndexError(f"{what} index {i} out of range [0, {len(names)})")
        return i

    def campaign_index(self, campaign: Index) -> int:
        """Index of a campaign given its name (or index, checked)."""
        return self._lookup("campaign", campaign, self.campaign_names)

    def channel_index(self, channel: Index) -> int:
        return self._lookup("channel", channel, self.channel_names)

    def segment_index(self, segment: Index) -> int:
        return self._lookup("segment", segment, self.segment_names)

    def cell(self, campaign: Index, channel: Index, segment: Index, creative: int = 0) -> int:
        """Index of the cell (campaign, channel, segment, creative) in the counter arrays.

        Campaigns, channels and segments may be given by name or index;
        creative is the index within the campaign.
        """
        c = self.campaign_index(campaign)
        ch = self.channel_index(channel)
        s = self.segment_index(segment)
        if not 0 <= int(creative) < self.num_creatives[c]:
            raise IndexError(f"creative index {creative} out of range [0, {self.num_creatives[c]}) for campaign {c}")
        return self.cell_offset[c] + (ch * self.num_segments + s) * self.num_creatives[c] + int(creative)

    def cells(self, campaign: Index) -> slice:
        """The contiguous slice of a campaign's cells in the counter arrays."""
        c = self.campaign_index(campaign)
        n = self.num_channels * self.num_segments * self.num_creatives[c]
        return slice(self.cell_offset[c], self.cell_offset[c] + n)

    @property
    def cell_keys(self) -> Dict[str, np.ndarray]:
        """Per cell: its campaign, channel, segment and creative indices (arrays)."""
        if self._cell_keys is None:
            camp, ch, seg, cr = [], [], [], []
            for c, ncr in enumerate(self.num_creatives):
                n = self.num_channels * self.num_segments * ncr
                k = np.arange(n)
                camp.append(np.full(n, c))
                ch.append(k // ncr // self.num_segments)
                seg.append(k // ncr % self.num_segments)
                cr.append(k % ncr)
            cat = (lambda parts: np.concatenate(parts).astype(np.int64)) if camp else (lambda parts: np.zeros(0, np.int64))
            self._cell_keys = {"campaign": cat(camp), "channel": cat(ch), "segment": cat(seg), "creative": cat(cr)}
        return self._cell_keys

    # ---- sums -----------------------------------------------------------

    def _table(self, table: Union[str, np.ndarray]) -> np.ndarray:
        if isinstance(table, str):
            if table not in ("total", "last_cycle", "today"):
                raise ValueError(f"table must be 'total', 'last_cycle' or 'today', not {table!r}")
            return getattr(self, table)
        return table

    def stats(
        self,
        table: Union[str, np.ndarray] = "today",
        campaign: Optional[Index] = None,
        channel: Optional[Index] = None,
        segment: Optional[Index] = None,
        creative: Optional[int] = None,
    ) -> Dict[str, float]:
        """Counters summed over the cells that match every given index (None = all).

        Returns a dict with the :data:`COUNTER_FIELDS` (ints for counts).
        """
        t = self._table(table)
        mask = np.ones(len(t), dtype=bool)
        keys = self.cell_keys
        if campaign is not None:
            mask &= keys["campaign"] == self.campaign_index(campaign)
        if channel is not None:
            mask &= keys["channel"] == self.channel_index(channel)
        if segment is not None:
            mask &= keys["segment"] == self.segment_index(segment)
        if creative is not None:
            mask &= keys["creative"] == int(creative)
        return _sums(t[mask])

    def campaign_total(self, table: Union[str, np.ndarray], campaign: Index) -> Dict[str, float]:
        """Sum of a campaign's cells in `table` ('total', 'last_cycle' or 'today')."""
        return _sums(self._table(table)[self.cells(campaign)])

    def frame(self, table: Union[str, np.ndarray] = "today") -> pd.DataFrame:
        """A table's cells as a DataFrame (campaign, channel, segment, creative + counters).

        Convenient for exploration; build it only if you need it (it costs more
        than reading the arrays directly).
        """
        t = self._table(table)
        df = pd.DataFrame({k: v for k, v in self.cell_keys.items()})
        for f in COUNTER_FIELDS:
            df[f] = t[f]
        return df

    # ---- time -----------------------------------------------------------

    @property
    def elapsed_today(self) -> int:
        """Microseconds since the current day's start (the run start on the first day)."""
        return self.time - self.day_start

    def __repr__(self) -> str:
        return (
            f"<adsim.Snapshot t={self.time / 3.6e9:.2f}h campaigns={self.num_campaigns} "
            f"channels={self.num_channels} segments={self.num_segments} cells={self.num_cells}>"
        )


_SNAPSHOT_KEYS = frozenset(SNAPSHOT_FIELDS["Snapshot"])
if _SNAPSHOT_KEYS != frozenset(Snapshot.__slots__) - {"_cell_keys"} or set(SNAPSHOT_FIELDS["CampaignState"]) != {
    f.name for f in dataclasses.fields(CampaignState)
}:  # pragma: no cover - a build whose C++ and Python halves disagree
    raise ImportError(
        "adsim: the compiled module's snapshot fields (core/snapshot_fields.h) differ from "
        "adsim.Snapshot / adsim.CampaignState (python/adsim/_controller.py)"
    )


def _make_snapshot(raw: Dict[str, Any]) -> Snapshot:
    """Called by the compiled module once per control cycle."""
    return Snapshot(raw)


# ---------------------------------------------------------------------------
# What a controller does.


@dataclass(frozen=True)
class Action:
    """One action a controller proposes. The engine passes it through the
    campaign's guardrails and records it in the ``actions`` table with its
    status (applied, clamped, held or rejected).

    Build actions with the class methods, e.g. ``Action.set_bid(0, 0.5)``.
    `campaign` and `segment` may be names or indices; `creative` is the index
    within the campaign. ``campaign=None`` means the campaign the controller
    is attached to.
    """

    kind: str
    campaign: Optional[Index] = None
    value: float = 0.0
    segment: Optional[Index] = None
    creative: Optional[int] = None
    reason: str = ""
    #: True: hold the action for review whatever its size (as C++
    #: ``Action::review``); a reviewer, if any, decides it later.
    review: bool = False
    #: Why it was taken, as data (the ``actions`` table's ``metric``,
    #: ``observed`` and ``threshold`` columns): the quantity the decision
    #: looked at, its value as the controller saw it, and the value it was
    #: compared with or aimed at. Set them with :meth:`because`.
    metric: str = ""
    observed: Optional[float] = None
    threshold: Optional[float] = None

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise ValueError(f"unknown action kind {self.kind!r}; one of {', '.join(ACTION_KINDS)}")

    @classmethod
    def set_bid(cls, campaign: Optional[Index], value: float, reason: str = "") -> "Action":
        """New base bid (currency per impression, or per click on click-billed channels)."""
        return cls("set_bid", campaign, float(value), reason=reason)

    @classmethod
    def set_daily_budget(cls, campaign: Optional[Index], value: float, reason: str = "") -> "Action":
        return cls("set_daily_budget", campaign, float(value), reason=reason)

    @classmethod
    def set_total_budget(cls, campaign: Optional[Index], value: float, reason: str = "") -> "Action":
        return cls("set_total_budget", campaign, float(value), reason=reason)

    @classmethod
    def pause_campaign(cls, campaign: Optional[Index], reason: str = "") -> "Action":
        return cls("pause_campaign", campaign, reason=reason)

    @classmethod
    def resume_campaign(cls, campaign: Optional[Index], reason: str = "") -> "Action":
        return cls("resume_campaign", campaign, reason=reason)

    @classmethod
    def pause_creative(cls, campaign: Optional[Index], creative: int, reason: str = "") -> "Action":
        return cls("pause_creative", campaign, creative=int(creative), reason=reason)

    @classmethod
    def resume_creative(cls, campaign: Optional[Index], creative: int, reason: str = "") -> "Action":
        return cls("resume_creative", campaign, creative=int(creative), reason=reason)

    @classmethod
    def set_segment_modifier(
        cls, campaign: Optional[Index], segment: Index, value: float, reason: str = ""
    ) -> "Action":
        """Bid multiplier for one audience segment of the campaign."""
        return cls("set_segment_modifier", campaign, float(value), segment=segment, reason=reason)

    @classmethod
    def set_creative_weight(
        cls, campaign: Optional[Index], creative: int, value: float, reason: str = ""
    ) -> "Action":
        """Rotation weight (>= 0) of one creative: requests pick creatives in proportion to it."""
        return cls("set_creative_weight", campaign, float(value), creative=int(creative), reason=reason)

    def because(self, metric: str, observed: Optional[float] = None,
                threshold: Optional[float] = None) -> "Action":
        """The same action with its evidence: the metric the decision looked
        at, the value seen and the threshold or target it was compared with,
        e.g. ``Action.set_bid(0, 0.4).because("cpa", 31.5, 25.0)``."""
        if not isinstance(metric, str) or not metric:
            raise ValueError(f"Action.because: metric must be a non-empty string, not {metric!r}")
        return dataclasses.replace(
            self,
            metric=metric,
            observed=None if observed is None else float(observed),
            threshold=None if threshold is None else float(threshold),
        )

    def for_review(self) -> "Action":
        """The same action, held for review whatever its size:
        ``Action.set_bid(0, 0.5).for_review()``."""
        return dataclasses.replace(self, review=True)

    def _to_tuple(
        self, snapshot: Snapshot, own_campaign: int
    ) -> Tuple[int, int, int, int, float, str, bool, str, Optional[float], Optional[float]]:
        """(kind, campaign, segment, creative, value, reason, review, metric,
        observed, threshold) for the engine."""
        if self.campaign is None:
            if own_campaign < 0:
                raise ValueError(f"{self}: a scenario-wide controller must name the campaign")
            campaign = own_campaign
        else:
            campaign = snapshot.campaign_index(self.campaign)
        segment = -1 if self.segment is None else snapshot.segment_index(self.segment)
        creative = -1 if self.creative is None else int(self.creative)
        observed = None if self.observed is None else float(self.observed)
        threshold = None if self.threshold is None else float(self.threshold)
        return (ACTION_KINDS[self.kind], campaign, segment, creative, float(self.value), str(self.reason),
                bool(self.review), str(self.metric), observed, threshold)


# ---------------------------------------------------------------------------
# The controller base class and registration.


class Controller:
    """Base class of Python controllers.

    Subclass it, implement :meth:`on_cycle`, and register the class with
    :func:`register_controller`; scenarios then use it by name. One instance
    is made per use in a scenario (per campaign that lists it, or once for a
    scenario-wide controller) and per run, with the scenario's parameters
    (defaults filled in, types checked) as keyword arguments.

    Before ``__init__`` runs, the instance already has:

    * ``campaign``: the index of the campaign it is attached to, -1 if it is
      scenario-wide;
    * ``where``: its field path in the scenario (e.g. ``campaigns[0].controllers[1]``);
    * ``rng``: its own ``numpy.random.Generator``, seeded from the run seed
      and ``where`` one way (the market's random numbers cannot be reached
      from it).

    The default ``__init__`` stores the parameters in ``self.params``.
    """

    #: The registered name (set by register_controller).
    name: ClassVar[str] = ""
    campaign: int = -1
    where: str = ""
    #: The controller's own random generator, seeded from the run seed and its
    #: field path (the engine's component stream seed, docs/engine.md "Random
    #: streams"): the same seed gives the same draws, and nothing in it leads
    #: to the market's streams.
    rng: np.random.Generator

    def __init__(self, **params: Any) -> None:
        self.params: Dict[str, Any] = dict(params)

    def on_cycle(self, snapshot: Snapshot) -> Optional[Iterable[Action]]:
        """Called once per control cycle. Returns the actions to propose (a
        list, an iterable, a single Action, or None for none).

        It may keep state on ``self`` between cycles, and may be slow-ish (it
        runs once per cycle, not per opportunity); it must not rely on
        anything but the snapshot and its own state, so that runs reproduce.
        An exception aborts the run with an adsim.Error that chains it.
        """
        raise NotImplementedError(f"{type(self).__name__}.on_cycle() is not implemented")


@dataclass(frozen=True)
class Param:
    """A declared controller parameter: default (whose type, number, bool or
    string, is the parameter's type), description, bounds for numbers, and
    the allowed values for strings (None = any)."""

    default: Union[float, int, bool, str]
    description: str = ""
    min: Optional[float] = None
    max: Optional[float] = None
    choices: Optional[Sequence[str]] = None


class _Adapter:
    """What the compiled module holds for one controller instance."""

    __slots__ = ("controller", "name")

    def __init__(self, controller: Controller, name: str) -> None:
        self.controller = controller
        self.name = name

    def _on_cycle(
        self, snapshot: Snapshot
    ) -> List[Tuple[int, int, int, int, float, str, bool, str, Optional[float], Optional[float]]]:
        out = self.controller.on_cycle(snapshot)
        if out is None:
            return []
        if isinstance(out, Action):
            out = [out]
        try:
            items = list(out)
        except TypeError:
            raise TypeError(
                f"on_cycle() must return a list of adsim.Action (or None), not {type(out).__name__}"
            ) from None
        result = []
        for i, a in enumerate(items):
            if not isinstance(a, Action):
                raise TypeError(
                    f"on_cycle() must return adsim.Action objects; item {i} is {type(a).__name__}: {a!r}"
                )
            result.append(a._to_tuple(snapshot, self.controller.campaign))
        return result


def component_rng(stream_seed: int) -> np.random.Generator:
    """A Python component's own generator, from the stream seed the engine
    derives one way (SHA-1) from the run seed and the component's path."""
    return np.random.Generator(np.random.PCG64(int(stream_seed)))


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
C = TypeVar("C", bound=Type[Controller])


def _param_specs(
    name: str, params: Optional[Dict[str, Any]], kind: str = "controller"
) -> Tuple[List[Dict[str, Any]], set]:
    """The declared parameters as the compiled module takes them, and the names of the integer ones."""
    specs, integers = [], set()
    for pname, p in (params or {}).items():
        if not isinstance(pname, str) or not _NAME.match(pname):
            raise ConfigError(f"{kind} '{name}': invalid parameter name {pname!r}")
        if not isinstance(p, Param):
            p = Param(p)
        d = p.default
        spec = {"name": pname, "description": p.description, "min": -1e300, "max": 1e300}
        if isinstance(d, bool):
            spec.update(kind="bool", default=d)
        elif isinstance(d, (int, float, np.integer, np.floating)):
            if not math.isfinite(float(d)):
                raise ConfigError(f"{kind} '{name}': parameter '{pname}' default must be finite, not {d!r}")
            spec.update(kind="number", default=float(d))
            if isinstance(d, (int, np.integer)):
                integers.add(pname)
        elif isinstance(d, str):
            spec.update(kind="string", default=d)
        else:
            raise ConfigError(
                f"{kind} '{name}': parameter '{pname}' default must be a number, bool or string, "
                f"not {type(d).__name__}"
            )
        if (p.min is not None or p.max is not None) and spec["kind"] != "number":
            raise ConfigError(f"{kind} '{name}': parameter '{pname}': min/max apply to numbers only")
        if p.choices is not None:
            choices = list(p.choices)
            if spec["kind"] != "string" or not choices or not all(isinstance(c, str) for c in choices):
                raise ConfigError(f"{kind} '{name}': parameter '{pname}': choices must be a non-empty list of "
                                  "strings, for a string parameter")
            if d not in choices:
                raise ConfigError(f"{kind} '{name}': parameter '{pname}' default {d!r} is not one of {choices}")
            spec["choices"] = choices
        if p.min is not None:
            spec["min"] = float(p.min)
        if p.max is not None:
            spec["max"] = float(p.max)
        if spec["kind"] == "number" and not spec["min"] <= spec["default"] <= spec["max"]:
            raise ConfigError(f"{kind} '{name}': parameter '{pname}' default {d} is outside [{p.min}, {p.max}]")
        specs.append(spec)
    return specs, integers


def register_controller(
    name: str,
    cls: Optional[Type[Controller]] = None,
    *,
    description: Optional[str] = None,
    params: Optional[Dict[str, Any]] = None,
    campaign_scoped: bool = True,
) -> Any:
    """Registers a Controller subclass under `name` in adsim's component
    registry (the same one the C++ components are in), so scenarios can use
    it by name: ``controllers: [{type: name, params: {...}}]``.

    Use as a decorator, ``@adsim.register_controller("my_rule", params={"step": 0.1})``,
    or call it, ``adsim.register_controller("my_rule", MyRule, ...)``.

    * `description`: one line shown by :func:`adsim.components` (default: the
      first line of the class docstring).
    * `params`: parameter name -> default value (its type, number, bool or
      string, is the parameter's type) or :class:`Param` (adds a description,
      bounds for numbers, choices for strings). The registry rejects unknown
      and ill-typed parameters in scenarios, and fills in defaults.
      Numbers arrive as float, or as int if the declared default is an int and
      the value is integral.
    * `campaign_scoped`: True (default) if it is listed under
      ``campaigns[i].controllers`` and works on that campaign; False if it is
      scenario-wide (listed under the top-level ``controllers``).

    Registering a name again replaces the earlier Python registration (handy
    in notebooks); a name taken by a built-in C++ controller is refused.
    Register before starting runs, not while runs are in progress in other threads.
    """
    from . import _adsim

    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"invalid controller name {name!r}: use letters, digits, '_', '.', '-'")

    def register(klass: C) -> C:
        if not (isinstance(klass, type) and issubclass(klass, Controller)):
            raise TypeError(f"register_controller('{name}'): expected a subclass of adsim.Controller, got {klass!r}")
        if klass.on_cycle is Controller.on_cycle:
            raise TypeError(f"register_controller('{name}'): {klass.__name__} does not implement on_cycle()")
        specs, integers, desc = _registration(name, klass, params, description, "controller")

        def factory(values: Dict[str, Any], campaign: int, where: str, stream_seed: int) -> _Adapter:
            instance = _instantiate(klass, values, integers, campaign, where, stream_seed)
            return _Adapter(instance, name)

        _adsim.register_controller(name, desc, specs, bool(campaign_scoped), factory)
        klass.name = name
        return klass

    if cls is not None:
        return register(cls)
    return register


def _registration(name: str, klass: type, params: Any, description: Optional[str], kind: str
                  ) -> Tuple[List[Dict[str, Any]], Set[str], str]:
    """What registering a Python component of `kind` ("controller" or
    "bidder") needs, checked now rather than mid-run: its parameter specs, the
    names of its integer parameters, and its description."""
    for info in _adsim.components():
        if info["kind"] == kind and info["name"] == name and info["origin"] != "Python":
            raise ConfigError(f"a {kind} named '{name}' is already registered by {info['origin']}; choose another name")
    specs, integers = _param_specs(name, params, kind=kind)
    defaults = {s["name"]: (int(s["default"]) if s["name"] in integers else s["default"]) for s in specs}
    try:  # a constructor that cannot take the declared parameters fails now, not mid-run
        inspect.signature(klass).bind(**defaults)
    except TypeError as e:
        raise TypeError(f"register_{kind}('{name}'): {klass.__name__}() cannot take the declared params: {e}") from None
    except ValueError:
        pass  # no signature available
    desc = description
    if desc is None:
        doc = inspect.getdoc(klass) if klass.__doc__ else None
        desc = doc.strip().splitlines()[0] if doc else f"Python {kind} {klass.__qualname__}"
    return specs, integers, desc


def _instantiate(klass: type, values: Dict[str, Any], integers: Set[str], campaign: int, where: str,
                 stream_seed: int) -> Any:
    """One instance of a registered Python component for one run: campaign,
    where, its own generator (rng) and params are set before __init__ runs."""
    kwargs = {k: (int(v) if k in integers and float(v).is_integer() else v) for k, v in values.items()}
    instance = klass.__new__(klass)  # type: ignore[call-overload]  # a Controller or Bidder subclass
    instance.campaign = int(campaign)
    instance.where = where
    instance.rng = component_rng(stream_seed)
    instance.__init__(**kwargs)
    if not hasattr(instance, "params"):
        instance.params = dict(kwargs)
    return instance
