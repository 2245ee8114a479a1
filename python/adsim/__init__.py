"""adsim: discrete-event simulation and backtesting of real-time ad campaign optimization.

Quick start::

    import adsim
    result = adsim.run(seed=1)           # the embedded default scenario
    result.kpis()                        # per-campaign KPIs (a DataFrame)
    result.aggregates                    # per bucket x cell counters
    print(result.summary())

See docs/python.md for the full guide.
"""

from __future__ import annotations

from ._errors import ConfigError, DataError, Error, InvariantError, IoError

# The compiled module translates C++ errors into the classes above, so they
# must exist before it is imported.
from . import _adsim  # noqa: E402  (import order matters)
from ._controller import (  # noqa: E402
    COUNTER_FIELDS,
    SNAPSHOT_FIELDS,
    Action,
    CampaignState,
    Controller,
    Param,
    Snapshot,
    register_controller,
)
from ._calibrate import Calibration, calibrate, conversion_log, history_report  # noqa: E402
from ._attribute import attribute, attribution_accuracy_score, attribution_models  # noqa: E402
from ._catalog import Catalog, catalog  # noqa: E402
from ._detect import detect, detectors  # noqa: E402
from ._lookalike import Lookalike, lookalike  # noqa: E402
from ._ope import ope  # noqa: E402
from ._bidder import Bidder, BidRequest, BidState, register_bidder  # noqa: E402
from ._modules import load_module  # noqa: E402
from ._result import Result, load  # noqa: E402
from ._review import HeldAction  # noqa: E402
from ._risk import RiskReport, WhatIfReport, compare_plans, risk, what_if  # noqa: E402
from ._run import components, default_scenario, run, validate  # noqa: E402
from ._sweep import Sweep, sweep  # noqa: E402
from ._spend_match import SpendMatch, scale_bids, spend_matched  # noqa: E402

__version__: str = _adsim.__version__
#: Version of the result file schema this adsim writes.
SCHEMA_VERSION: int = _adsim.schema_version

__all__ = [
    "__version__",
    "SCHEMA_VERSION",
    "run",
    "sweep",
    "Sweep",
    "spend_matched",
    "SpendMatch",
    "scale_bids",
    "load",
    "validate",
    "ope",
    "risk",
    "what_if",
    "compare_plans",
    "RiskReport",
    "WhatIfReport",
    "default_scenario",
    "components",
    "catalog",
    "Catalog",
    "calibrate",
    "Calibration",
    "history_report",
    "conversion_log",
    "register_controller",
    "register_bidder",
    "load_module",
    "detect",
    "detectors",
    "attribute",
    "attribution_accuracy_score",
    "attribution_models",
    "lookalike",
    "Lookalike",
    "Result",
    "Controller",
    "Bidder",
    "BidRequest",
    "BidState",
    "Snapshot",
    "CampaignState",
    "Action",
    "Param",
    "HeldAction",
    "COUNTER_FIELDS",
    "SNAPSHOT_FIELDS",
    "Error",
    "ConfigError",
    "DataError",
    "InvariantError",
    "IoError",
]
