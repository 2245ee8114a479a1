#!/usr/bin/env python3
"""The control-cycle study: one strategy stack's regret at cycles from 5 minutes to 1 day.

Owns issue 16's "A study of the control cycle". Runs one stack of
bench/strategy_comparison.py (the value stack or the fixed-bid stack, with
the tuned values of bench/results/tuned_params.yaml if given) on the
comparison scenario at each control cycle (default 5m, 15m, 1h, 2h, 1d), on
the same seeds (common random numbers: the market is the same at every
cycle, only the cycle differs), each run with every campaign's oracle. It
reports each campaign's regret as a share of its oracle's conversions, with
95 % CIs over seeds and paired differences to a reference cycle, and the
measurements that explain the shape:

- evidence per decision: reported conversions per campaign per control cycle
  (a short cycle decides on a handful of conversions, or none);
- bid noise: the mean |log change| of a campaign's base bid per hour (the
  pacing steps a short cycle takes on noisy windows add up);
- lag: the share of the daily budgets spent, and how often the budget ran
  out before the day ended (a long cycle cannot correct within the day).

Writes docs/control-cycle.md (--doc) from the measurements (--save JSON;
--render JSON re-writes the page without runs), so its numbers cannot go stale.

    .venv/bin/python bench/control_cycle_study.py --seeds 5 --tuned bench/results/tuned_params.yaml \\
        --stack value --save bench/results/control_cycle.json --doc docs/control-cycle.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import pathlib
import shlex
import sys
import time
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import yaml

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import adsim  # noqa: E402
import strategy_comparison as comparison  # noqa: E402
import tune_strategies as tuning  # noqa: E402

DEFAULT_CYCLES = "5m,15m,1h,2h,1d"
HOUR_US = 3_600_000_000


def cycle_hours(text: str) -> float:
    """Hours in a duration such as 5m, 2h, 1d (the scenario's syntax for a control cycle)."""
    units = {"m": 1 / 60, "h": 1.0, "d": 24.0}
    text = text.strip()
    if len(text) < 2 or text[-1] not in units:
        raise ValueError(f"{text!r}: expected a number followed by m, h or d (e.g. 15m, 2h, 1d)")
    try:
        value = float(text[:-1])
    except ValueError:
        raise ValueError(f"{text!r}: expected a number followed by m, h or d (e.g. 15m, 2h, 1d)") from None
    if value <= 0:
        raise ValueError(f"{text!r}: expected a positive duration")
    return value * units[text[-1]]


def bid_noise(actions, campaigns: int, hours: float) -> List[float]:
    """Per campaign: the sum of |log(new / old)| of its set_bid actions per hour of the run."""
    out = []
    bids = actions[actions["kind"] == "set_bid"]
    for c in range(campaigns):
        rows = bids[bids["campaign"] == c]
        old, new = rows["old"].to_numpy(dtype=float), rows["new"].to_numpy(dtype=float)
        keep = (old > 0) & (new > 0)
        out.append(float(np.abs(np.log(new[keep] / old[keep])).sum()) / hours)
    return out


def changes_per_day(actions, campaigns: int, days: float, kind: str) -> List[float]:
    """Per campaign: how many `kind` actions changed the setting (new != old) per day of the run."""
    rows = actions[(actions["kind"] == kind)]
    rows = rows[rows["new"].to_numpy(dtype=float) != rows["old"].to_numpy(dtype=float)]
    counts = rows.groupby("campaign").size()
    return [float(counts.get(c, 0)) / days for c in range(campaigns)]


# Windows around a conversion shock, in hours from its start (None: the
# shock's end): the 24 h before it, four windows within it, the 24 h after
# its end. How fast the stack moves a campaign's spend off the shocked channel.
SHOCK_WINDOWS = [(-24, 0), (0, 6), (6, 12), (12, 24), (24, None)]
SHOCK_WINDOW_LABELS = ["24 h before", "0-6 h", "6-12 h", "12-24 h", "24 h to the end", "24 h after the end"]


def shock_response(result, scenario: dict) -> List[List[float]]:
    """Per campaign, for the first conversion shock (cvr < 1) of the run: the
    share of the campaign's spend that went to the shocked channels in each
    window of SHOCK_WINDOW_LABELS (NaN where it spent nothing). Only for a
    campaign on both shocked and unshocked channels, the one that can move
    its money away from the shock (NaN for the others); [] for every
    campaign when the run has no conversion shock."""
    campaigns = scenario["campaigns"]
    shocks = result.table("truth_shocks")
    shocks = shocks[shocks["cvr"] < 1.0].sort_values("start")
    if len(shocks) == 0:
        return [[] for _ in campaigns]
    shock = shocks.iloc[0]
    start, end = int(shock["start"]), int(shock["end"])
    channel_names = [ch["name"] for ch in scenario["channels"]]
    named = [x for x in str(shock["channels"]).split(",") if x]
    shocked = {i for i, name in enumerate(channel_names) if not named or name in named}
    agg = result.table("aggregates")
    windows = [(start + lo * HOUR_US, end if hi is None else start + hi * HOUR_US) for lo, hi in SHOCK_WINDOWS]
    windows.append((end, end + 24 * HOUR_US))
    out = []
    for c, camp in enumerate(campaigns):
        on = {channel_names.index(name) for name in camp.get("channels", channel_names)}
        if not (on & shocked) or not (on - shocked):
            out.append([math.nan] * len(windows))
            continue
        rows = agg[agg["campaign"] == c]
        times, spend = rows["bucket_start"].to_numpy(), rows["spend"].to_numpy(dtype=float)
        is_shocked = rows["channel"].isin(list(shocked)).to_numpy()
        shares = []
        for lo, hi in windows:
            inside = (times >= lo) & (times < hi)
            total = float(spend[inside].sum())
            shares.append(float(spend[inside & is_shocked].sum()) / total if total > 0 else math.nan)
        out.append(shares)
    return out


def study(scenario: dict, stack: str, params: Dict[str, Any], cycles: List[str], seeds: List[int],
          workers: int, log, reference: str, checkpoint: Optional[Callable[[List[int], Dict[str, Any]], None]] = None,
          done: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Runs the stack at every cycle on every seed with the oracles; per cycle
    and campaign, per seed (seed order): regret share, conversions, oracle
    conversions, reported conversions per cycle, bid noise, bid and budget
    changes per day, budget use, days exhausted, spend, and the spend's answer
    to the conversion shock. One sweep per seed (all its cycles), so that
    `checkpoint(seeds finished, results)` can save the seeds finished so far
    after each one (an interrupted study keeps them: --render renders them);
    `done` holds seeds already measured ({"seeds", "results"} of a saved
    file, to resume)."""
    names = [c["name"] for c in scenario["campaigns"]]
    hours = cycle_hours(str(scenario["duration"]))
    # The oracles run at the reference cycle only: one reference for every
    # cycle (and a fifth of the runs). A variation callable returns a new
    # dict, so it sets the oracle itself.
    variations = {c: (lambda _sc, c=c: {**tuning.stack_scenario(scenario, stack, params, cycle=c),
                                        "oracle": c == reference})
                  for c in cycles}
    out: Dict[str, Any] = done["results"] if done else {c: {n: {} for n in names} for c in cycles}
    finished: List[int] = list(done["seeds"]) if done else []
    for seed in seeds:
        if seed in finished:
            continue
        t0 = time.perf_counter()
        swept = adsim.sweep(scenario, seeds=[seed], variations=variations, workers=workers,
                            progress=False, keep="results")
        for run in swept.runs.itertuples():
            cycle = str(run.variation)
            n_cycles = hours / cycle_hours(cycle)
            result = swept.result(int(run.run))
            k = swept.kpis[swept.kpis["run"] == run.run].set_index("campaign")
            actions = result.table("actions")
            noise = bid_noise(actions, len(names), hours)
            bid_changes = changes_per_day(actions, len(names), hours / 24, "set_bid")
            budget_changes = changes_per_day(actions, len(names), hours / 24, "set_daily_budget")
            shock = shock_response(result, scenario)
            for i, n in enumerate(names):
                row = k.loc[n]
                values = {
                    "conversions": float(row["true_conversions"]),
                    "oracle_conversions": float(row["oracle_conversions"]) if "oracle_conversions" in row else math.nan,
                    "reported_per_cycle": float(row["conversions"]) / n_cycles,
                    "bid_noise_per_hour": noise[i],
                    "bid_changes_per_day": bid_changes[i],
                    "budget_changes_per_day": budget_changes[i],
                    "shock_channel_share": shock[i],
                    "budget_use": float(row["budget_used"]),
                    "exhausted_days": float(row["budget_exhausted_days"]),
                    "spend": float(row["spend"]),
                }
                for key, v in values.items():
                    out[cycle][n].setdefault(key, []).append(v)
        finished.append(seed)
        log(f"seed {seed}: {len(cycles)} cycles (the {reference} run with the oracles) in "
            f"{time.perf_counter() - t0:.0f} s; {len(finished)} of {len(seeds)} seeds done")
        if checkpoint is not None:
            checkpoint(finished, out)
    return {"seeds": finished, "results": out}


def mean_ci(x) -> tuple:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return (float(x.mean()) if n else math.nan, math.nan, math.nan)
    half = float(comparison.stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return float(x.mean()), float(x.mean() - half), float(x.mean() + half)


def common_reference_share(ctx: Dict[str, Any], cycle: str, campaign: Optional[str] = None) -> np.ndarray:
    """Per seed, 1 − conversions / the reference cycle's oracle's conversions
    on that seed (for one campaign, or the sum of all): the regret share
    against one reference shared by every cycle."""
    R = ctx["results"]
    names = [campaign] if campaign else ctx["campaigns"]
    conv = sum(np.array(R[cycle][n]["conversions"]) for n in names)
    oracle = sum(np.array(R[ctx["reference"]][n]["oracle_conversions"]) for n in names)
    return 1 - conv / oracle


def summary_section(ctx: Dict[str, Any]) -> List[str]:
    """The control-cycle section of docs/strategy-comparison.md: the regret of
    all campaigns by cycle, and a link to docs/control-cycle.md."""
    cycles, ref = ctx["cycles"], ctx["reference"]
    cells, paired = [], []
    for c in cycles:
        m, lo, hi = mean_ci(common_reference_share(ctx, c))
        cells.append(f"{c}: {100 * m:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]")
        if c != ref:
            a, b = common_reference_share(ctx, ref), common_reference_share(ctx, c)
            keep = np.isfinite(a) & np.isfinite(b)
            d = comparison.paired(100 * a[keep], 100 * b[keep])
            paired.append(f"{c} {comparison.signed(d[0])} [{comparison.fmt(d[1])}, {comparison.fmt(d[2])}]")
    return [f"## The control cycle ({len(ctx['seeds'])} seeds)", "",
            f"[control-cycle.md](control-cycle.md) runs the `{ctx['stack']}` stack ({ctx['params_source']}) at "
            "control cycles " + ", ".join(cycles) + f" on seeds {ctx['seeds'][0]}..{ctx['seeds'][-1]} "
            "(common random numbers), with the regret per campaign, paired differences and what explains "
            f"the shape. Regret of all campaigns' conversions against the oracles at the {ctx['reference']} "
            "cycle (mean, 95 % CI): " + "; ".join(cells).replace("-", "−") + f". Paired difference to {ref}, in "
            "points: " + "; ".join(paired).replace("-", "−") + ".", ""]


def shock_shares(ctx: Dict[str, Any], cycle: str, campaign: str) -> np.ndarray:
    """Seeds × windows: the campaign's share of spend on the shocked channels (NaN where undefined)."""
    rows = ctx["results"][cycle][campaign].get("shock_channel_share", [])
    rows = [r if r else [math.nan] * len(SHOCK_WINDOW_LABELS) for r in rows]
    return np.array(rows, dtype=float).reshape(-1, len(SHOCK_WINDOW_LABELS))


def shock_campaigns(ctx: Dict[str, Any]) -> List[str]:
    """The campaigns with a measured shock response (on shocked and unshocked channels)."""
    cycle = ctx["cycles"][0]
    return [n for n in ctx["campaigns"] if np.isfinite(shock_shares(ctx, cycle, n)).any()]


def shock_section(ctx: Dict[str, Any]) -> List[str]:
    """How fast the stack moves money off the shocked channel, per cycle (empty without the measurement)."""
    shock = ctx.get("shock")
    movers = shock_campaigns(ctx) if shock else []
    if not movers:
        return []
    out = ["", f"**How fast a shock is answered.** The scenario's conversion shock `{shock['name']}` multiplies "
           f"the conversion rate of {', '.join(shock['channels']) or 'every channel'} clicks by {shock['cvr']:g} "
           f"from {shock['start']} to {shock['end']}. A campaign on that channel and an unshocked one can answer "
           "it by moving its money away: the share of its spend on the shocked channel, per window around the "
           "shock (mean over seeds, in %; the CI of the last column is the paired change from the 24 h "
           "before to the shock's last window, 24 h to its end, in points):", ""]
    for n in movers:
        out += [f"| `{n}`, cycle | " + " | ".join(SHOCK_WINDOW_LABELS) + " | change (before → 24 h to the end) |",
                "|---|" + "---:|" * len(SHOCK_WINDOW_LABELS) + "---|"]
        for c in ctx["cycles"]:
            x = shock_shares(ctx, c, n)
            means = [np.nanmean(x[:, j]) if np.isfinite(x[:, j]).any() else math.nan
                     for j in range(len(SHOCK_WINDOW_LABELS))]
            m, lo, hi = mean_ci(100 * (x[:, 4] - x[:, 0]))
            out.append(f"| {c} | " + " | ".join(f"{100 * v:.1f}" for v in means) +
                       f" | {comparison.signed(m)} [{comparison.fmt(lo)}, {comparison.fmt(hi)}] |".replace("-", "−"))
        out.append("")
    return out


def document(ctx: Dict[str, Any]) -> str:
    """docs/control-cycle.md from the measurements."""
    R, cycles, names = ctx["results"], ctx["cycles"], ctx["campaigns"]
    ref = ctx["reference"]
    seeds = ctx["seeds"]
    fmt = comparison.fmt
    days = cycle_hours(str(ctx.get("duration", "7d"))) / 24

    out = ["# The control cycle: regret from 5 minutes to 1 day", "",
           "<!-- Generated by bench/control_cycle_study.py: edit the script, not this page. -->", "",
           f"> Measured by `{ctx['command']}` at commit {ctx['commit']} on {ctx['date']} "
           f"({ctx['runs']} runs in {ctx['wall']:.0f} s of wall time on two shared cores"
           + (f"; stopped at the deadline with {len(seeds)} of {ctx['interrupted']} seeds finished"
              if ctx.get("interrupted") else "") + ").", "",
           "The seeds ask for optimization in under two hours. How much does the length of the control "
           "cycle (how often the controllers act and the bidders refresh their estimates) matter to the "
           f"best library stack? This page runs the `{ctx['stack']}` stack of "
           f"[strategy-comparison.md](strategy-comparison.md) ({ctx['params_source']}) on "
           "`bench/scenarios/comparison.yaml` at control cycles " + ", ".join(cycles)
           + f", on seeds {seeds[0]}..{seeds[-1]} ({len(seeds)} seeds, common random numbers: the same "
           f"market at every cycle). The run at the {ref} cycle also runs every campaign's oracle (the same "
           "run with that campaign's bidder replaced by one that knows the true rates; docs/results.md, "
           "`oracle`), and every cycle is measured against those oracles: regret share = (oracle's true "
           "conversions − the campaign's) / oracle's, 0 % as good as the oracle. One reference for all "
           "cycles, because an oracle shares its run's pacing controllers, so each cycle's own oracle "
           "would move with the cycle too.", "",
           "<!-- doc-test: skip dozens of week-long runs with oracles: tens of minutes -->", "```sh",
           ".venv/bin/python bench/control_cycle_study.py " + " ".join(shlex.quote(a) for a in ctx["argv"]),
           "```", "",
           "Options: `--cycles 5m,15m,1h,2h,1d`, `--seeds N` (seeds 1..N), `--stack value|fixed`, "
           "`--tuned FILE` (the values of bench/tune_strategies.py; without it the stack's defaults), "
           "`--reference CYCLE` (the cycle whose oracles are the reference, and of the paired differences), "
           "`--workers N`, `--save JSON`, `--doc FILE`, `--render JSON` (re-write the page from saved "
           "measurements, no runs).", "",
           "## Regret share by cycle", "",
           "Mean over seeds of each campaign's regret share, in %, with its 95 % CI (t over seeds); "
           f"**all** is the regret of the sum of the campaigns' conversions. With {len(seeds)} seeds the "
           "intervals are wide; the paired differences below are tighter.", "",
           "| campaign | " + " | ".join(cycles) + " |", "|---|" + "---|" * len(cycles)]
    shares = {}
    for n in names + [None]:
        cells = []
        for c in cycles:
            m, lo, hi = mean_ci(common_reference_share(ctx, c, n))
            if n is None:
                shares[c] = m
            cells.append(f"{100 * m:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]".replace("-", "−"))
        out.append(f"| {'**all**' if n is None else f'`{n}`'} | " + " | ".join(cells) + " |")
    out += ["", f"Paired difference to the {ref} cycle, in percentage points of the reference (cycle − {ref}, "
            f"95 % CI; negative: less regret than at {ref}):", "",
            "| campaign | " + " | ".join(c for c in cycles if c != ref) + " |",
            "|---|" + "---|" * (len(cycles) - 1)]
    diffs = {}
    for n in names + ["all"]:
        cells = []
        for c in cycles:
            if c == ref:
                continue
            a = common_reference_share(ctx, ref, None if n == "all" else n)
            b = common_reference_share(ctx, c, None if n == "all" else n)
            keep = np.isfinite(a) & np.isfinite(b)
            mean, lo, hi, _, _ = comparison.paired(100 * a[keep], 100 * b[keep])
            diffs[(n, c)] = (mean, lo, hi)
            cells.append(f"{comparison.signed(mean)} [{fmt(lo)}, {fmt(hi)}]".replace("-", "−"))
        label = "**all**" if n == "all" else f"`{n}`"
        out.append(f"| {label} | " + " | ".join(cells) + " |")

    out += ["", "## What explains the shape", "",
            "Means over seeds and campaigns: reported conversions per campaign per control cycle (the "
            "evidence one decision sees), how often a campaign's base bid changes (`set_bid` actions that "
            "changed it, per day) and how far it moves (sum of |log(new/old)| of those actions per hour), how "
            "often its daily budget changes (`set_daily_budget` actions that changed it, per day: "
            "`budget_reallocation`), the share of the daily budgets spent, the days (of "
            f"{days:g} per campaign) on which a budget ran out before midnight, and the true conversions of "
            "all campaigns:", "",
            "| cycle | reported conversions per cycle | bid changes per day | bid movement per hour "
            "| budget changes per day | budget spent | days exhausted | conversions (all) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    st = {}
    for c in cycles:
        def avg(key: str) -> float:
            return float(np.mean([np.mean(R[c][n][key]) for n in names if key in R[c][n]]))
        s = {k: avg(k) for k in ("reported_per_cycle", "bid_noise_per_hour", "budget_use", "exhausted_days")}
        for k in ("bid_changes_per_day", "budget_changes_per_day"):
            s[k] = avg(k) if all(k in R[c][n] for n in names) else math.nan
        s["conversions"] = float(np.mean(sum(np.array(R[c][n]["conversions"]) for n in names)))
        st[c] = s
        out.append(f"| {c} | {s['reported_per_cycle']:.2f} | {s['bid_changes_per_day']:.1f} | "
                   f"{s['bid_noise_per_hour']:.3f} | {s['budget_changes_per_day']:.2f} | "
                   f"{100 * s['budget_use']:.1f} % | {s['exhausted_days']:.2f} | {fmt(s['conversions'])} |")
    out += shock_section(ctx)
    oracle_total = float(np.mean(sum(np.array(R[ref][n]["oracle_conversions"]) for n in names)))
    best = min(shares, key=shares.get)
    worst = max(shares, key=shares.get)
    last = cycles[-1]
    sub_day = [c for c in cycles if cycle_hours(c) < 24]
    others = [c for c in sub_day if c != ref]
    significant = [c for c in cycles if c != ref and (diffs[("all", c)][1] > 0 or diffs[("all", c)][2] < 0)]
    sub_significant = [c for c in significant if c in sub_day]
    budget_moves = [st[c]["budget_changes_per_day"] for c in cycles]
    text = (f"**Reading.** The least regret over all campaigns is at **{best}** ({100 * shares[best]:.1f} %), "
            f"the most at **{worst}** ({100 * shares[worst]:.1f} %); paired against {ref}, "
            + (("the difference is resolved (CI excluding 0) at " + ", ".join(
                f"{c} ({comparison.signed(diffs[('all', c)][0])} points)" for c in significant))
               if significant else "no cycle's difference is resolved by these seeds (every CI includes 0)") + ". ")
    if len(sub_day) > 1:
        a, z = sub_day[0], sub_day[-1]
        flat = [c for c in others if c not in sub_significant]
        if flat:
            spread_flat = max(abs(diffs[("all", c)][0]) for c in flat)
            text += (f"{', '.join(flat)} stay{'s' if len(flat) == 1 else ''} within {spread_flat:.1f} percentage "
                     f"points of {ref} (paired CIs including 0), although the evidence one decision sees ranges "
                     f"from {min(st[c]['reported_per_cycle'] for c in flat + [ref]):.2f} to "
                     f"{max(st[c]['reported_per_cycle'] for c in flat + [ref]):.2f} reported conversions per "
                     "campaign: the value bidders estimate each cell's rates from its counts since the start of the "
                     "run, without discounting ([value_linear.md](strategies/bidders/value_linear.md)), so a "
                     "shorter cycle refreshes the same cumulative estimates more often rather than deciding on "
                     "less evidence. ")
        for c in sub_significant:
            worse = diffs[("all", c)][0] > 0
            text += (f"At {c} the regret is {'higher' if worse else 'lower'} by {abs(diffs[('all', c)][0]):.1f} "
                     f"points; its pacing differs: the base bid is set {st[c]['bid_changes_per_day']:.1f} times "
                     f"a day (against {st[ref]['bid_changes_per_day']:.1f} at {ref}) and moves "
                     f"{st[c]['bid_noise_per_hour']:.3f} (log units) per hour against "
                     f"{st[ref]['bid_noise_per_hour']:.3f}"
                     + (", in fewer and larger steps" if st[c]["bid_noise_per_hour"] > st[ref]["bid_noise_per_hour"]
                        and st[c]["bid_changes_per_day"] < st[ref]["bid_changes_per_day"] else "")
                     + ", and budgets run out before "
                     f"midnight on {st[c]['exhausted_days']:.2f} days of {days:g} per campaign against "
                     f"{st[ref]['exhausted_days']:.2f}, with {100 * st[c]['budget_use']:.1f} % of the budgets spent "
                     f"against {100 * st[ref]['budget_use']:.1f} %. ")
        text += (f"Across {a} to {z} the base bid is set {st[a]['bid_changes_per_day']:.1f} to "
                 f"{st[z]['bid_changes_per_day']:.1f} times a day and moves {st[a]['bid_noise_per_hour']:.3f} to "
                 f"{st[z]['bid_noise_per_hour']:.3f} per hour. ")
    text += (f"The budgets move {min(budget_moves):.2f} to {max(budget_moves):.2f} times per campaign per day "
             "at every cycle: `budget_reallocation` acts once a day whatever the cycle. ")
    movers = shock_campaigns(ctx) if ctx.get("shock") else []
    for n in movers:
        changes = {c: mean_ci(100 * (shock_shares(ctx, c, n)[:, 4] - shock_shares(ctx, c, n)[:, 0])) for c in cycles}
        resolved = [c for c in cycles if changes[c][1] > 0 or changes[c][2] < 0]
        down = [c for c in resolved if changes[c][0] < 0]
        up = [c for c in resolved if changes[c][0] > 0]
        before = [float(np.nanmean(shock_shares(ctx, c, n)[:, 0])) for c in cycles]
        text += (f"The shock: before it, `{n}` puts only {100 * min(before):.1f} to {100 * max(before):.1f} % of "
                 f"its spend on {', '.join(ctx['shock']['channels'])}, and from the 24 h before the shock to its "
                 "last window that share changes by " + ", ".join(
                     f"{comparison.signed(changes[c][0])} points at {c}" for c in cycles) + "; "
                 + (("it moves money off the shocked channel measurably (CI below 0) at " + ", ".join(down))
                    if down else "at no cycle does it move money off the shocked channel measurably (no CI "
                    "below 0)")
                 + ((", and it spends more there (CI above 0) at " + ", ".join(up)) if up else "")
                 + ". No cycle length answers this shock within its 36 hours: the conversions that would show it "
                 "arrive hours after their clicks (the segments' conversion delays), and the cumulative "
                 "estimates weigh the shock's hours against all the hours before it. ")
    if cycle_hours(last) >= 24:
        text += (f"At **{last}** the lag shows: the base bid changes {st[last]['bid_changes_per_day']:.1f} times a "
                 f"day and moves {st[last]['bid_noise_per_hour']:.3f} per hour (`pid_pacing` acts only at "
                 "midnight, where its error, the day's target share minus the share spent, is 0 − 0: "
                 "docs/strategies/controllers/pid_pacing.md), the first day runs at the base bids, and nothing "
                 f"corrects the pace within a day: budgets run out early on {st[last]['exhausted_days']:.2f} days "
                 f"of {days:g} per campaign, against {st[ref]['exhausted_days']:.2f} at {ref}, while others stay "
                 f"unspent ({100 * st[last]['budget_use']:.1f} % of the budgets spent, against "
                 f"{100 * st[ref]['budget_use']:.1f} %), for {fmt(st[last]['conversions'])} conversions against "
                 f"{fmt(st[ref]['conversions'])}.")
    out += ["", f"The oracles at {ref} reach {fmt(oracle_total)} conversions in all (mean over seeds).", "",
            text.rstrip(), ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(comparison.DEFAULT_SCENARIO), help="scenario file")
    ap.add_argument("--cycles", default=DEFAULT_CYCLES, help=f"control cycles (default {DEFAULT_CYCLES})")
    ap.add_argument("--reference", default="15m", help="cycle the paired differences are taken to (default 15m)")
    ap.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5; at least 2)")
    ap.add_argument("--stack", choices=sorted(tuning.STACK_DEFAULTS), default="value", help="stack (default value)")
    ap.add_argument("--tuned", help="tuned values (bench/results/tuned_params.yaml); default: the stack's defaults")
    ap.add_argument("--duration", help="override the scenario's duration (e.g. 1d, for a quick try)")
    ap.add_argument("--workers", type=int, default=2, help="sweep worker threads (default 2)")
    ap.add_argument("--save", help="write the measurements (JSON) here")
    ap.add_argument("--doc", help="write the page (docs/control-cycle.md) here")
    ap.add_argument("--render", metavar="JSON", help="no runs: write --doc from measurements saved with --save "
                    "(or the SAVE.partial an interrupted study leaves: the seeds it finished)")
    ap.add_argument("--resume", metavar="JSON", help="keep the seeds measured in this file (an interrupted "
                    "study's SAVE.partial, same cycles and stack) and run only the others")
    args = ap.parse_args(argv)
    if args.render:
        if not args.doc:
            ap.error("--render: expected --doc FILE too")
        pathlib.Path(args.doc).write_text(document(json.loads(pathlib.Path(args.render).read_text())))
        return 0
    if args.seeds < 2:
        ap.error("--seeds: expected at least 2 (a CI needs two seeds)")
    cycles = [c.strip() for c in args.cycles.split(",") if c.strip()]
    for c in cycles:
        try:
            cycle_hours(c)
        except ValueError as error:
            ap.error(f"--cycles: {error}")
    if args.reference not in cycles:
        ap.error(f"--reference: {args.reference!r} is not one of --cycles ({', '.join(cycles)})")
    params = dict(tuning.STACK_DEFAULTS[args.stack])
    source = "its defaults"
    if args.tuned:
        try:
            tuned = tuning.read_params(args.tuned)
        except (OSError, ValueError, yaml.YAMLError) as error:
            ap.error(f"--tuned: {error}")
        if args.stack not in tuned:
            ap.error(f"--tuned: {args.tuned} has no values for the {args.stack!r} stack")
        params.update(tuned[args.stack])
        source = f"with the tuned values of `{pathlib.Path(args.tuned).name}`: " + (
            ", ".join(f"`{k}` {v}" for k, v in tuned[args.stack].items()
                      if tuning.STACK_DEFAULTS[args.stack].get(k) != v) or "the defaults")
    scenario = yaml.safe_load(pathlib.Path(args.scenario).read_text())
    if args.duration:
        scenario["duration"] = args.duration
    seeds = list(range(1, args.seeds + 1))
    t0 = time.perf_counter()

    def log(text: str) -> None:
        print(f"[{time.perf_counter() - t0:6.0f} s] {text}", file=sys.stderr, flush=True)

    commit = comparison.git_commit()
    argv_list = list(sys.argv[1:] if argv is None else argv)
    done = None
    if args.resume:
        try:
            done = json.loads(pathlib.Path(args.resume).read_text())
        except (OSError, ValueError) as error:
            ap.error(f"--resume: {args.resume}: {error}")
        if done.get("cycles") != cycles or done.get("reference") != args.reference or done.get("params") != params:
            ap.error(f"--resume: {args.resume} was measured with other cycles, reference or stack values")
    base = {"cycles": cycles, "reference": args.reference,
            "campaigns": [c["name"] for c in scenario["campaigns"]], "stack": args.stack, "params": params,
            "params_source": source, "argv": argv_list,
            "command": ("python bench/control_cycle_study.py " + " ".join(shlex.quote(a) for a in argv_list)).strip(),
            "commit": commit, "date": datetime.date.today().isoformat(), "duration": str(scenario["duration"]),
            "shock": next(({"name": str(x.get("name", "")), "start": str(x["start"]), "end": str(x["end"]),
                            "channels": [str(ch) for ch in x.get("channels", [])],
                            "cvr": float(x["multiply"]["cvr"])}
                           for x in scenario.get("shocks", []) or []
                           if float((x.get("multiply") or {}).get("cvr", 1.0)) < 1.0), None)}
    wall_before = float(done.get("wall", 0.0)) if done else 0.0

    def context(finished: List[int], results: Dict[str, Any]) -> Dict[str, Any]:
        ctx = {**base, "results": results, "seeds": list(finished),
               "runs": (len(cycles) + len(scenario["campaigns"])) * len(finished),
               "wall": wall_before + time.perf_counter() - t0}
        if len(finished) < len(seeds):
            ctx["interrupted"] = len(seeds)
        return ctx

    def checkpoint(finished: List[int], results: Dict[str, Any]) -> None:
        if args.save:
            pathlib.Path(args.save + ".partial").write_text(json.dumps(context(finished, results), indent=1))

    measured = study(scenario, args.stack, params, cycles, seeds, args.workers, log, args.reference,
                     checkpoint, done)
    ctx = context(measured["seeds"], measured["results"])
    page = document(ctx)
    print(page)
    if args.save:
        pathlib.Path(args.save).write_text(json.dumps(ctx, indent=1))
    if args.doc:
        pathlib.Path(args.doc).write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
