"""Example Python strategies for adsim (docs/python.md, "Python bidders" and
"Python strategies from the command line").

Importing this file registers two bidders and a controller; a scenario then
names them like built-in components. `adsim run SCENARIO --python-module
python_strategies.py`, or `python: [python_strategies.py]` in the scenario
(see python_strategies.yaml beside it), loads it for the command line.
"""

import math

import numpy as np

import adsim

DAY_US = 24 * 3600 * 10**6


@adsim.register_bidder(
    "cpa_table",
    params={
        "prior_impressions": adsim.Param(2000.0, "weight of the prior (the base bid) in impressions", min=1.0),
        "max_factor": adsim.Param(3.0, "the bid stays within [base / max_factor, base * max_factor]", min=1.0),
    },
)
class CpaTable(adsim.Bidder):
    """Bids target CPA x conversions per impression, per channel and segment (a bid table per cycle)."""

    def __init__(self, prior_impressions=2000.0, max_factor=3.0):
        super().__init__(prior_impressions=prior_impressions, max_factor=max_factor)
        self.prior, self.max_factor = prior_impressions, max_factor

    def on_cycle(self, snapshot):
        state = snapshot.campaigns[self.campaign]
        if state.goal != "cpa":
            return state.bid  # no CPA goal: the base bid everywhere
        cells = snapshot.total[snapshot.cells(self.campaign)]
        shape = (snapshot.num_channels, snapshot.num_segments, snapshot.num_creatives[self.campaign])
        conversions = cells["conversions"].reshape(shape).sum(axis=2)
        impressions = cells["impressions"].reshape(shape).sum(axis=2)
        # Shrink the observed rate towards the rate the base bid implies.
        prior_rate = state.bid / state.goal_value
        rate = (conversions + self.prior * prior_rate) / (impressions + self.prior)
        bids = state.goal_value * rate
        return np.clip(bids, state.bid / self.max_factor, state.bid * self.max_factor)


@adsim.register_bidder("jittered", params={"sigma": adsim.Param(0.2, "log-scale spread of the bid", min=0.0)})
class Jittered(adsim.Bidder):
    """Bids the base bid times a log-normal draw, per request (explores the bid landscape)."""

    def __init__(self, sigma=0.2):
        super().__init__(sigma=sigma)
        self.sigma = sigma

    def bid(self, request, state):
        # self.rng: the bidder's own generator, seeded from the run seed.
        return state.bid * math.exp(self.sigma * self.rng.standard_normal())


@adsim.register_controller(
    "even_spend",
    params={"step": adsim.Param(0.1, "relative bid change per cycle", min=0.0, max=0.5)},
)
class EvenSpend(adsim.Controller):
    """Raises or lowers the bid to spend the daily budget evenly over the day."""

    def __init__(self, step=0.1):
        super().__init__(step=step)
        self.step = step

    def on_cycle(self, snapshot):
        state = snapshot.campaigns[self.campaign]
        if not math.isfinite(state.daily_budget) or snapshot.elapsed_today == 0:
            return []
        done = snapshot.elapsed_today / DAY_US
        spent = state.spend_today / state.daily_budget
        factor = 1 - self.step if spent > done else 1 + self.step
        return [adsim.Action.set_bid(self.campaign, state.bid * factor,
                                     reason=f"spent {spent:.0%} at {done:.0%} of the day").because("spend_share", spent, done)]
