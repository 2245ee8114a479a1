"""The Python Snapshot shows every field of the C++ Snapshot, with the same
value, in every cycle of a real run.

The C++ side lists its fields once (core/snapshot_fields.h; a field it does not
list fails to compile) and exposes them as adsim.SNAPSHOT_FIELDS. Inside a
Python controller's on_cycle, _adsim.snapshot_leaves() flattens the C++
snapshot of that very cycle to {path: value}, one entry per scalar
("campaigns[0].creative_weight[1]"), walking the C++ field lists. The test
controller flattens what it reads through the public Python API
(attributes, CampaignState fields, alert dicts, numpy records) with the same
paths, and the two must be equal: same paths (no field missing or extra at
any depth) and the same values, bit for bit.
"""

from __future__ import annotations

import math
from typing import Any, Dict

import numpy as np
import pytest

import adsim
from adsim import _adsim

FIELDS = adsim.SNAPSHOT_FIELDS


def _python_leaves(snapshot: adsim.Snapshot) -> Dict[str, Any]:
    out: Dict[str, Any] = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, adsim.CampaignState):
            for name in FIELDS["CampaignState"]:
                walk(f"{path}.{name}", getattr(value, name))
        elif isinstance(value, dict):  # an alert
            assert tuple(value) == FIELDS["Alert"], path
            for name in FIELDS["Alert"]:
                walk(f"{path}.{name}", value[name])
        elif isinstance(value, np.ndarray) and value.dtype.names is not None:  # per-cell counters
            assert value.dtype.names == FIELDS["ObservedStats"], path
            for i, record in enumerate(value):
                for name in FIELDS["ObservedStats"]:
                    walk(f"{path}[{i}].{name}", record[name])
        elif isinstance(value, (np.ndarray, tuple, list)):
            for i, item in enumerate(value):
                walk(f"{path}[{i}]", item)
        else:
            out[path] = value.item() if isinstance(value, np.generic) else value

    for name in FIELDS["Snapshot"]:
        walk(name, getattr(snapshot, name))
    return out


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_field_lists_name_each_field_once():
    assert set(FIELDS) == {"Snapshot", "CampaignState", "Alert", "ObservedStats"}
    for struct, names in FIELDS.items():
        assert len(set(names)) == len(names), struct
    # The fields the issue found missing are there now.
    assert "creative_names" in FIELDS["Snapshot"] and "creative_weight" in FIELDS["CampaignState"]
    assert adsim.COUNTER_FIELDS == FIELDS["ObservedStats"]


def test_python_snapshot_equals_the_cpp_snapshot_field_by_field(small):
    cycles = []

    @adsim.register_controller("test_snapshot_parity", campaign_scoped=False)
    class Parity(adsim.Controller):
        """Compares what it reads with the C++ snapshot of the same cycle (test)."""

        def on_cycle(self, snapshot):
            cycles.append((_adsim.snapshot_leaves(), _python_leaves(snapshot), snapshot))
            if len(cycles) == 3:  # so later cycles show non-default weights, modifiers and a pause
                return [
                    adsim.Action.set_creative_weight("alpha", 1, 0.25, reason="parity"),
                    adsim.Action.set_segment_modifier("alpha", "mature", 0.8),
                    adsim.Action.pause_creative("alpha", 0),
                ]
            return []

    # Two days (the small scenario's length), so that "today" differs from "total".
    small["campaigns"][1]["budget"]["total"] = 40.0
    small["monitors"] = ["pace_alert"]
    small["controllers"] = [{"type": "test_snapshot_parity"}]
    r = adsim.run(small)
    assert len(cycles) == 96

    for cpp, python, snapshot in cycles:
        missing, extra = sorted(set(cpp) - set(python)), sorted(set(python) - set(cpp))
        assert not missing and not extra, f"t={snapshot.time}: not readable from Python {missing[:5]}, only in Python {extra[:5]}"
        differ = [(p, cpp[p], python[p]) for p in cpp if not _same(cpp[p], python[p])]
        assert not differ, f"t={snapshot.time}: {differ[:5]}"

    # The comparison covered every field at every depth, with values that are
    # not all defaults: every Snapshot field has leaves (or is an empty tuple),
    # alerts were raised, and the actions above show in later snapshots.
    last_cpp, _, last = cycles[-1]
    roots = {path.split("[")[0].split(".")[0] for path in last_cpp}
    empty = {name for name in FIELDS["Snapshot"] if isinstance(getattr(last, name), tuple) and not getattr(last, name)}
    assert roots | empty == set(FIELDS["Snapshot"])
    assert any(len(s.alerts) > 0 for _, _, s in cycles), "no alert was raised: the Alert fields were not compared"
    seen_alert_paths = {p for cpp, _, _ in cycles for p in cpp if p.startswith("alerts[")}
    assert {p.split(".", 1)[1] for p in seen_alert_paths} == set(FIELDS["Alert"])
    for name in FIELDS["CampaignState"]:
        assert f"campaigns[0].{name}" in last_cpp or f"campaigns[0].{name}[0]" in last_cpp, name
    assert last.campaigns[0].creative_weight == (1.0, 0.25)
    assert last.campaigns[0].creative_paused == (True, False)
    assert last.campaigns[0].segment_modifier[1] == 0.8
    assert last.campaigns[1].total_budget == 40.0
    assert last.creative_names == (("banner_a", "banner_b"), ("video",))
    assert last.total["conversion_value_sq"].sum() > 0  # conversions happened: the squared values are compared too
    applied = r.actions[r.actions["controller"] == "test_snapshot_parity"]
    assert len(applied) == 3


def test_snapshot_leaves_only_inside_on_cycle():
    with pytest.raises(ValueError, match="only available inside a Python controller's on_cycle"):
        _adsim.snapshot_leaves()
