"""The Python reviewer of held actions: adsim.run(..., reviewer=fn)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import adsim


@adsim.register_controller("test_bold_bid", params={"factor": 4.0, "at_hour": 0.0})
class BoldBid(adsim.Controller):
    """Asks for `factor` x the opening bid once, at hour `at_hour` (test)."""

    def __init__(self, factor: float = 4.0, at_hour: float = 0.0):
        super().__init__(factor=factor, at_hour=at_hour)
        self.factor, self.at_hour = factor, at_hour

    def on_cycle(self, snapshot):
        if snapshot.time != int(self.at_hour * 3600e6):
            return []
        state = snapshot.campaigns[self.campaign]
        return [adsim.Action.set_bid(self.campaign, self.factor * state.bid, reason="bold")]


def _scenario(review=None, factor=4.0, at_hour=0.0):
    """One campaign far outbid (bid 0.001 against 5 competitors of median
    0.002): x4 makes it win about half the auctions (see tests/core/review_test.cc)."""
    guard = {"review_threshold": 1.0, "max_bid": 1}
    if review is not None:
        guard["review"] = review
    return {
        "seed": 11, "duration": "12h", "control_cycle": "1h",
        "channels": [{"name": "display", "traffic": {"per_hour": 5000},
                      "competition": {"competitors": 5, "median": 0.002, "sigma": 0.6}}],
        "segments": [{"name": "a", "users": 20000, "ctr": 0.02, "cvr": 0.2,
                      "conversion_delay": {"distribution": "exponential", "mean": "30m"}}],
        "campaigns": [{"name": "one", "bid": 0.001, "budget": {"daily": 5000},
                       "controllers": [{"type": "test_bold_bid", "params": {"factor": factor, "at_hour": at_hour}}]}],
        "guardrails": guard,
    }


def test_without_a_reviewer_the_action_stays_held():
    r = adsim.run(_scenario())
    assert list(r.actions.status) == ["held"]
    assert r.reviews is None


def test_the_reviewer_sees_the_held_action_and_its_answer_is_applied():
    seen = []

    def reviewer(held):
        seen.append(held)
        return True, "looks fine"

    r = adsim.run(_scenario({"latency": "3h"}), reviewer=reviewer)
    assert len(seen) == 1
    h = seen[0]
    assert isinstance(h, adsim.HeldAction)
    assert (h.time, h.held_time) == (3 * 3600 * 10**6, 0)
    assert (h.campaign, h.campaign_name, h.kind, h.controller, h.reason) == (0, "one", "set_bid", "test_bold_bid", "bold")
    assert h.old == pytest.approx(0.001) and h.requested == pytest.approx(0.004) and h.current == pytest.approx(0.001)
    assert h.relative_change == pytest.approx(3.0)
    assert "review_threshold" in h.note
    a = r.actions
    assert list(a.status) == ["held", "approved"]
    assert a.time[1] == 3 * 3600 * 10**6 and a.new[1] == pytest.approx(0.004)
    assert "looks fine" in a.note[1]
    rv = r.reviews
    assert list(rv.decision) == ["approved"] and rv.decided[0] == 3 * 3600 * 10**6
    assert rv.new[0] == pytest.approx(0.004)
    assert "looks fine" in rv.note[0]


def test_answers_reject_and_a_modified_value():
    r = adsim.run(_scenario(), reviewer=lambda held: "reject")
    assert list(r.actions.status) == ["held", "rejected"]
    assert r.actions.new[1] == pytest.approx(0.001)
    assert list(r.reviews.decision) == ["rejected"]
    # A number approves at that value (numpy numbers too).
    r = adsim.run(_scenario(), reviewer=lambda held: np.float64(held.old * 2))
    assert list(r.actions.status) == ["held", "approved"]
    assert r.actions.new[1] == pytest.approx(0.002)
    assert "approved at 0.002" in r.actions.note[1]


def test_waiting_costs_conversions_and_spend():
    # x4 at 0:00, approved at once, after 6h, or never. ~0.52 x 5000 x 0.02 x
    # 0.2 ~ 10 conversions an hour once approved: 6h of waiting cost ~60,
    # far beyond 3 standard errors of the difference (3 sqrt(120 + 60) ~ 40).
    now = adsim.run(_scenario({"latency": "0s"}), reviewer=lambda h: True).kpis()
    later = adsim.run(_scenario({"latency": "6h"}), reviewer=lambda h: True).kpis()
    never = adsim.run(_scenario({"latency": "0s"}), reviewer=lambda h: False).kpis()
    c = [k.conversions[0] for k in (now, later, never)]
    s = [k.spend[0] for k in (now, later, never)]
    assert c[0] - c[1] > 3 * math.sqrt(c[0] + c[1]), c
    assert c[1] - c[2] > 3 * math.sqrt(c[1] + c[2]), c
    assert s[0] > s[1] > s[2], s


def test_a_failing_reviewer_stops_the_run_like_a_controller():
    def broken(held):
        return 1 / 0

    with pytest.raises(adsim.Error, match=r"reviewer.*set_bid.*campaign 0 'one'.*ZeroDivisionError") as info:
        adsim.run(_scenario(), reviewer=broken)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert info.value.__cause__.__traceback__ is not None
    # An answer adsim cannot read is an error too, never a silent decision.
    with pytest.raises(adsim.Error, match="reviewer returned None") as info:
        adsim.run(_scenario(), reviewer=lambda held: None)
    assert isinstance(info.value.__cause__, TypeError)
    with pytest.raises(adsim.Error, match="'maybe'"):
        adsim.run(_scenario(), reviewer=lambda held: "maybe")
    with pytest.raises(TypeError, match="reviewer must be"):
        adsim.run(_scenario(), reviewer=42)


def test_reviews_round_trip_through_a_file(tmp_path):
    path = tmp_path / "r.h5"
    r = adsim.run(_scenario({"latency": "2h", "rule": "approve_below", "max_change": 0.5}), out=path)
    assert list(r.reviews.decision) == ["rejected"]
    back = adsim.load(path)
    assert back.attrs["schema_version"] == adsim.SCHEMA_VERSION == 4
    assert list(back.reviews.decision) == ["rejected"]
    assert back.attrs["fingerprint"] == r.attrs["fingerprint"]


@adsim.register_controller("test_asks_review", params={})
class AsksReview(adsim.Controller):
    """At t = 0 asks for +10 % on the bid, a move below every threshold, but for review (test)."""

    def on_cycle(self, snapshot):
        if snapshot.time != 0:
            return []
        state = snapshot.campaigns[self.campaign]
        return [adsim.Action.set_bid(self.campaign, 1.1 * state.bid, reason="please check").for_review()]


def test_a_python_controller_can_ask_for_review():
    sc = _scenario({"latency": "2h"})
    sc["campaigns"][0]["controllers"] = [{"type": "test_asks_review"}]
    # Without the flag the +10 % move would be applied at once (max_change 0.5).
    r = adsim.run(sc)
    a = r.actions
    assert list(a.status) == ["held", "approved"]
    assert "the controller asked for it" in a.note[0]
    assert a.time[1] == 2 * 3600 * 10**6 and a.new[1] == pytest.approx(0.0011)
    assert adsim.Action.set_bid(0, 1.0).review is False
