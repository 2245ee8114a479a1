"""The value bidders' per_creative_ctr (strategies/bidders/lib/value_estimates.h, CreativeFactors).

Owns the check that, with per_creative_ctr, a value bidder on an
impression-billed channel bids each creative in proportion to its own click
rate (shrunk towards its cell's), so that a creative that clicks twice as
often wins more auctions than one that does not, while without it both
creatives of a cell bid the same and win alike.
"""

from __future__ import annotations

import math
import adsim


def scenario(per_creative: bool) -> dict:
    """One impression-billed channel, one segment, one target_cpa campaign
    whose creative `sharp` clicks twice as often as `dull`; creatives rotate
    evenly (no controller), so only the bids can favour one."""
    return {
        "name": "per_creative", "seed": 1, "duration": "2d", "bucket": "1h", "control_cycle": "1h",
        "channels": [{"name": "display", "auction": "second_price", "billing": "impression", "floor": 0.0001,
                      "traffic": {"per_hour": 20000},
                      "competition": {"competitors": 3, "median": 0.0015, "sigma": 0.7}}],
        "segments": [{"name": "all", "users": 100000, "ctr": 0.004, "cvr": 0.02,
                      "conversion_value": {"distribution": "fixed", "mean": 40},
                      "conversion_delay": {"distribution": "exponential", "mean": "1h"},
                      "creatives": {"shop/sharp": {"ctr": 0.008}}}],
        "campaigns": [{"name": "shop", "channels": ["display"], "creatives": ["sharp", "dull"], "bid": 0.002,
                       "goal": {"cpa": 15},
                       "bidder": {"type": "target_cpa", "params": {"per_creative_ctr": per_creative,
                                                                  "follow_base_bid": False}}}],
    }


def test_without_it_both_creatives_win_alike_and_with_it_the_sharp_one_wins_more():
    # Bids per impression: 15 x pCTR x pCVR. Per cell pCTR is about the
    # average of the two creatives, 0.006, so both bid about 15 x 0.006 x
    # 0.02 = 0.0018 against competitors whose median is 0.0015; per creative
    # `sharp` bids about 0.0024 and `dull` about 0.0012. Win rate p =
    # impressions / bids per creative, binomial: SE of a difference of two
    # rates = sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2), about 0.001 with
    # about 5 x 10^5 bids each. Without per_creative_ctr the two win rates
    # differ by noise only (|z| < 4); with it `sharp` must win clearly more
    # often (z > 4; measured on seed 3: 0.35 against 0.07, and 0.227 against
    # 0.227 without).
    aggregates = {flag: adsim.run(scenario(flag), seed=3).aggregates for flag in (False, True)}
    for flag, frame in aggregates.items():
        by_creative = frame.groupby("creative_name")[["bids", "impressions"]].sum()
        n_sharp, n_dull = float(by_creative.loc["sharp", "bids"]), float(by_creative.loc["dull", "bids"])
        p_sharp = float(by_creative.loc["sharp", "impressions"]) / n_sharp
        p_dull = float(by_creative.loc["dull", "impressions"]) / n_dull
        se = math.sqrt(p_sharp * (1 - p_sharp) / n_sharp + p_dull * (1 - p_dull) / n_dull)
        z = (p_sharp - p_dull) / se
        if flag:
            assert z > 4, (p_sharp, p_dull, z)
        else:
            assert abs(z) < 4, (p_sharp, p_dull, z)
