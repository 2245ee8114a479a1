"""Python bidders: the Bidder base class, the bid request it receives, and
registration into adsim's C++ component registry (the same one as the
built-in bidders, so scenarios name them under ``campaigns[i].bidder``).

A Python bidder works in one of two modes, chosen by what it implements:

* **bid table** (implement :meth:`Bidder.on_cycle`): once per control cycle it
  returns a bid per channel x segment (or channel x segment x creative); the
  engine reads that table for every bid request without calling Python, so
  a run costs about what it costs with a C++ bidder;
* **per request** (implement :meth:`Bidder.bid`): the engine calls Python for
  every bid request, holding the GIL for that call. Any rule can be written
  this way, at a cost of microseconds per request (docs/python.md,
  "Python bidders", gives the measured figure).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Dict, NamedTuple, Optional, Type, TypeVar

import numpy as np

from ._controller import _NAME, Snapshot, _instantiate, _registration
from ._errors import ConfigError

__all__ = ["BidRequest", "BidState", "Bidder", "register_bidder"]


class BidRequest(NamedTuple):
    """One bid request as a per-request Python bidder sees it (the C++ ``BidRequest``)."""

    time: int  # simulated µs
    channel: int  # index into the scenario's channels
    segment: int  # index into the scenario's segments
    user: int  # user id within the segment's population
    hour_of_day: int  # clock hour at `time`, 0-23
    floor: float  # the channel's public reserve price
    creative: int  # the creative the campaign would show (index within the campaign)


class BidState(NamedTuple):
    """The campaign's current bid settings and spend, at the request's time."""

    bid: float  # base bid (controllers may have changed it)
    spend_today: float
    spend_total: float
    daily_budget: float  # math.inf when the campaign has none
    total_budget: float  # math.inf when the campaign has none


class Bidder:
    """Base class of Python bidders.

    Subclass it and implement **one** of:

    * :meth:`on_cycle` returning a bid table each control cycle (fast: no
      Python per request), or
    * :meth:`bid` returning a bid for each request (slow: Python per request;
      ``on_cycle`` may then keep state and must return None).

    Then register the class with :func:`register_bidder`; scenarios use it as
    ``bidder: {type: NAME, params: {...}}``. One instance is made per campaign
    that names it and per run, with the scenario's parameters as keyword
    arguments. Before ``__init__`` runs, the instance has ``campaign`` (its
    campaign's index), ``where`` (its field path, e.g. ``campaigns[0].bidder``)
    and ``rng`` (its own ``numpy.random.Generator``, seeded from the run seed
    and ``where`` one way: the same seed gives the same draws, and the
    market's random numbers cannot be reached from it).

    The engine multiplies every bid by the campaign's segment modifier, caps
    it by the guardrails' ``max_bid`` and the remaining budget, and skips bids
    that are 0, negative or NaN.
    """

    #: The registered name (set by register_bidder).
    name: ClassVar[str] = ""
    campaign: int = -1
    where: str = ""
    rng: np.random.Generator

    def __init__(self, **params: Any) -> None:
        self.params: Dict[str, Any] = dict(params)

    def on_cycle(self, snapshot: Snapshot) -> Any:
        """Called once per control cycle, before the monitors and controllers,
        with the cycle's :class:`adsim.Snapshot`.

        Bid table mode: return the bids until the next cycle, as a number
        (every request), an array of shape (channels, segments), or
        (channels, segments, creatives of the campaign); NaN or <= 0 means no
        bid. Return None to keep the previous table (before the first table
        the campaign's base bid is used). Per-request mode: return None.
        """
        return None

    def bid(self, request: BidRequest, state: BidState) -> float:
        """Per-request mode: the bid for one request (0, negative or NaN: no bid)."""
        raise NotImplementedError(f"{type(self).__name__}.bid() is not implemented")


class _BidderAdapter:
    """What the compiled module holds for one bidder instance."""

    __slots__ = ("bidder", "name", "per_request", "user_bid")

    def __init__(self, bidder: Bidder, name: str, per_request: bool) -> None:
        self.bidder = bidder
        self.name = name
        self.per_request = per_request
        self.user_bid = bidder.bid

    def _on_cycle(self, snapshot: Snapshot) -> Optional[np.ndarray]:
        out = self.bidder.on_cycle(snapshot)
        if out is None:
            return None
        if self.per_request:
            raise TypeError("on_cycle() of a bidder that implements bid() must return None, not a bid table")
        shape = (snapshot.num_channels, snapshot.num_segments, snapshot.num_creatives[self.bidder.campaign])
        try:
            table = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"on_cycle() must return a bid table (numbers), not {type(out).__name__}") from None
        if table.ndim == 0:
            table = np.full(shape, float(table))
        elif table.shape == shape[:2]:
            table = np.repeat(table[:, :, None], shape[2], axis=2)
        elif table.shape != shape:
            raise ValueError(
                f"on_cycle() returned a bid table of shape {table.shape}; expected (channels, segments) = "
                f"{shape[:2]} or (channels, segments, creatives) = {shape}"
            )
        if np.isinf(table).any():
            raise ValueError("on_cycle() returned an infinite bid (use NaN or 0 for no bid)")
        return np.ascontiguousarray(table.reshape(-1))

    def _bid(
        self,
        time: int,
        channel: int,
        segment: int,
        user: int,
        hour_of_day: int,
        floor: float,
        creative: int,
        bid: float,
        spend_today: float,
        spend_total: float,
        daily_budget: float,
        total_budget: float,
    ) -> float:
        out = self.user_bid(
            BidRequest(time, channel, segment, user, hour_of_day, floor, creative),
            BidState(bid, spend_today, spend_total, daily_budget, total_budget),
        )
        try:
            value = float(out)
        except (TypeError, ValueError):
            raise TypeError(f"bid() must return a number, not {type(out).__name__}: {out!r}") from None
        if math.isinf(value):
            raise ValueError("bid() returned an infinite bid (use NaN or 0 for no bid)")
        return value


B = TypeVar("B", bound=Type[Bidder])


def register_bidder(
    name: str,
    cls: Optional[Type[Bidder]] = None,
    *,
    description: Optional[str] = None,
    params: Optional[Dict[str, Any]] = None,
) -> Any:
    """Registers a Bidder subclass under `name` in adsim's component registry,
    so scenarios can use it by name: ``bidder: {type: name, params: {...}}``.

    Use as a decorator, ``@adsim.register_bidder("my_bidder", params={"scale": 1.0})``,
    or call it, ``adsim.register_bidder("my_bidder", MyBidder)``. `description`
    and `params` are as for :func:`adsim.register_controller`. The mode
    follows what the class implements: :meth:`Bidder.bid` (per request) or
    only :meth:`Bidder.on_cycle` (bid table).

    Registering a name again replaces the earlier Python registration; a name
    taken by a built-in C++ bidder is refused.
    """
    from . import _adsim

    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"invalid bidder name {name!r}: use letters, digits, '_', '.', '-'")

    def register(klass: B) -> B:
        if not (isinstance(klass, type) and issubclass(klass, Bidder)):
            raise TypeError(f"register_bidder('{name}'): expected a subclass of adsim.Bidder, got {klass!r}")
        per_request = klass.bid is not Bidder.bid
        if not per_request and klass.on_cycle is Bidder.on_cycle:
            raise TypeError(
                f"register_bidder('{name}'): {klass.__name__} implements neither on_cycle() (a bid table per "
                "control cycle) nor bid() (a bid per request)"
            )
        specs, integers, desc = _registration(name, klass, params, description, "bidder")

        def factory(values: Dict[str, Any], campaign: int, where: str, stream_seed: int) -> _BidderAdapter:
            instance = _instantiate(klass, values, integers, campaign, where, stream_seed)
            return _BidderAdapter(instance, name, per_request)

        _adsim.register_bidder(name, desc, specs, per_request, factory)
        klass.name = name
        return klass

    if cls is not None:
        return register(cls)
    return register


