"""What waiting for a person costs: docs/python.md, "Reviewing held actions".

Run with the adsim package installed: python docs/examples/review_cost.py
"""

import adsim


@adsim.register_controller("bold_bid")
class BoldBid(adsim.Controller):
    """Asks for 4 x the opening bid at the first cycle (held: above review_threshold)."""

    def on_cycle(self, snapshot):
        if snapshot.time > 0:
            return []
        state = snapshot.campaigns[self.campaign]
        return [adsim.Action.set_bid(self.campaign, 4 * state.bid, reason="outbid the market")]


def scenario(latency):
    return {
        "seed": 11, "duration": "1d", "control_cycle": "1h",
        "channels": [{"name": "display", "traffic": {"per_hour": 20000},
                      "competition": {"competitors": 5, "median": 0.002, "sigma": 0.6}}],
        "segments": [{"name": "a", "users": 50000, "ctr": 0.02, "cvr": 0.2}],
        "campaigns": [{"name": "one", "bid": 0.001, "budget": {"daily": 5000},
                       "controllers": [{"type": "bold_bid"}]}],
        "guardrails": {"review_threshold": 1.0, "max_bid": 1,
                       "review": {"latency": latency}},
    }


def small_moves_only(held):
    if held.relative_change <= 0.5:
        return True
    return False, f"{held.relative_change:.0%} is too big"


for label, latency, reviewer in [("at once", "0s", None), ("after 6h", "6h", None),
                                 ("never", "0s", small_moves_only)]:
    kpis = adsim.run(scenario(latency), reviewer=reviewer).kpis()
    print(f"{label:9s} conversions {kpis.conversions[0]:6.0f}  spend {kpis.spend[0]:7.2f}")
