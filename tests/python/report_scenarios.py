"""Scenarios shared by the report tests: a run that fills every section of the report.

The "rich" run is the suite's small scenario plus what the report draws
beyond KPIs: a shock, two monitors (so alerts and monitor scores), an A/B
experiment with two sequential analyses (mSPRT and a group-sequential z boundary), tight
guardrails (so clamped actions next to applied ones) and the oracle.
"""

from __future__ import annotations

from typing import Any, Dict

from conftest import small_scenario


def rich_scenario() -> Dict[str, Any]:
    scenario = small_scenario()
    campaigns = scenario["campaigns"]
    campaigns.append({"name": "treat", "channels": ["display"], "segments": ["mature"], "creatives": ["video"],
                      "bid": 0.003, "budget": {"daily": 25}})
    campaigns[1]["controllers"] = [{"type": "pid_pacing", "params": {"kp": 8.0}}]
    campaigns[1]["guardrails"] = {"max_bid": 0.0032}
    scenario["shocks"] = [{"name": "display_drop", "start": "20h", "end": "30h", "channels": ["display"],
                           "multiply": {"ctr": 0.3}}]
    scenario["monitors"] = [{"type": "kpi_cusum", "label": "ctr_cusum", "params": {"metric": "ctr", "side": "drop"}},
                            {"type": "pace_alert", "label": "pace"}]
    scenario["experiments"] = [{"name": "video_test", "arms": ["beta", "treat"], "split": "opportunity",
                                "analyses": [{"type": "ab_test", "params": {"metric": "ctr", "method": "msprt",
                                                                            "decision": "observe"}},
                                             {"type": "ab_test", "label": "group_sequential",
                                              "params": {"metric": "ctr", "method": "ld_obf", "mde": 0.3,
                                                         "baseline_rate": 0.003, "decision": "observe"}}]}]
    scenario["oracle"] = True
    return scenario


def small_sweep(path: str) -> Any:
    """A real sweep file at `path`: the small scenario over 1 day, 2 variations x 4 seeds.

    "tight" raises alpha's bid and halves beta's daily budget, so the
    variations differ in spend, conversions and the budget running out."""
    import adsim

    scenario = small_scenario()
    scenario["duration"] = "1d"
    variations = {"base": {}, "tight": {"campaigns[0].bid": 0.006, "campaigns[1].budget.daily": 12}}
    adsim.sweep(scenario, seeds=4, variations=variations, output=path, progress=False)
    return adsim.load(path)
