"""Python controllers: registration, use by name, actions, snapshots, failures."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import adsim


@adsim.register_controller(
    "test_bid_scaler",
    description="Multiplies the campaign's bid by `factor` every cycle (test).",
    params={"factor": adsim.Param(0.8, "bid multiplier per cycle", min=0.0, max=10.0), "every": 1, "note": "scale"},
)
class BidScaler(adsim.Controller):
    def __init__(self, factor: float = 0.8, every: int = 1, note: str = "scale"):
        super().__init__(factor=factor, every=every, note=note)
        self.factor, self.every, self.note = factor, every, note
        self.cycles = 0

    def on_cycle(self, snapshot):
        self.cycles += 1
        if self.cycles % self.every:
            return None
        state = snapshot.campaigns[self.campaign]
        return [adsim.Action.set_bid(self.campaign, state.bid * self.factor, reason=f"{self.note} x{self.factor}")]


def _with_controller(scenario, campaign, spec):
    """A copy of `scenario` with controller `spec` appended to a campaign's controllers."""
    scenario = copy.deepcopy(scenario)
    scenario["campaigns"][campaign].setdefault("controllers", []).append(spec)
    return scenario


def test_registered_in_the_cpp_registry():
    comps = {(c["kind"], c["name"]): c for c in adsim.components()}
    info = comps[("controller", "test_bid_scaler")]
    assert info["origin"] == "Python" and info["campaign_scoped"] is True
    assert info["description"].startswith("Multiplies")
    params = {p["name"]: p for p in info["params"]}
    assert params["factor"] == {"name": "factor", "type": "number", "default": 0.8,
                                "description": "bid multiplier per cycle", "min": 0.0, "max": 10.0,
                                "choices": None}
    assert params["every"]["type"] == "number" and params["note"]["type"] == "string"
    # Built-in C++ components are listed too.
    assert comps[("controller", "pid_pacing")]["origin"] == "C++"
    curve = next(p for p in comps[("controller", "pid_pacing")]["params"] if p["name"] == "curve")
    assert curve["type"] == "string" and curve["choices"] == ["traffic", "even"]
    assert comps[("bidder", "fixed")]["campaign_scoped"] is None
    frame = adsim.components(as_frame=True)
    assert isinstance(frame, pd.DataFrame) and "test_bid_scaler" in set(frame["name"])


def test_action_kind_codes_match_cpp():
    from adsim import _adsim
    from adsim._controller import ACTION_KINDS

    assert _adsim.action_kinds() == ACTION_KINDS


def test_python_controller_changes_bids(small):
    baseline = adsim.run(small)
    r = adsim.run(_with_controller(small, 0, {"type": "test_bid_scaler", "params": {"factor": 0.7}}))
    acts = r.actions[r.actions["controller"] == "test_bid_scaler"]
    # One action per control cycle (every 30 min for 2 days, the first at t = 0): 96.
    assert len(acts) == 2 * 48
    assert set(acts["status"]) <= {"applied", "clamped"}
    assert (acts["kind"] == "set_bid").all() and (acts["campaign_name"] == "alpha").all()
    assert acts["reason"].iloc[0] == "scale x0.7"
    # Each request is 0.7 x the bid in force; after the guardrails, the new bid is never below min_bid.
    np.testing.assert_allclose(acts["requested"], acts["old"] * 0.7)
    assert (acts["new"] >= small["guardrails"]["min_bid"] - 1e-12).all()
    # Same seed, different decisions, different outcome for alpha.
    kb, kr = baseline.kpis().set_index("campaign_name"), r.kpis().set_index("campaign_name")
    assert kr.loc["alpha", "impressions"] < kb.loc["alpha", "impressions"]
    assert r.fingerprint != baseline.fingerprint
    # The market itself is unchanged (common random numbers): same opportunities.
    pd.testing.assert_frame_equal(baseline.market, r.market)


def test_use_by_name_from_yaml_with_params(small):
    import yaml

    sc = _with_controller(small, 0, {"type": "test_bid_scaler", "params": {"factor": 1.1, "every": 4, "note": "up"}})
    r = adsim.run(yaml.safe_dump(sc))
    acts = r.actions[r.actions["controller"] == "test_bid_scaler"]
    assert len(acts) == (2 * 48) // 4
    assert acts["reason"].iloc[0] == "up x1.1"


def test_integer_param_arrives_as_int(small):
    seen = {}

    @adsim.register_controller("test_param_types", params={"n": 3, "x": 0.5, "flag": False, "label": "a"})
    class Probe(adsim.Controller):
        def on_cycle(self, snapshot):
            seen.update(self.params, campaign=self.campaign, where=self.where)

    adsim.run(_with_controller(small, 1, {"type": "test_param_types", "params": {"n": 5, "flag": True}}))
    assert seen == {"n": 5, "x": 0.5, "flag": True, "label": "a", "campaign": 1,
                    "where": "campaigns[1].controllers[1]"}
    assert type(seen["n"]) is int


def test_unknown_and_ill_typed_params_rejected(small):
    sc = _with_controller(small, 0, {"type": "test_bid_scaler", "params": {"facter": 0.9, "factor": "big", "every": 99}})
    sc["campaigns"][0]["controllers"].append({"type": "test_bid_scaler", "params": {"factor": 11}})
    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(sc)
    by_path = {i["path"]: i for i in info.value.issues}
    unknown = by_path["campaigns[0].controllers[0].params.facter"]
    assert "factor" in unknown["expected"] and "facter" in unknown["found"]
    assert by_path["campaigns[0].controllers[0].params.factor"]["expected"] == "a number"
    assert "[0, 10]" in by_path["campaigns[0].controllers[1].params.factor"]["expected"]
    assert "campaigns[0].controllers[0].params.every" not in by_path
    # validate() finds the same problems without running.
    with pytest.raises(adsim.ConfigError):
        adsim.validate(sc)


def test_string_param_choices(small):
    @adsim.register_controller("test_choices", params={"mode": adsim.Param("up", "direction", choices=["up", "down"])})
    class Choosy(adsim.Controller):
        def on_cycle(self, snapshot):
            return None

    info = next(c for c in adsim.components() if c["name"] == "test_choices")
    assert info["params"][0]["choices"] == ["up", "down"]
    assert adsim.validate(_with_controller(small, 0, {"type": "test_choices", "params": {"mode": "down"}}))
    with pytest.raises(adsim.ConfigError) as e:
        adsim.validate(_with_controller(small, 0, {"type": "test_choices", "params": {"mode": "sideways"}}))
    assert e.value.issues[0]["expected"] == "one of up, down"
    with pytest.raises(adsim.ConfigError, match="not one of"):
        adsim.register_controller("test_choices_bad", Choosy, params={"mode": adsim.Param("left", choices=["up"])})


def test_exception_in_on_cycle_becomes_adsim_error(small):
    @adsim.register_controller("test_raiser")
    class Raiser(adsim.Controller):
        """Fails on its third cycle."""

        n = 0

        def on_cycle(self, snapshot):
            self.n += 1
            if self.n == 3:
                raise ZeroDivisionError("rates went to zero")

    with pytest.raises(adsim.Error) as info:
        adsim.run(_with_controller(small, 0, {"type": "test_raiser"}), out="never.h5")
    msg = str(info.value)
    assert "test_raiser" in msg and "ZeroDivisionError: rates went to zero" in msg and "alpha" in msg
    assert "at simulated time 1h raised" in msg  # the third cycle: 0, 30m, 1h
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert info.value.__cause__.__traceback__ is not None
    import os

    assert not os.path.exists("never.h5")  # a failed run writes nothing
    # The interpreter and the engine are fine afterwards.
    assert adsim.run(small).seed == small["seed"]


def test_bad_return_values_are_errors(small):
    @adsim.register_controller("test_bad_return")
    class Bad(adsim.Controller):
        def on_cycle(self, snapshot):
            return [("set_bid", 0, 1.0)]

    with pytest.raises(adsim.Error, match="adsim.Action"):
        adsim.run(_with_controller(small, 0, {"type": "test_bad_return"}))

    @adsim.register_controller("test_bad_campaign")
    class BadCampaign(adsim.Controller):
        def on_cycle(self, snapshot):
            return adsim.Action.set_bid("gamma", 1.0)

    with pytest.raises(adsim.Error, match="no campaign named 'gamma'"):
        adsim.run(_with_controller(small, 0, {"type": "test_bad_campaign"}))


def test_constructor_config_error_is_reported_at_field(small):
    @adsim.register_controller("test_picky", params={"mode": "a"})
    class Picky(adsim.Controller):
        def __init__(self, mode="a"):
            super().__init__(mode=mode)
            if mode not in ("a", "b"):
                raise adsim.ConfigError(f"mode must be 'a' or 'b', not '{mode}'")

        def on_cycle(self, snapshot):
            return None

    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(_with_controller(small, 0, {"type": "test_picky", "params": {"mode": "c"}}))
    issue = info.value.issues[0]
    assert issue["path"] == "campaigns[0].controllers[0].params" and "'c'" in issue["found"]


def test_scenario_wide_controller_and_snapshot_contents(small):
    snaps = []

    @adsim.register_controller("test_portfolio", campaign_scoped=False)
    class Portfolio(adsim.Controller):
        """Moves budget toward the campaign with the lower CPA today (test)."""

        def on_cycle(self, snapshot):
            assert self.campaign == -1
            snaps.append(snapshot)
            out = []
            if len(snaps) == 4:
                out.append(adsim.Action.set_daily_budget("beta", 30.0, reason="more for beta"))
                out.append(adsim.Action.set_segment_modifier("alpha", "young", 0.9))
                out.append(adsim.Action.pause_creative("alpha", 1))
            return out

    small["controllers"] = [{"type": "test_portfolio"}]
    # Beta's daily budget of 25 is its ceiling unless the guardrails allow more.
    small["campaigns"][1]["guardrails"] = {"max_budget_raise": 2}
    r = adsim.run(small)
    acts = r.actions[r.actions["controller"] == "test_portfolio"]
    assert list(acts["kind"]) == ["set_daily_budget", "set_segment_modifier", "pause_creative"]
    assert list(acts["segment_name"].astype(object).fillna("")) == ["", "young", ""]
    assert acts["creative_name"].iloc[2] == "banner_b"
    assert (acts["status"] == "applied").all()
    s = snaps[-1]
    # The snapshot covers every cell: 2 channels x 2 segments x (2 + 1) creatives.
    assert s.num_cells == 12 and s.total.dtype.names == adsim.COUNTER_FIELDS
    assert not s.total.flags.writeable
    assert s.cells("beta") == slice(8, 12) and s.cell("beta", "search", "mature", 0) == 11
    assert s.channel_names == ("display", "search") and s.campaign_names == ("alpha", "beta")
    np.testing.assert_allclose(s.hourly_traffic_share.sum(axis=1), 1.0)
    # Counters agree with the ledger the campaign state carries.
    for c, state in enumerate(s.campaigns):
        assert s.campaign_total("total", c)["spend"] == pytest.approx(state.spend_total, abs=1e-5)
        assert s.campaign_total("today", c)["spend"] == pytest.approx(state.spend_today, abs=1e-5)
    assert s.stats("total")["impressions"] == int(s.total["impressions"].sum())
    assert s.frame("total")["spend"].sum() == pytest.approx(float(s.total["spend"].sum()))
    # One Snapshot object per cycle, shared and consistent.
    assert [x.time for x in snaps] == [1_800_000_000 * i for i in range(len(snaps))]
    assert snaps[5].campaigns[1].daily_budget == 30.0 and snaps[5].campaigns[0].creative_paused == (False, True)


def test_campaign_scoped_controller_cannot_be_scenario_wide(small):
    small["controllers"] = [{"type": "test_bid_scaler"}]
    with pytest.raises(adsim.ConfigError, match="campaigns\\[i\\].controllers"):
        adsim.run(small)


def test_registration_errors():
    with pytest.raises(adsim.ConfigError, match="already registered by C\\+\\+"):
        adsim.register_controller("pid_pacing", BidScaler)
    with pytest.raises(TypeError, match="subclass of adsim.Controller"):
        adsim.register_controller("test_not_a_controller", object)
    with pytest.raises(adsim.ConfigError, match="default must be"):
        adsim.register_controller("test_bad_param", BidScaler, params={"factor": [1, 2]})
    with pytest.raises(TypeError, match="cannot take the declared params"):
        adsim.register_controller("test_bad_signature", BidScaler, params={"unknown": 1.0})

    class NoCycle(adsim.Controller):
        pass

    with pytest.raises(TypeError, match="does not implement on_cycle"):
        adsim.register_controller("test_no_cycle", NoCycle)


def test_reregistering_replaces(small):
    @adsim.register_controller("test_replaceable")
    class First(adsim.Controller):
        def on_cycle(self, snapshot):
            return adsim.Action.set_bid(None, 0.001, reason="first")

    @adsim.register_controller("test_replaceable")
    class Second(adsim.Controller):
        def on_cycle(self, snapshot):
            return adsim.Action.set_bid(None, 0.001, reason="second")

    r = adsim.run(_with_controller(small, 0, {"type": "test_replaceable"}))
    assert set(r.actions.loc[r.actions["controller"] == "test_replaceable", "reason"]) == {"second"}


def test_keyboard_interrupt_in_controller_propagates(small):
    @adsim.register_controller("test_interrupt")
    class Interrupt(adsim.Controller):
        def on_cycle(self, snapshot):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        adsim.run(_with_controller(small, 0, {"type": "test_interrupt"}))


def test_nested_run_inside_controller(small):
    inner = {}

    @adsim.register_controller("test_nested")
    class Nested(adsim.Controller):
        def on_cycle(self, snapshot):
            if not inner:
                sc = dict(small, duration="2h", controllers=[])
                inner["fp"] = adsim.run(sc).fingerprint
            return None

    adsim.run(_with_controller(small, 0, {"type": "test_nested"}))
    assert len(inner["fp"]) == 16


def test_action_helpers():
    a = adsim.Action.set_segment_modifier(0, "young", 1.2, reason="r")
    assert (a.kind, a.campaign, a.segment, a.value, a.reason) == ("set_segment_modifier", 0, "young", 1.2, "r")
    assert adsim.Action.pause_campaign(1).kind == "pause_campaign"
    assert adsim.Action.resume_creative(1, 0).creative == 0
    with pytest.raises(ValueError, match="unknown action kind"):
        adsim.Action("explode", 0)


def test_creative_weight_action_from_python(small):
    @adsim.register_controller("test_weights")
    class OnlyFirstCreative(adsim.Controller):
        """Gives every request to creative 0 from the first cycle on."""

        def on_cycle(self, snapshot):
            if snapshot.time == 0:
                return [adsim.Action.set_creative_weight(None, 1, 0.0, reason="mute b")]
            return []

    r = adsim.run(_with_controller(small, 0, {"type": "test_weights"}))
    acts = r.actions[r.actions["controller"] == "test_weights"]
    assert list(acts["kind"]) == ["set_creative_weight"] and list(acts["status"]) == ["applied"]
    agg = r.aggregates[r.aggregates["campaign_name"] == "alpha"]
    by_creative = agg.groupby("creative")["impressions"].sum()
    # From t = 0 on, creative 1 has weight 0: it is never served.
    assert by_creative.get(1, 0) == 0 and by_creative[0] > 0


def test_python_controller_sees_monitor_alerts_in_the_same_cycle(small):
    seen = []

    @adsim.register_controller("test_alert_reader", campaign_scoped=False)
    class Reader(adsim.Controller):
        """Records the alerts it is shown."""

        def on_cycle(self, snapshot):
            seen.extend((snapshot.time, a["monitor"], a["metric"]) for a in snapshot.alerts)
            return []

    sc = dict(small, monitors=["pace_alert"], controllers=[{"type": "test_alert_reader"}])
    r = adsim.run(sc)
    alerts = r.alerts
    assert len(alerts) > 0 and set(alerts["monitor"]) == {"pace_alert"}
    # Everything in the alerts table was shown to the controller in the cycle that raised it.
    assert seen == list(zip(alerts["time"], alerts["monitor"], alerts["metric"]))
    assert list(r.monitor_scores["monitor"]) == ["pace_alert"]


def test_controller_is_handed_no_truth(small, tmp_path, monkeypatch):
    """A Python controller gets its params, campaign, field path and the
    snapshot: no seed, no scenario path or text, no truth (docs/python.md)."""
    import yaml

    import adsim._controller as controller_module

    seed = 918273645546372819  # an unmistakable value to look for
    folder = tmp_path / "private_folder"
    folder.mkdir()
    path = folder / "scenario.yaml"
    scenario = _with_controller(small, 0, {"type": "test_truth_probe", "params": {"limit": 2}})
    scenario["duration"] = "3h"
    path.write_text(yaml.safe_dump(scenario))

    raws, built = [], []
    make_snapshot = controller_module._make_snapshot

    def recording(raw):
        raws.append(raw)
        return make_snapshot(raw)

    monkeypatch.setattr(controller_module, "_make_snapshot", recording)

    @adsim.register_controller("test_truth_probe", params={"limit": 1})
    class Probe(adsim.Controller):
        def __init__(self, limit=1):
            built.append(dict(vars(self)))
            super().__init__(limit=limit)

        def on_cycle(self, snapshot):
            return None

    adsim.run(str(path), seed=seed)
    # At construction: the campaign, the field path and its own generator
    # (seeded one way from the run seed and the path), nothing else.
    assert [{k: v for k, v in b.items() if k != "rng"} for b in built] == [
        {"campaign": 0, "where": "campaigns[0].controllers[0]"}
    ]
    assert all(isinstance(b["rng"], np.random.Generator) for b in built)
    # Not a generator seeded with the run seed: its draws differ from one.
    assert built[0]["rng"].random() != np.random.Generator(np.random.PCG64(seed)).random()
    # Each cycle: exactly the documented snapshot fields.
    assert raws and all(
        set(raw) == {
            "time", "day_start", "control_cycle", "num_channels", "num_segments", "num_creatives",
            "cell_offset", "campaigns", "total", "last_cycle", "today", "hourly_traffic_share",
            "channel_names", "segment_names", "creative_names", "alerts",
        }
        for raw in raws
    )
    assert all(
        set(c) == {
            "name", "bid", "initial_bid", "daily_budget", "total_budget", "spend_today", "spend_total",
            "paused", "segment_modifier", "creative_paused", "creative_weight", "goal", "goal_value",
        }
        for raw in raws
        for c in raw["campaigns"]
    )

    # Nowhere the seed (or its low or high half) or the scenario's folder.
    def leaves(x):
        if isinstance(x, dict):
            for v in x.values():
                yield from leaves(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                yield from leaves(v)
        elif isinstance(x, np.ndarray):
            yield from x.ravel().tolist() if x.dtype.names is None else (v for r in x.tolist() for v in r)
        else:
            yield x

    for raw in raws:
        for v in leaves(raw):
            assert not (isinstance(v, (int, np.integer)) and v in (seed, seed & 0xFFFFFFFF, seed >> 32))
            assert not (isinstance(v, str) and "private_folder" in v)
