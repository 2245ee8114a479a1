#!/usr/bin/env python3
"""Why the oracle is ahead: the best stack's gap to each campaign's oracle, decomposed.

Owns the "Why the oracle is ahead" and "A harder scenario" sections of
docs/strategy-comparison.md (issue 16: "If a target turns out impossible on
this scenario, show why with numbers"; "add a second, harder scenario").

**The decomposition** (--part gap). The engine's oracle for campaign c
(docs/results.md, `oracle`) is the same run with c's bidder replaced by one
that bids the true expected value of each impression (true click rate with
the user's propensity, the creative's fatigue and live shocks, times the true
conversion rate, times the conversion value or the target CPA), paced by
`pid_pacing` with default parameters and no other controller. Between the
best library stack and that oracle this script runs, per campaign and seed,
intermediate *partial oracles*, each replacing only campaign c and adding one
piece to the previous one:

1. `stack`: the best library stack (bench/results/tuned_params.yaml's
   "value" stack, built by bench/tune_strategies.py's stack_scenario).
2. `own budget`: the stack without budget_reallocation (all campaigns at
   once), so that every campaign keeps its scenario budget as the oracle
   does; the rungs below replace campaign c in this stack.
3. `oracle's rule`: c's value bidder bids what the oracle bids (target CPA =
   the goal for a CPA goal; the whole expected value, ROAS target 1, for a
   ROAS goal), on its own *estimated* rates, with the oracle's controllers
   (`pid_pacing` defaults, no `creative_thompson`). No knowledge yet: this
   step is the bid rule and the controllers.
4. `+ true cell rates`: c bids the oracle's rule on the *true* click and
   conversion rates of each (channel, segment, creative) cell, from the first
   hour (no estimation noise, no conversion delay, no cold start), through
   the oracle-assisted bench-only bidder `oracle_assisted_rates` below
   (registered by this script only, never part of the library).
5. `+ known shocks`: the same, times each live shock's click and conversion
   multipliers (the bidder knows when the checkout breaks and mends).
6. `+ known fatigue`: the engine's oracle itself (the same runs as the
   `oracle` rung: c on its own budget, paced by `pid_pacing`, the others
   running the stack) with ``adsim.run(..., oracle_user_truth=False)``: the
   true cell rates and live shocks times the creative's true fatigue factor
   at the moment of the impression, without the user's own click propensity
   and conversion shift (core/run_options.h).
7. `oracle`: the engine's oracle, which also knows each user's own click
   propensity (and conversion shift, in scenarios with `users.conversion`).

The step from `+ known shocks` to `+ known fatigue` is what the fatigue is
worth (plus the one-cycle lag of oracle_assisted_rates' bid table and the
other campaigns' reallocation among themselves, which the oracle's runs keep
and the rungs 3-5 do not); the step from `+ known fatigue` to `oracle` is the
user's own propensity alone (the same runs but for that flag). Whether each
campaign's CI at `+ known fatigue` lies wholly below 85 % of its oracle says
whether target (a) can be met by a learner that does not know each user.
Beside the ladder, `known fatigue, others' budgets fixed` is the same oracle
without user truth in the market of the rungs 3-5 (the `own budget` stack
run with its oracles), which splits the fatigue step into the fatigue alone
and the other campaigns' reallocation.

Plus one account-wide variant, not a rung of the ladder: `instant evidence`,
the stack in the same market with every conversion delay shortened to one
minute (the truth counted is the same: every conversion caused by a click of
the week), which measures what the conversion delay alone costs the
estimating stack.

Common random numbers: every variant of a seed draws the same market; the
share of the oracle is campaign conversions / its oracle's, per seed, and each
step's contribution is the paired difference of shares with a 95 % t CI.

**The harder scenario** (--part hard): bench/scenarios/comparison_hard.yaml,
the static baseline, the same baseline spend-matched to the stack
(adsim.spend_matched) and the best stack with its oracles.

    .venv/bin/python bench/oracle_gap.py --seeds 10 --workers 2 \\
        --doc docs/strategy-comparison.md --save bench/results/oracle_gap.json
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import datetime
import json
import math
import pathlib
import shlex
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import yaml
from scipy import stats

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import adsim  # noqa: E402
import strategy_comparison as comparison  # noqa: E402
import tune_strategies  # noqa: E402

DEFAULT_SCENARIO = HERE / "scenarios" / "comparison.yaml"
HARD_SCENARIO = HERE / "scenarios" / "comparison_hard.yaml"
DEFAULT_TUNED = HERE / "results" / "tuned_params.yaml"
GAP_BEGIN, GAP_END = "<!-- oracle_gap.py: gap begin -->", "<!-- oracle_gap.py: gap end -->"
HARD_BEGIN, HARD_END = "<!-- oracle_gap.py: hard begin -->", "<!-- oracle_gap.py: hard end -->"
CANDIDATES_BEGIN = "<!-- oracle_gap.py: candidates begin -->"
CANDIDATES_END = "<!-- oracle_gap.py: candidates end -->"
LEVELS = ["stack", "own budget", "oracle's rule", "+ true cell rates", "+ known shocks", "+ known fatigue",
          "oracle"]
FATIGUE = "+ known fatigue"  # the engine's oracle with oracle_user_truth=False
# The same oracle in the market of the rungs 3-5 (the other campaigns without
# budget_reallocation), to separate the fatigue from that market difference.
FATIGUE_FIXED = "known fatigue, others' budgets fixed"
INSTANT_DELAY = "1m"  # the `instant evidence` variant's conversion delay

# Truth handed to oracle_assisted_rates, by key: per campaign, the oracle's
# value per billing unit of each (channel, segment, creative) cell before
# shocks, the campaign's initial bid, and its shocks' multipliers.
TRUTH: Dict[str, Dict[str, Any]] = {}


@adsim.register_bidder(
    "oracle_assisted_rates",
    description="BENCH ONLY (bench/oracle_gap.py): the oracle's bid on the true per-cell rates, no per-user knowledge",
    params={"truth": adsim.Param("", "key of the truth registered by bench/oracle_gap.py"),
            "known_shocks": adsim.Param(False, "also multiply by each live shock's true multipliers")})
class OracleAssistedRates(adsim.Bidder):
    """A partial oracle: the oracle's rule (core/engine/run_loop.cc, OracleBid)
    on the true rates of each (channel, segment, creative) cell, scaled by
    base bid / initial bid like the oracle, so pid_pacing steers it. It knows
    neither the user's propensity (mean 1) nor the creative's fatigue; with
    known_shocks it knows the shocks. A bid table per control cycle (C++
    speed per request; a per-request Python bidder made the study too slow
    for the shared machine): the table is built before the cycle's
    controllers act, so it follows pid_pacing's base bid one cycle late,
    whereas the engine's oracle reads the base bid live. With nothing
    per-opportunity to know, the two then differ by that lag only
    (tests/python/test_oracle_gap.py measures it)."""

    def __init__(self, truth: str = "", known_shocks: bool = False) -> None:
        super().__init__(truth=truth, known_shocks=known_shocks)
        entry = TRUTH[truth]
        self.values: np.ndarray = entry["values"][self.campaign]
        self.initial_bid: float = entry["initial_bids"][self.campaign]
        self.shocks: List[Tuple[int, int, np.ndarray]] = entry["shocks"][self.campaign] if known_shocks else []

    def on_cycle(self, snapshot: Any) -> np.ndarray:
        state = snapshot.campaigns[self.campaign]
        table = self.values * (state.bid / self.initial_bid if self.initial_bid > 0 else 1.0)
        for start, end, multiplier in self.shocks:
            if start <= snapshot.time < end:
                table = table * multiplier
        return table


def register_truth(key: str, scenario: dict) -> None:
    """Reads the true rates and shocks of `scenario` (its `truth_rates` and
    `truth_shocks` tables, from a one-hour run: they do not depend on the
    seed or the duration) into TRUTH[key] in the oracle's units."""
    result = adsim.run({**copy.deepcopy(scenario), "duration": "1h"}, seed=1)
    truth, shocks = result.table("truth_rates"), result.table("truth_shocks")
    channels = scenario["channels"]
    segments = [s["name"] for s in scenario["segments"]]
    channel_names = [ch["name"] for ch in channels]
    values, initial, shock_lists = [], [], []
    for c, camp in enumerate(scenario["campaigns"]):
        rows = truth[truth["campaign"] == c]
        creatives = int(rows["creative"].max()) + 1
        table = np.zeros((len(channels), len(segments), creatives))
        click_billed = np.array([ch.get("billing", "impression") == "click" for ch in channels])
        goal = camp.get("goal") or {}
        for row in rows.itertuples():
            ch, seg, cr = int(row.channel), int(row.segment), int(row.creative)
            unit = float(goal["cpa"]) if "cpa" in goal else float(row.value_mean)
            value = float(row.cvr) * unit
            if not click_billed[ch]:
                auction = channels[ch].get("auction")
                factors = auction.get("click_factors", [1.0]) if isinstance(auction, dict) else [1.0]
                value *= float(row.ctr) * float(factors[0])
            table[ch, seg, cr] = value
        values.append(table)
        initial.append(float(camp["bid"]))
        mine = []
        for shock in shocks.itertuples():
            multiplier = np.ones_like(table)
            named_channels = [x for x in str(shock.channels).split(",") if x]
            named_segments = [x for x in str(shock.segments).split(",") if x]
            for ch, channel in enumerate(channel_names):
                if named_channels and channel not in named_channels:
                    continue
                for seg, segment in enumerate(segments):
                    if named_segments and segment not in named_segments:
                        continue
                    multiplier[ch, seg, :] = float(shock.cvr) * (1.0 if click_billed[ch] else float(shock.ctr))
            if not np.all(multiplier == 1.0):
                mine.append((int(shock.start), int(shock.end), multiplier))
        shock_lists.append(mine)
    TRUTH[key] = {"values": values, "initial_bids": initial, "shocks": shock_lists}


def oracle_rule_bidder(camp: dict) -> dict:
    """c's value bidder with the oracle's target: the CPA goal, or ROAS 1."""
    goal = camp.get("goal") or {}
    params = dict(comparison.COLD_START)
    if "cpa" in goal:
        return {"type": "target_cpa", "params": {**params, "target_cpa": float(goal["cpa"])}}
    return {"type": "target_roas", "params": {**params, "target_roas": 1.0}}


def own_budget(stack: dict) -> dict:
    """The stack without budget_reallocation: every campaign keeps the daily
    budget the scenario gives it, as the engine's oracle does (no other
    controller may change the oracle's campaign, docs/results.md)."""
    sc = copy.deepcopy(stack)
    sc["controllers"] = [x for x in sc.get("controllers", []) if x.get("type") != "budget_reallocation"]
    return sc


def with_campaign(stack: dict, c: int, bidder: dict) -> dict:
    """The stack without reallocation (own_budget) with campaign c's bidder
    replaced and its controllers those of the oracle."""
    sc = own_budget(stack)
    camp = sc["campaigns"][c]
    camp["bidder"] = bidder
    camp["controllers"] = [{"type": "pid_pacing"}]
    return sc


def instant_evidence(stack: dict) -> dict:
    """The stack in the same market with every conversion delay one minute."""
    sc = copy.deepcopy(stack)
    for seg in sc["segments"]:
        seg["conversion_delay"] = {"distribution": "exponential", "mean": INSTANT_DELAY}
    return sc


def with_bidder_params(stack: dict, **params: Any) -> dict:
    """The stack with `params` added to every campaign's value bidder."""
    sc = copy.deepcopy(stack)
    for camp in sc["campaigns"]:
        if isinstance(camp["bidder"], dict):
            camp["bidder"].setdefault("params", {}).update(params)
    return sc


# Library changes tried where the decomposition points, each paired against
# the stack on the same held-out seeds (--part candidates); a change becomes
# the stack's only if it helps (docs/strategy-comparison.md, "Library changes
# tried").
CANDIDATES = {
    "per-creative click rates (`per_creative_ctr: true`)": lambda stack: with_bidder_params(
        stack, per_creative_ctr=True),
    "fatigue-aware click rates (`fatigue: exposure`)": lambda stack: with_bidder_params(
        stack, fatigue="exposure"),
    "fatigue-aware creative rotation (`fatigue: exposure` in `creative_thompson`)": lambda stack:
        with_controller_params(stack, "creative_thompson", fatigue="exposure"),
    "fatigue-aware bidders and creative rotation (`fatigue: exposure` in the value bidders and in "
    "`creative_thompson`)": lambda stack: with_controller_params(
        with_bidder_params(stack, fatigue="exposure"), "creative_thompson", fatigue="exposure"),
}


def with_controller_params(stack: dict, controller: str, **params: Any) -> dict:
    """The stack with `params` added to every campaign's `controller`."""
    sc = copy.deepcopy(stack)
    for camp in sc["campaigns"]:
        for spec in camp.get("controllers", []):
            if isinstance(spec, dict) and spec.get("type") == controller:
                spec.setdefault("params", {}).update(params)
    return sc


def with_oracle(result, n: int) -> Dict[str, List[float]]:
    """per_campaign of a run made with `oracle: true`, plus each campaign's
    oracle's true conversions (that variant's own oracles)."""
    out = per_campaign(result, n)
    oracle = result.table("oracle").sort_values("campaign")
    out["oracle_conversions"] = [float(x) for x in oracle["oracle_conversions"]]
    return out


def candidates_seed(stack: dict, seed: int) -> Dict[str, Any]:
    """The stack and each candidate on one seed, each with its campaigns' oracles."""
    n = len(stack["campaigns"])
    out: Dict[str, Any] = {"seed": seed, "stack": with_oracle(adsim.run({**stack, "oracle": True}, seed=seed), n)}
    for name, build in CANDIDATES.items():
        out[name] = with_oracle(adsim.run({**build(stack), "oracle": True}, seed=seed), n)
    return out


def per_campaign(result, n: int) -> Dict[str, List[float]]:
    """True conversions, value and spend per campaign of a run."""
    conv = result.table("conversions").groupby("campaign")["value"].agg(["size", "sum"])
    spend = result.table("daily").groupby("campaign")["spend"].sum()
    return {"conversions": [float(conv["size"].get(c, 0)) for c in range(n)],
            "value": [float(conv["sum"].get(c, 0.0)) for c in range(n)],
            "spend": [float(spend.get(c, 0.0)) for c in range(n)]}


def oracle_per_campaign(result) -> Dict[str, List[float]]:
    """True conversions, value and spend per campaign of a run's oracles (its `oracle` table)."""
    oracle = result.table("oracle").sort_values("campaign")
    return {metric: [float(x) for x in oracle[f"oracle_{metric}"]] for metric in ("conversions", "value", "spend")}


def gap_seed(stack: dict, key: str, seed: int) -> Dict[str, Any]:
    """Every variant of the decomposition on one seed."""
    n = len(stack["campaigns"])
    head = adsim.run({**stack, "oracle": True}, seed=seed)
    out: Dict[str, Any] = {"seed": seed, "stack": per_campaign(head, n), "oracle": oracle_per_campaign(head)}
    # The own-budget stack with its oracles without user truth: the run itself
    # is the `own budget` rung (neither the oracles nor the option change it);
    # its oracles are FATIGUE_FIXED.
    fixed = adsim.run({**own_budget(stack), "oracle": True}, seed=seed, oracle_user_truth=False)
    out["own budget"] = per_campaign(fixed, n)
    out[FATIGUE_FIXED] = oracle_per_campaign(fixed)
    for level in LEVELS[2:5]:
        out[level] = {"conversions": [], "value": [], "spend": []}
    for c, camp in enumerate(stack["campaigns"]):
        variants = {
            "oracle's rule": oracle_rule_bidder(camp),
            "+ true cell rates": {"type": "oracle_assisted_rates", "params": {"truth": key}},
            "+ known shocks": {"type": "oracle_assisted_rates", "params": {"truth": key, "known_shocks": True}},
        }
        for level, bidder in variants.items():
            got = per_campaign(adsim.run(with_campaign(stack, c, bidder), seed=seed), n)
            for metric in got:
                out[level][metric].append(got[metric][c])
    # The engine's oracles again, without the user's own propensity: the run
    # itself (no oracle in it) must be the stack's, bit for bit.
    known = adsim.run({**stack, "oracle": True}, seed=seed, oracle_user_truth=False)
    if per_campaign(known, n) != out["stack"]:
        raise RuntimeError(f"seed {seed}: oracle_user_truth=False changed the run itself, not only its oracles")
    out[FATIGUE] = oracle_per_campaign(known)
    out["instant evidence"] = per_campaign(adsim.run(instant_evidence(stack), seed=seed), n)
    return out


def runs_per_seed(n: int) -> int:
    """Engine runs per seed of --part gap for n campaigns: the stack with its
    n oracles, own budget with its n oracles without user truth, the 3
    replaced rungs per campaign, the stack again with its n oracles without
    user truth, and instant evidence."""
    return (1 + n) + (1 + n) + 3 * n + (1 + n) + 1


def fatigue_verdicts(data: dict) -> List[Tuple[str, float, float, float, str]]:
    """Per campaign at the `+ known fatigue` rung: (name, mean, CI low, CI
    high, verdict) with shares in percent and the verdict by the rule of the
    Targets section: "met" when the CI starts at 85 % or more, "no" when it
    ends below 85 %, "not resolved" when it straddles 85 %."""
    out = []
    for c, name in enumerate(data["campaigns"]):
        share = shares(data["runs"], FATIGUE, c)
        mean, lo, hi = mean_ci(100 * share)
        out.append((name, mean, lo, hi, hard_share_verdict(share)))
    return out


def hard_seed(scenario: dict, stack: dict, seed: int, tolerance: float) -> Dict[str, Any]:
    """Baseline, stack (with its oracles) and the baseline spend-matched to the stack, on one seed."""
    n = len(scenario["campaigns"])
    base_sc = comparison.baseline(scenario)
    base = adsim.run(base_sc, seed=seed)
    head = adsim.run({**stack, "oracle": True}, seed=seed)
    target = float(head.table("daily")["spend"].sum())
    match = adsim.spend_matched(base_sc, target, seed=seed, tolerance=tolerance)
    oracle = head.table("oracle").sort_values("campaign")
    return {"seed": seed,
            "baseline": {**comparison.kpis(base), **{"campaigns": per_campaign(base, n)}},
            "stack": {**comparison.kpis(head), **{"campaigns": per_campaign(head, n)}},
            "matched": {**comparison.kpis(match.result), "multiplier": match.multiplier, "matched": match.matched,
                        "runs": len(match.tried)},
            "oracle": {"conversions": [float(x) for x in oracle["oracle_conversions"]],
                       "spend": [float(x) for x in oracle["oracle_spend"]]}}


def run_parallel(function, arguments: List[tuple], workers: int, label: str, t0: float,
                 partial: Optional[pathlib.Path] = None) -> List[Any]:
    """function(*a) for each a on `workers` threads (adsim.run releases the GIL), in order.
    With `partial`, the results finished so far are written there (JSON) after each one,
    so that an interrupted study keeps its finished seeds (--load renders them)."""
    results: List[Any] = [None] * len(arguments)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(function, *a): i for i, a in enumerate(arguments)}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]] = future.result()
            print(f"  {label}: {sum(r is not None for r in results)}/{len(arguments)} "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
            if partial is not None:
                partial.write_text(json.dumps([r for r in results if r is not None], indent=1))
    return results


def mean_ci(values: np.ndarray) -> Tuple[float, float, float]:
    """Mean and 95 % t interval (seeds where the value is undefined left out)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def pct(values: np.ndarray) -> str:
    mean, lo, hi = mean_ci(100 * np.asarray(values))
    return f"{mean:.1f} % [{lo:.1f}, {hi:.1f}]"


def pts(values: np.ndarray) -> str:
    """A paired difference of shares, in percentage points, with its CI."""
    mean, lo, hi = mean_ci(100 * np.asarray(values))
    sign = lambda x: ("+" if x >= 0 else "−") + f"{abs(x):.1f}"  # noqa: E731
    return f"{sign(mean)} [{sign(lo)}, {sign(hi)}]"


def shares(runs: List[dict], level: str, c: int) -> np.ndarray:
    """Campaign c's conversions at `level` / its oracle's, per seed."""
    return np.array([r[level]["conversions"][c] / r["oracle"]["conversions"][c]
                     if r["oracle"]["conversions"][c] > 0 else math.nan for r in runs])


def seed_text(seeds: List[int]) -> str:
    """1..10, or the list when the seeds are not consecutive."""
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}..{seeds[-1]}"
    return ", ".join(str(s) for s in seeds)


def stopped(data: dict) -> str:
    """Says so when the measurement was stopped before all its seeds finished (--from-partial)."""
    asked = data.get("interrupted")
    return f"; stopped at the deadline with {len(data['runs'])} of {asked} seeds finished" if asked else ""


def render_gap(data: dict) -> str:
    runs, names = data["runs"], data["campaigns"]
    seeds = [r["seed"] for r in runs]
    lines = [GAP_BEGIN, "## Why the oracle is ahead", "",
             f"> Measured by `{data['command']}` at commit {data['commit']} on {data['date']} "
             f"({len(runs)} held-out seeds {seed_text(seeds)}, {data['runs_made']} runs in "
             f"{data['wall_s']:.0f} s, {data['workers']} worker threads{stopped(data)}). Tuned values: "
             f"`{data['tuned']}`.", "",
             "<!-- doc-test: skip hundreds of runs, tens of minutes -->", "```sh",
             ".venv/bin/python bench/oracle_gap.py --seeds 10 --workers 2 --doc docs/strategy-comparison.md \\",
             "    --save bench/results/oracle_gap.json", "```", "",
             "Each campaign's oracle knows more than any library bidder can: it bids every opportunity on the "
             "true click and conversion probabilities from the first hour, shocks and fatigue included, and on "
             "the user's own click propensity. To see which of these pieces of knowledge the gap is made of, "
             "bench/oracle_gap.py runs *partial oracles* between the best stack (the `value` stack with "
             "`tuned_params.yaml`) and the oracle, each replacing only that campaign's bidder and adding one "
             "piece to the rung above it (the other campaigns run the stack; common random numbers):", "",
             "1. **stack**: the best library stack.",
             "2. **own budget**: the same stack without `budget_reallocation`, so that every campaign keeps the "
             "daily budget the scenario gives it, as the oracle does (no other controller may change the "
             "oracle's campaign). All campaigns at once; the rungs below replace one campaign in this stack.",
             "3. **oracle's rule**: the campaign's own value bidder, on its estimated rates, bidding what the oracle "
             "bids (target CPA = the goal; for a ROAS goal the whole expected value, ROAS target 1), with the "
             "oracle's controllers (`pid_pacing` defaults, no `creative_thompson`). No knowledge yet: this step "
             "is the bid rule.",
             "4. **+ true cell rates**: the oracle's rule on the *true* click and conversion rates of each "
             "(channel, segment, creative) cell from the first hour: no estimation noise, no conversion delay, no "
             "cold start. A bench-only, oracle-assisted Python bidder (`oracle_assisted_rates`, registered by "
             "the script, not a library strategy).",
             "5. **+ known shocks**: the same, times each live shock's true click and conversion multipliers. "
             "With nothing per-opportunity to know, this rung bids what the engine's oracle bids, except that "
             "its bid table follows `pid_pacing`'s base bid one control cycle late "
             "(tests/python/test_oracle_gap.py measures the difference).",
             "6. **+ known fatigue**: the engine's oracle itself, in the same runs as the oracle (the campaign "
             "on its own budget, paced by `pid_pacing`; the other campaigns run the stack), bidding the true cell "
             "rates and live shocks times the creative's true fatigue factor at the moment of the impression, but "
             "without the user's own click propensity (`adsim.run(..., oracle_user_truth=False)`, a bench and "
             "test option, docs/python.md). Everything the oracle knows except what is the user's own.",
             "7. **oracle**: the engine's oracle, which also knows each user's own click propensity.", "",
             "Share of the oracle's conversions at each rung (mean of per-seed shares, 95 % CI); the last column "
             f"is the `{FATIGUE}` rung against target (a)'s "
             f"{100 * tune_strategies.TARGET_ORACLE_SHARE:.0f} % (met: the whole CI at or above it; no: the whole "
             "CI below it):", "",
             "| campaign | " + " | ".join(LEVELS[:6]) + f" | {FATIGUE} at "
             f"{100 * tune_strategies.TARGET_ORACLE_SHARE:.0f} % |", "|---|" + "---|" * 7]
    verdicts = fatigue_verdicts(data)
    for c, name in enumerate(names):
        lines.append(f"| `{name}` | " + " | ".join(pct(shares(runs, level, c)) for level in LEVELS[:6])
                     + f" | {verdicts[c][4]} |")
    lines += ["", "Each step as a paired difference of shares, in percentage points of the oracle's conversions "
              "(95 % CI). What only per-opportunity knowledge explains (100 % − the known-shocks rung) is split "
              f"in two: **fatigue** (`{FATIGUE}` − `+ known shocks`, which also holds the partial oracle's one-"
              "cycle lag and the other campaigns' reallocation among themselves, kept in the oracle's runs) and "
              f"**user propensity** (100 % − `{FATIGUE}`, the same runs as the oracle's but for the user's own "
              "propensity):", "",
              "| campaign | gap (100 % − stack) | own budget | oracle's rule | true cell rates | known shocks | "
              "fatigue | user propensity |", "|---|---|---|---|---|---|---|---|"]
    for c, name in enumerate(names):
        s = [shares(runs, level, c) for level in LEVELS[:6]]
        steps = [pts(s[i + 1] - s[i]) for i in range(5)]
        lines.append(f"| `{name}` | {pts(1.0 - s[0])} | " + " | ".join(steps) + f" | {pts(1.0 - s[5])} |")
    if all(FATIGUE_FIXED in r for r in runs):
        lines += ["", "**The fatigue step without the other campaigns' reallocation.** The oracle's runs (and so "
                  f"`{FATIGUE}`) keep `budget_reallocation` among the *other* campaigns; the rungs 3 to 5 run "
                  "without it. The same oracle without the user's propensity, in the market of the rungs 3 to 5 "
                  f"(`{FATIGUE_FIXED}`: the `own budget` stack's oracles with `oracle_user_truth=False`), "
                  "separates the two (share of the same oracle; steps in points, paired):", "",
                  f"| campaign | + known shocks | {FATIGUE_FIXED} | {FATIGUE} | fatigue alone | "
                  "others' reallocation |", "|---|---|---|---|---|---|"]
        for c, name in enumerate(names):
            a, b, f = (shares(runs, level, c) for level in ("+ known shocks", FATIGUE_FIXED, FATIGUE))
            lines.append(f"| `{name}` | {pct(a)} | {pct(b)} | {pct(f)} | {pts(b - a)} | {pts(f - b)} |")
    lines += ["", "Spend / true conversions of the campaign at each rung (means over seeds; the budgets "
              "are 250 a day, which `budget_reallocation` moves between campaigns in the stack only):", "",
              "| campaign | " + " | ".join(LEVELS) + " |", "|---|" + "---:|" * len(LEVELS)]
    for c, name in enumerate(names):
        cells = [comparison.fmt(float(np.mean([r[level]["spend"][c] for r in runs]))) + " / " +
                 comparison.fmt(float(np.mean([r[level]["conversions"][c] for r in runs]))) for level in LEVELS]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    totals = {level: np.array([sum(r[level]["conversions"]) for r in runs]) for level in ("stack", "own budget")}
    mean, lo, hi, rel, _ = comparison.paired(totals["stack"], totals["own budget"])
    lines += ["", f"All campaigns together: the stack buys {comparison.fmt(totals['stack'].mean())} conversions, "
              f"without reallocation {comparison.fmt(totals['own budget'].mean())} (Δ {comparison.signed(mean)}, "
              + f"95 % CI [{comparison.fmt(lo)}, {comparison.fmt(hi)}]; {rel:+.1f} %).".replace("-", "−")]
    lines += ["", "**The conversion delay alone** (`instant evidence`: the stack in the same market with every "
              f"conversion delay shortened to {INSTANT_DELAY}, so its evidence is complete at once; all campaigns "
              "at the same time, share of the same oracles, paired against the stack):", "",
              "| campaign | stack | instant evidence | Δ (points) |", "|---|---|---|---|"]
    for c, name in enumerate(names):
        a, b = shares(runs, "stack", c), shares(runs, "instant evidence", c)
        lines.append(f"| `{name}` | {pct(a)} | {pct(b)} | {pts(b - a)} |")
    lines += ["", reading_gap(data), GAP_END]
    return "\n".join(lines)


def reading_gap(data: dict) -> str:
    """What the tables say, in words, from the same numbers."""
    runs, names = data["runs"], data["campaigns"]
    labels = ["keeping its own budget", "the oracle's bid rule", "the true cell rates", "knowing the shocks",
              "knowing the fatigue"]
    sentences = []
    sg = lambda x: f"{x:+.1f}".replace("-", "−")  # noqa: E731
    for c, name in enumerate(names):
        s = [shares(runs, level, c) for level in LEVELS[:6]]
        steps = [(labels[i], s[i + 1] - s[i]) for i in range(5)] + [("the user's own propensity", 1.0 - s[5])]
        label, biggest = max(steps, key=lambda item: float(np.nanmean(item[1])))
        mean, lo, hi = mean_ci(100 * biggest)
        _, gap_lo, gap_hi = mean_ci(100 * (1.0 - s[0]))
        piece = ("the largest piece of its gap is" if gap_lo > 0 else
                 f"it has no gap resolved by these seeds (CI of the gap [{sg(gap_lo)}, {sg(gap_hi)}] points); "
                 "its largest positive step is" if gap_hi >= 0 else
                 f"it is ahead of its oracle (CI of the gap [{sg(gap_lo)}, {sg(gap_hi)}] points); its largest "
                 "positive step is")
        resolved = "" if lo > 0 or hi < 0 else ", not resolved"
        sentences.append(f"`{name}` reaches {mean_ci(100 * s[0])[0]:.1f} % of its oracle; {piece} {label} "
                         f"({sg(mean)} points, CI [{sg(lo)}, {sg(hi)}]{resolved})")
    totals = {level: np.array([sum(r[level]["conversions"]) for r in runs]) for level in ("stack", "own budget")}
    total = comparison.paired(totals["stack"], totals["own budget"])
    moved = [f"`{name}` {pts(shares(runs, 'own budget', c) - shares(runs, 'stack', c))} points"
             for c, name in enumerate(names)]
    sentences.append("keeping every campaign's own budget (no reallocation) changes the shares by " +
                     ", ".join(moved) + f" and all campaigns' conversions by {comparison.signed(total[0])} "
                     + f"(CI [{comparison.fmt(total[1])}, {comparison.fmt(total[2])}]): ".replace("-", "−") +
                     "the per-campaign share partly measures where the stack moves the budget, which the engine's oracle, keeping its "
                     "campaign's budget, never does")
    return ("**Reading.** " + "; ".join(sentences) + ". A step whose CI includes 0 is not resolved with "
            f"{len(runs)} seeds. The shares of one campaign at different rungs are paired (same seeds, same "
            "market); a negative step means that this piece, added to the rungs before it, cost that campaign "
            "conversions.\n\n" + reading_fatigue(data))


def fatigue_sentence(name: str, mean: float, lo: float, hi: float, verdict: str) -> str:
    """Target (a) for one campaign at the `+ known fatigue` rung, in words."""
    target = f"{100 * tune_strategies.TARGET_ORACLE_SHARE:.0f} %"
    share = f"`{name}` {mean:.1f} % (CI [{lo:.1f}, {hi:.1f}])".replace("-", "−")
    if verdict == "no":
        return (f"{share}: the whole CI is below {target}: even knowing fatigue, without the user's propensity a "
                f"bidder on the campaign's own budget does not reach {target} of its oracle")
    if verdict == "not resolved":
        return f"{share}: the CI straddles {target}: not resolved with these seeds"
    return (f"{share}: the whole CI is at or above {target}: reachable in principle by a fatigue-aware learner "
            "on the campaign's own budget")


def reading_fatigue(data: dict) -> str:
    """Target (a) at the `+ known fatigue` rung: which campaigns a bidder
    that knows everything but the user's own propensity brings to 85 % of
    their oracles, on their own budgets."""
    verdicts = fatigue_verdicts(data)
    target = f"{100 * tune_strategies.TARGET_ORACLE_SHARE:.0f} %"
    short = [v[0] for v in verdicts if v[4] == "no"]
    open_ = [v[0] for v in verdicts if v[4] == "not resolved"]
    if short:
        conclusion = (", ".join(f"`{n}`" for n in short) + (" is" if len(short) == 1 else " are") +
                      f" below {target} even with everything the oracle knows except the user: target (a) "
                      "cannot be met on this scenario by a bidder that keeps the campaign's own budget and does "
                      "not know each user's propensity; what is left is the user's own propensity, or more "
                      "budget than the campaign's own (moved away from the other campaigns)")
    elif open_:
        conclusion = (f"no campaign's CI lies wholly below {target}, but for " + ", ".join(f"`{n}`" for n in open_) +
                      (" the CI straddles" if len(open_) == 1 else " the CIs straddle")
                      + " it: whether a fatigue-aware learner without the user's propensity can "
                      f"meet (a) is not resolved with {len(data['runs'])} seeds")
    else:
        conclusion = (f"every campaign's CI is at or above {target}: without knowing any user, a bidder that "
                      "knows the cell rates, the shocks and the fatigue meets (a) on each campaign's own budget, "
                      "so fatigue-aware learning is the road to (a)")
    runs = data["runs"]
    same = [v[0] for c, v in enumerate(verdicts)
            if all(r[FATIGUE]["conversions"][c] == r["oracle"]["conversions"][c] for r in runs)]
    text = (f"**Target (a) without the user's propensity** (the `{FATIGUE}` rung, {len(runs)} seeds): "
            + "; ".join(fatigue_sentence(*v) for v in verdicts) + f". So {conclusion}.")
    if same:
        text += (" " + ", ".join(f"`{n}`" for n in same) + (" buys" if len(same) == 1 else " buy")
                 + f" on `{FATIGUE}` exactly what {'its' if len(same) == 1 else 'their'} oracle buys on every "
                 "seed: nothing of the user enters those oracles' bids (bids per click on the click-billed "
                 "search channel; no propensity spread in the segments bought).")
    if all(FATIGUE_FIXED in r for r in runs):
        fixed = []
        for c, name in enumerate(data["campaigns"]):
            share = shares(runs, FATIGUE_FIXED, c)
            mean, lo, hi = mean_ci(100 * share)
            fixed.append(f"`{name}` {mean:.1f} % (CI [{lo:.1f}, {hi:.1f}], {hard_share_verdict(share)})"
                         .replace("-", "−"))
        text += (f" With the other campaigns' budgets fixed as in the rungs 3 to 5 (`{FATIGUE_FIXED}`; at "
                 f"{target}: met, no or not resolved): " + "; ".join(fixed) + ".")
    return text


def hard_share_verdict(share: np.ndarray) -> str:
    """Target (a) for one campaign, by the rule of the Targets section: "met"
    when the CI of its per-seed shares starts at 85 % or more, "no" when it
    ends below 85 %, "not resolved" when it straddles 85 %."""
    mean, lo, hi = mean_ci(share)
    if lo >= tune_strategies.TARGET_ORACLE_SHARE:
        return "met"
    if hi < tune_strategies.TARGET_ORACLE_SHARE:
        return "no"
    return "not resolved"


def reading_hard(data: dict) -> str:
    """What the hard scenario's tables say, in words, from the same numbers:
    where the stack stands on the issue's two targets, (a) 85 % of each
    campaign's oracle and (b) a true CPA at least 20 % below the baseline at
    equal spend with the whole CI there, measured as the Targets section
    measures them on the first scenario."""
    runs, names = data["runs"], data["campaigns"]
    spend = {v: np.array([r[v]["spend"] for r in runs]) for v in ("baseline", "matched", "stack")}
    conv = {v: np.array([r[v]["conversions"] for r in runs]) for v in ("baseline", "matched", "stack")}
    cpa = {v: np.array([r[v]["CPA"] for r in runs]) for v in ("matched", "stack")}
    d_conv = comparison.paired(conv["matched"], conv["stack"])
    d_cpa = comparison.paired(cpa["matched"], cpa["stack"])
    scenario = yaml.safe_load(HARD_SCENARIO.read_text())
    budget = sum(float(c["budget"]["daily"]) for c in scenario["campaigns"]) * 7
    fmt = comparison.fmt
    text = (f"**Reading.** At its fixed bids the static baseline spends {fmt(spend['baseline'].mean())} "
            f"of the week's budgets of {fmt(budget)} (the stronger competition outbids it), so against the "
            "baseline as written the stack mostly buys with money the baseline leaves unspent; the targets "
            "are judged at equal spend and against the oracles, as in the Targets section, on "
            f"{len(runs)} seeds. ")
    # (a): every campaign at 85 % of its oracle's conversions.
    verdicts = {name: hard_share_verdict(shares_of(runs, c)) for c, name in enumerate(names)}
    target = f"{100 * tune_strategies.TARGET_ORACLE_SHARE:.0f} %"

    def listed(state: str) -> Tuple[str, bool]:
        """The campaigns in `state` with their mean shares, joined by "and"; and whether there are several."""
        named = [f"`{name}` ({mean_ci(100 * shares_of(runs, c))[0]:.1f} %)"
                 for c, name in enumerate(names) if verdicts[name] == state]
        text = ", ".join(named[:-1]) + (" and " if len(named) > 1 else "") + (named[-1] if named else "")
        return text, len(named) > 1

    if all(v == "met" for v in verdicts.values()):
        verdict_a = f"**met**: every campaign's CI is at or above {target}"
    else:
        (missed, several_missed), (open_, several_open), (met, several_met) = (
            listed("no"), listed("not resolved"), listed("met"))
        verdict_a = "**not met**" if missed else f"**not resolved** with {len(runs)} seeds"
        parts = ([f"the whole CI{'s' if several_missed else ''} of {missed} {'are' if several_missed else 'is'} "
                  f"below {target}"] if missed else []) + \
            ([f"the CI{'s' if several_open else ''} of {open_} straddle{'' if several_open else 's'} {target}"]
             if open_ else []) + \
            ([f"{'those' if several_met else 'that'} of {met} {'are' if several_met else 'is'} at or above it"]
             if met else [])
        verdict_a += ": " + "; ".join(parts)
    text += f"(a) {target} of each campaign's oracle conversions: {verdict_a}. "
    # (b): true CPA at least 20 % below the baseline at equal spend, whole CI.
    base_cpa = float(cpa["matched"].mean())
    limit = -tune_strategies.TARGET_CPA_GAIN * base_cpa
    gain = f"{100 * tune_strategies.TARGET_CPA_GAIN:.0f} %"
    if d_cpa[2] <= limit:
        verdict_b = "**met**: the whole CI is at or below"
    elif d_cpa[1] > limit:
        verdict_b = "**not met**: the whole CI is above"
    else:
        verdict_b = f"**not resolved** with {len(runs)} seeds: the CI straddles"
    excludes_zero = "excludes 0" if d_cpa[2] < 0 or d_cpa[1] > 0 else "includes 0"
    # Both at the budgets: equal spend is then equal budget spent.
    capped = min(spend["matched"].mean(), spend["stack"].mean()) >= 0.99 * budget
    cap_text = "; both spend at least 99 % of the budgets, so equal spend is here equal budget spent" if capped else ""
    text += (f"(b) at equal spend (the baseline's bids scaled to spend {fmt(spend['matched'].mean())}{cap_text}) the "
             f"stack buys {comparison.signed(d_conv[0])} conversions ({d_conv[3]:+.1f} %, CI [{fmt(d_conv[1])}, "
             f"{fmt(d_conv[2])}]) at a true CPA {comparison.signed(d_cpa[0])} ({d_cpa[3]:+.1f} %) against the "
             f"baseline's {fmt(base_cpa)} (CI of the difference [{fmt(d_cpa[1])}, {fmt(d_cpa[2])}], which "
             f"{excludes_zero}); the "
             f"target, {gain} better, needs the whole CI at or below {fmt(limit)}, so (b) is {verdict_b} "
             f"{fmt(limit)}. ")
    word = {"met": "meets", "not met": "does not meet", "not resolved": "is not shown (with these seeds) to meet"}
    state_a, state_b = (verdict.split("**")[1] for verdict in (verdict_a, verdict_b))
    worst = min(range(len(names)), key=lambda c: mean_ci(shares_of(runs, c))[0])
    text += (f"So on this harder scenario the stack (tuned on the first scenario only) {word[state_b]} target (b) "
             f"and {word[state_a]} target (a); the campaign furthest from its oracle is `{names[worst]}` at "
             f"{mean_ci(100 * shares_of(runs, worst))[0]:.1f} % of its oracle's conversions.")
    return text.replace("-", "−")


def shares_of(runs: List[dict], c: int) -> np.ndarray:
    """The stack's share of campaign c's oracle conversions, per seed (seeds
    where the oracle bought none left out)."""
    return np.array([r["stack"]["campaigns"]["conversions"][c] / r["oracle"]["conversions"][c]
                     for r in runs if r["oracle"]["conversions"][c] > 0])


def shell_lines(command: str) -> List[str]:
    """The measurement's own command ("python bench/oracle_gap.py ...") as the
    doc's shell block runs it, broken before --doc as the page writes it."""
    head, marker, tail = command.removeprefix("python ").partition(" --doc")
    return [f".venv/bin/python {head} \\", f"    --doc{tail}"] if marker else [f".venv/bin/python {head}"]


def render_hard(data: dict) -> str:
    runs, names = data["runs"], data["campaigns"]
    seeds = [r["seed"] for r in runs]

    def col(variant: str, metric: str) -> np.ndarray:
        return np.array([r[variant][metric] for r in runs], dtype=float)

    lines = [HARD_BEGIN, "## A harder scenario: `bench/scenarios/comparison_hard.yaml`", "",
             f"> Measured by `{data['command']}` at commit {data['commit']} on {data['date']} "
             f"({len(runs)} seeds {seed_text(seeds)}, {data['wall_s']:.0f} s{stopped(data)}). Tuned values: "
             f"`{data['tuned']}` (tuned on the first scenario, not on this one).", "",
             "<!-- doc-test: skip tens of runs, minutes -->", "```sh",
             *shell_lines(data["command"]), "```", "",
             "The same market made harder rather than easier (its header lists every change): conversion "
             "delays three times longer, conversion rates halved, two more competitors per channel bidding "
             "25 % more, fatigue twice as fast and slower to recover, and four shocks instead of two (a "
             "conversion-tracking outage on display and a social competitor surge added). Static baseline, the "
             "same baseline with its bids scaled per seed to spend what the stack spends (`adsim.spend_matched`, "
             f"tolerance {data['tolerance']}), and the best stack, paired (Δ = stack − baseline, 95 % CI):", "",
             "| metric | baseline | baseline at equal spend | stack | Δ vs baseline | Δ vs equal spend |",
             "|---|---:|---:|---:|---|---|"]
    for metric in ["spend", "conversions", "value", "CPA", "ROAS"]:
        b, m, s = col("baseline", metric), col("matched", metric), col("stack", metric)
        d1 = comparison.paired(b, s)
        d2 = comparison.paired(m, s)
        lines.append(f"| {metric} | {comparison.fmt(b.mean())} | {comparison.fmt(m.mean())} | "
                     f"{comparison.fmt(s.mean())} | {comparison.fmt(d1[0])} [{comparison.fmt(d1[1])}, "
                     f"{comparison.fmt(d1[2])}]; {d1[3]:+.1f} % | {comparison.fmt(d2[0])} "
                     f"[{comparison.fmt(d2[1])}, {comparison.fmt(d2[2])}]; {d2[3]:+.1f} % |")
    mult = col("matched", "multiplier")
    lines += ["", f"Spend-match multipliers: median {np.median(mult):.2f}, range {mult.min():.2f} to "
              f"{mult.max():.2f}; {int(sum(r['matched']['matched'] for r in runs))} of {len(runs)} seeds within "
              "the tolerance.", "",
              "Each campaign against its oracle (share of the oracle's conversions, mean of per-seed shares, "
              "95 % CI):", "",
              "| campaign | baseline conversions | stack conversions | oracle's conversions | stack's share | "
              f"at {100 * tune_strategies.TARGET_ORACLE_SHARE:.0f} % |",
              "|---|---:|---:|---:|---|---|"]
    for c, name in enumerate(names):
        base = np.array([r["baseline"]["campaigns"]["conversions"][c] for r in runs])
        stack = np.array([r["stack"]["campaigns"]["conversions"][c] for r in runs])
        oracle = np.array([r["oracle"]["conversions"][c] for r in runs])
        share = np.where(oracle > 0, stack / np.maximum(oracle, 1e-300), np.nan)
        lines.append(f"| `{name}` | {comparison.fmt(base.mean())} | {comparison.fmt(stack.mean())} | "
                     f"{comparison.fmt(oracle.mean())} | {pct(share)} | "
                     f"{hard_share_verdict(share[np.isfinite(share)])} |")
    lines += ["", reading_hard(data), HARD_END]
    return "\n".join(lines)


def render_candidates(data: dict) -> str:
    runs, names = data["runs"], data["campaigns"]
    seeds = [r["seed"] for r in runs]
    lines = [CANDIDATES_BEGIN, "## Library changes tried", "",
             f"> Measured by `{data['command']}` at commit {data['commit']} on {data['date']} "
             f"({len(runs)} held-out seeds {seed_text(seeds)}, {data['wall_s']:.0f} s{stopped(data)}).", "",
             "<!-- doc-test: skip tens of runs, minutes -->", "```sh",
             ".venv/bin/python bench/oracle_gap.py --part candidates --seeds 10 --workers 2 \\",
             "    --doc docs/strategy-comparison.md --save bench/results/oracle_gap_candidates.json", "```", "",
             "Each change of the library that the decomposition above points to, added to the best stack and "
             "paired against it on the same held-out seeds (Δ = with the change − the stack, 95 % CI). A change "
             "is kept (made a default, or the stack's choice) only if it helps."
             + (f" Tuned values of the stack: `{data['tuned']}`." if data.get("tuned") else "")
             + (" Share of the oracle: the campaign's true conversions / those of its oracle in the same variant "
                "(each variant has its own oracles, docs/results.md `oracle`), mean of per-seed shares with a "
                "95 % CI." if "oracle_conversions" in runs[0]["stack"] else ""), ""]
    with_shares = "oracle_conversions" in runs[0]["stack"]
    for name in [k for k in runs[0] if k not in ("seed", "stack")]:
        lines += [f"**{name}**", "", "| campaign | stack conversions | with the change | Δ (95 % CI) |"
                  + (" share of the oracle: stack → with the change (Δ points) |" if with_shares else ""),
                  "|---|---:|---:|---|" + ("---|" if with_shares else "")]
        for c, campaign in enumerate(names + ["all campaigns"]):
            pick = (lambda r, v: sum(r[v]["conversions"])) if c == len(names) else \
                (lambda r, v, c=c: r[v]["conversions"][c])
            a = np.array([pick(r, "stack") for r in runs], dtype=float)
            b = np.array([pick(r, name) for r in runs], dtype=float)
            mean, lo, hi, rel, _ = comparison.paired(a, b)
            row = (f"| {campaign} | {comparison.fmt(a.mean())} | {comparison.fmt(b.mean())} | "
                   f"{comparison.signed(mean)} [{comparison.fmt(lo)}, {comparison.fmt(hi)}]; {rel:+.1f} % |")
            if with_shares:
                oracle = (lambda r, v: sum(r[v]["oracle_conversions"])) if c == len(names) else \
                    (lambda r, v, c=c: r[v]["oracle_conversions"][c])
                sa = np.array([pick(r, "stack") / oracle(r, "stack") for r in runs])
                sb = np.array([pick(r, name) / oracle(r, name) for r in runs])
                row += f" {pct(sa)} → {pct(sb)} ({pts(sb - sa)}) |"
            lines.append(row)
        a = np.array([sum(r["stack"]["spend"]) / sum(r["stack"]["conversions"]) for r in runs])
        b = np.array([sum(r[name]["spend"]) / sum(r[name]["conversions"]) for r in runs])
        mean, lo, hi, rel, _ = comparison.paired(a, b)
        total = comparison.paired(np.array([sum(r["stack"]["conversions"]) for r in runs], dtype=float),
                                  np.array([sum(r[name]["conversions"]) for r in runs], dtype=float))
        verdict = ("kept: it raises all campaigns' conversions (CI above 0)" if total[1] > 0 else
                   "not kept as a default or in the stack: the CI of all campaigns' conversions includes 0"
                   if total[2] >= 0 else "not kept: it lowers all campaigns' conversions")
        lines += ["", f"True CPA of all campaigns: {comparison.fmt(a.mean())} → {comparison.fmt(b.mean())} "
                  f"(Δ {comparison.signed(mean)}, CI [{comparison.fmt(lo)}, {comparison.fmt(hi)}]; {rel:+.1f} %). "
                  f"Verdict: {verdict}.", ""]
    lines.append(CANDIDATES_END)
    return "\n".join(lines)


# Where each part's measurements are saved (--save) and read back to render
# the page; bench/strategy_comparison.py renders the same sections from them.
RESULTS = {"gap": HERE / "results" / "oracle_gap.json", "hard": HERE / "results" / "oracle_gap_hard.json",
           "candidates": HERE / "results" / "oracle_gap_candidates.json"}
MARKERS = {"gap": (GAP_BEGIN, GAP_END), "hard": (HARD_BEGIN, HARD_END),
           "candidates": (CANDIDATES_BEGIN, CANDIDATES_END)}
RENDER = {"gap": lambda d: render_gap(d), "hard": lambda d: render_hard(d),
          "candidates": lambda d: render_candidates(d)}


def insert_sections(page: str) -> str:
    """docs/strategy-comparison.md with this script's sections, rendered from
    the saved measurements (RESULTS) that exist, in the order gap, hard,
    candidates, before "## Limits of this comparison" (any older copy of them
    removed first). bench/strategy_comparison.py calls it too, so the page is
    the same whichever script wrote it last."""
    for begin, end in MARKERS.values():
        if begin in page and end in page:
            head, rest = page.split(begin, 1)
            page = head + rest.split(end, 1)[1].lstrip("\n")
    sections = [RENDER[part](json.loads(path.read_text())[part]) for part, path in RESULTS.items() if path.is_file()]
    if not sections:
        return page
    text = "\n\n".join(sections)
    head, marker, rest = page.partition("## Limits of this comparison")
    return f"{head}{text}\n\n{marker}{rest}" if marker else f"{page.rstrip()}\n\n{text}\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=["gap", "hard", "candidates", "all"], default="gap")
    ap.add_argument("--seeds", type=int, default=10, help="held-out seeds first-seed..first-seed+N-1 (default 10)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2, help="runs at a time (threads)")
    ap.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    ap.add_argument("--hard-scenario", default=str(HARD_SCENARIO))
    ap.add_argument("--tuned", default=str(DEFAULT_TUNED), help="tuned_params.yaml of the best stack")
    ap.add_argument("--tolerance", type=float, default=0.01, help="spend match tolerance (relative)")
    ap.add_argument("--doc", help="write the section(s) into this page (docs/strategy-comparison.md)")
    ap.add_argument("--save", help="JSON of every measurement")
    ap.add_argument("--load", help="render from a JSON written by --save instead of running")
    ap.add_argument("--from-partial", metavar="PART=FILE:SECONDS",
                    help="render part PART (gap, hard or candidates) from the seeds an interrupted run finished "
                         "(its --save FILE.partial) and the wall time it ran, instead of running it")
    args = ap.parse_args(argv)
    if args.seeds < 2:
        ap.error("--seeds: expected at least 2 (paired intervals need two seeds)")
    try:
        tuned = tune_strategies.read_params(args.tuned)
    except (OSError, ValueError, yaml.YAMLError) as error:
        ap.error(f"--tuned: {error}")
    params = {**tune_strategies.STACK_DEFAULTS["value"], **tuned.get("value", {})}
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    command = "python bench/oracle_gap.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    common = {"command": command, "commit": comparison.git_commit(),
              "date": datetime.date.today().isoformat(), "workers": args.workers,
              "tuned": ", ".join(f"{k} {v}" for k, v in tuned.get("value", {}).items())}
    saved: Dict[str, Any] = json.loads(pathlib.Path(args.load).read_text()) if args.load else {}
    if args.from_partial:
        part, _, rest = args.from_partial.partition("=")
        path, _, seconds = rest.rpartition(":")
        runs = json.loads(pathlib.Path(path).read_text())
        runs.sort(key=lambda r: r["seed"])
        scenario = yaml.safe_load(pathlib.Path(args.hard_scenario if part == "hard" else args.scenario).read_text())
        n = len(scenario["campaigns"])
        saved[part] = {**common, "runs": runs, "campaigns": [c["name"] for c in scenario["campaigns"]],
                       "wall_s": float(seconds), "tolerance": args.tolerance,
                       "runs_made": len(runs) * runs_per_seed(n), "interrupted": args.seeds}
    t0 = time.time()
    if args.part in ("gap", "all") and "gap" not in saved:
        scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
        stack = tune_strategies.stack_scenario(scenario, "value", params)
        register_truth("gap", scenario)
        runs = run_parallel(gap_seed, [(stack, "gap", s) for s in seeds], args.workers, "gap seeds", t0,
                            pathlib.Path(args.save + ".partial") if args.save else None)
        saved["gap"] = {**common, "runs": runs, "campaigns": [c["name"] for c in scenario["campaigns"]],
                        "runs_made": len(seeds) * runs_per_seed(len(scenario["campaigns"])),
                        "wall_s": time.time() - t0}
    t1 = time.time()
    if args.part in ("hard", "all") and "hard" not in saved:
        scenario = yaml.safe_load(pathlib.Path(args.hard_scenario).read_text())
        stack = tune_strategies.stack_scenario(scenario, "value", params)
        runs = run_parallel(hard_seed, [(scenario, stack, s, args.tolerance) for s in seeds], args.workers,
                            "hard seeds", t1, pathlib.Path(args.save + ".partial") if args.save else None)
        saved["hard"] = {**common, "runs": runs, "campaigns": [c["name"] for c in scenario["campaigns"]],
                         "tolerance": args.tolerance, "wall_s": time.time() - t1}
    t2 = time.time()
    if args.part in ("candidates", "all") and "candidates" not in saved:
        scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
        stack = tune_strategies.stack_scenario(scenario, "value", params)
        runs = run_parallel(candidates_seed, [(stack, s) for s in seeds], args.workers, "candidate seeds", t2,
                            pathlib.Path(args.save + ".partial") if args.save else None)
        saved["candidates"] = {**common, "runs": runs, "campaigns": [c["name"] for c in scenario["campaigns"]],
                               "wall_s": time.time() - t2}
    if args.save:
        pathlib.Path(args.save).write_text(json.dumps(saved, indent=1))
    if "gap" in saved:
        print(render_gap(saved["gap"]))
    if "hard" in saved:
        print(render_hard(saved["hard"]))
    if "candidates" in saved:
        print(render_candidates(saved["candidates"]))
    if args.doc:
        # The page's sections come from the saved measurements (RESULTS), so
        # that bench/strategy_comparison.py renders the same page.
        for part in saved:
            if part in RESULTS and (not args.save or pathlib.Path(args.save).resolve() != RESULTS[part].resolve()):
                RESULTS[part].write_text(json.dumps({part: saved[part]}, indent=1))
        doc = pathlib.Path(args.doc)
        doc.write_text(insert_sections(doc.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
