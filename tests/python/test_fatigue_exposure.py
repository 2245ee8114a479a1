"""The value bidders' `fatigue: exposure` end to end (strategies/bidders/lib/fatigue_model.h).

Owns the check that, with fatigue: exposure, a value bidder on an
impression-billed channel bids the requests of a creative it has shown more
(so more fatigued) lower than those of one it has shown less, from nothing
but its own impressions and clicks, so the tired creative wins fewer
auctions per bid, while without it both creatives of a cell bid the same
and win alike (docs/strategies/bidders/fatigue.md).
"""

from __future__ import annotations

import math

import adsim


@adsim.register_controller("test_busy_creative")
class BusyCreative(adsim.Controller):
    """Test only: sets creative 0's rotation weight to 3 at the first cycle
    (creative 1 keeps 1), so creative 0 gets three times the requests."""

    def on_cycle(self, snapshot):
        state = snapshot.campaigns[self.campaign]
        if state.creative_weight[0] == 3.0:
            return None
        return adsim.Action.set_creative_weight(self.campaign, 0, 3.0, reason="three times the requests")


def scenario(fatigue: str) -> dict:
    """One impression-billed channel, one segment, one target_cpa campaign
    with two creatives of the same fresh click rate and the same fatigue law
    (half-life 20,000 impressions, recovery 12 hours, the model's assumption
    of one law per campaign); `tired` gets three times the requests of
    `fresh` (test_busy_creative), so three times the exposures."""
    return {
        "name": "fatigue_exposure", "seed": 1, "duration": "2d", "bucket": "1h", "control_cycle": "15m",
        "channels": [{"name": "display", "auction": "second_price", "billing": "impression", "floor": 0.0001,
                      "traffic": {"per_hour": 20000},
                      "competition": {"competitors": 3, "median": 0.0015, "sigma": 0.7}}],
        "segments": [{"name": "all", "users": 100000, "ctr": 0.006, "cvr": 0.02,
                      "conversion_value": {"distribution": "fixed", "mean": 40},
                      "conversion_delay": {"distribution": "exponential", "mean": "1h"},
                      "fatigue": {"half_life": 20000, "recovery": "12h"}}],
        "campaigns": [{"name": "shop", "channels": ["display"], "creatives": ["tired", "fresh"], "bid": 0.002,
                       "goal": {"cpa": 15}, "controllers": [{"type": "test_busy_creative"}],
                       "bidder": {"type": "target_cpa", "params": {"fatigue": fatigue, "follow_base_bid": False}}}],
    }


def test_without_it_both_creatives_win_alike_and_with_it_the_tired_one_wins_less():
    # Without the option both creatives of the cell bid 15 x pCTR x pCVR with
    # the cell's pCTR, so their win rates (impressions / bids, from the
    # second day on, when the exposures are near their steady state) differ
    # by noise only: binomial, SE of the difference
    # sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2) with 10^4 to 10^5 bids
    # each, |z| < 4. With it, `tired` bids its current click rate, below
    # `fresh`'s (three times the impressions, so about three times the
    # exposures, each 20,000 halving the rate), and must win clearly less
    # often: z < -4.
    day_two = 24 * 3600 * 10**6
    for fatigue in ("none", "exposure"):
        frame = adsim.run(scenario(fatigue), seed=3).aggregates
        frame = frame[frame["bucket_start"] - frame["bucket_start"].min() >= day_two]
        by_creative = frame.groupby("creative_name")[["bids", "impressions"]].sum()
        n_tired, n_fresh = float(by_creative.loc["tired", "bids"]), float(by_creative.loc["fresh", "bids"])
        p_tired = float(by_creative.loc["tired", "impressions"]) / n_tired
        p_fresh = float(by_creative.loc["fresh", "impressions"]) / n_fresh
        se = math.sqrt(p_tired * (1 - p_tired) / n_tired + p_fresh * (1 - p_fresh) / n_fresh)
        z = (p_tired - p_fresh) / se
        print(f"fatigue {fatigue}: win rate tired {p_tired:.3f}, fresh {p_fresh:.3f}, z {z:.1f}")
        if fatigue == "exposure":
            assert z < -4, (p_tired, p_fresh, z)
        else:
            assert abs(z) < 4, (p_tired, p_fresh, z)
