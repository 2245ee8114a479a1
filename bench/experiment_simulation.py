"""Simulator-level validation of the ab_test experiment analysis: A/A false
positive rates under continuous monitoring, power against effect size, and
sample size at the decision, for every method at once, on real simulated
campaigns (auctions, users, clicks).

    .venv/bin/python bench/experiment_simulation.py [--seeds 1000] [--out tables.md]
    .venv/bin/python bench/experiment_simulation.py --only-units --user-seeds 500   # section 10 only

One scenario (1 channel, 1 segment, two identical arm campaigns split by
opportunity, 12 hours, 40,000 opportunities per hour) carries eight
`decision: observe` analyses of the same experiment, one per method, so every
method sees exactly the same data in every run. The metric is the click rate
(clicks are observed at once), the design baseline 2% and the design effect
+10% relative: the fixed-horizon test needs n_fixed per arm (printed), which
the arms reach after about 8 hours, and the most inflated design (classical
Pocock, 1.23 n_fixed) after about 10.

* A/A: both arms have the true click rate 2%. A false positive is any `ship` or
  `stop` decision.
* Power: the treatment's creative gets a per-creative click rate
  2% x (1 + lift); power is the share of runs that ship the treatment.
* Sample size: trials per arm (impressions, the smaller arm) at the look that
  ended the analysis (ship, stop or no_difference), divided by n_fixed.
* User split: the same A/A with `split: user`, few users (many impressions
  each) and, optionally, a per-user click propensity (`propensity_sigma`),
  analysed by request (`unit: request`): the unit of randomization is the user
  while the test treats impressions as independent.
* Unit of analysis and CUPED: heterogeneous users (10,000, propensity sigma 1)
  with a 12-hour pre-period on the control, then 24 hours of experiment,
  analysed by request, by user (delta method) and by user with CUPED: A/A
  false positive rates, then power and time to decision at a +10% lift.

Needs the adsim package (scripts/setup.sh installs it into .venv).
"""
from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
import time
from typing import Any, Dict, List

import adsim

ALPHA = 0.05
POWER = 0.8
BASELINE = 0.02
MDE = 0.10

# (label, params beyond the common ones, description)
METHODS = [
    ("fixed", {"method": "fixed"}, "fixed horizon, one look at n_fixed"),
    ("naive", {"method": "naive", "looks": 0}, "naive z-test at every 15-min cycle"),
    ("obf", {"method": "obf", "looks": 5}, "classical O'Brien-Fleming, 5 looks"),
    ("pocock", {"method": "pocock", "looks": 5}, "classical Pocock, 5 looks"),
    ("ld_obf", {"method": "ld_obf", "looks": 5}, "Lan-DeMets OBF spending, 5 looks"),
    ("ld_pocock", {"method": "ld_pocock", "looks": 5}, "Lan-DeMets Pocock spending, 5 looks"),
    ("msprt", {"method": "msprt"}, "mSPRT, a look every cycle"),
    ("bayes", {"method": "bayes"}, "Bayes P(beat) >= 0.95, every cycle (not a test)"),
]
SEQUENTIAL = ["obf", "pocock", "ld_obf", "ld_pocock", "msprt"]
TERMINAL = {"ship", "stop", "no_difference", "guardrail_stop"}


def scenario(
    lift: float = 0.0,
    split: str = "opportunity",
    users: int = 20000,
    propensity_sigma: float = 0.0,
    per_hour: int = 40000,
    duration: str = "12h",
    control_cycle: str = "15m",
    baseline: float = BASELINE,
    mde: float = MDE,
    methods=None,
    unit: str = "auto",
    cuped: str = "auto",
    start: str = "0s",
    min_trials: int = 1000,
) -> Dict[str, Any]:
    """The A/B scenario as a dict; `lift` is the treatment's relative click-rate lift.

    `unit` and `cuped` go to every analysis; `start` is the experiment's start
    (before it, the pre-period, every user sees the control); `duration` counts
    from t = 0, so the experiment itself lasts duration - start."""
    analyses = []
    for label, extra, _ in METHODS:
        if methods is not None and label not in methods:
            continue
        params = {"metric": "ctr", "decision": "observe", "baseline_rate": baseline, "mde": mde, "alpha": ALPHA,
                  "unit": unit, "cuped": cuped, "min_trials": min_trials}
        params.update(extra)
        analyses.append({"type": "ab_test", "label": label, "params": params})
    seg: Dict[str, Any] = {
        "name": "everyone",
        "users": users,
        "ctr": baseline,
        "cvr": 0.05,
        "conversion_delay": {"distribution": "exponential", "mean": "1h"},
    }
    if propensity_sigma > 0:
        seg["propensity_sigma"] = propensity_sigma
    if lift != 0:
        seg["creatives"] = {"treat/x": {"ctr": baseline * (1 + lift)}}
    return {
        "name": "ab_validation",
        "seed": 1,
        "start": "2026-03-02T00:00:00",
        "duration": duration,
        "control_cycle": control_cycle,
        "channels": [
            {
                "name": "display",
                "auction": "second_price",
                "traffic": {"per_hour": per_hour},
                "competition": {"competitors": 5, "median": 0.002, "sigma": 0.6},
            }
        ],
        "segments": [seg],
        "campaigns": [
            {"name": "control", "bid": 0.004, "creatives": ["x"]},
            {"name": "treat", "bid": 0.004, "creatives": ["x"]},
        ],
        "experiments": [
            {"name": "e", "arms": ["control", "treat"], "split": split, "start": start, "analyses": analyses}
        ],
    }


def fixed_sample_size(p1: float, mde_rel: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Per-arm n of the two-proportion z-test (SampleSizeProportions in stats.h)."""
    nd = statistics.NormalDist()
    p2 = p1 * (1 + mde_rel)
    pbar = (p1 + p2) / 2
    za, zb = nd.inv_cdf(1 - alpha / 2), nd.inv_cdf(power)
    n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2
    return math.ceil(n / (p2 - p1) ** 2)


def outcomes(result) -> Dict[str, Dict[str, Any]]:
    """Per analysis: the decision that ended it (or 'none'), trials per arm then,
    the number of looks and the z statistic at the last look."""
    lk = result.table("experiment_looks")
    out = {}
    for label, g in lk.groupby("analysis", sort=False):
        g = g.sort_values("look")
        ended = g[g["decision"].isin(TERMINAL)]
        row = ended.iloc[0] if len(ended) else g.iloc[-1]
        out[label] = {
            "decision": row["decision"] if len(ended) else "none",
            "n": int(min(row["control_n"], row["arm_n"])),
            "looks": int(row["look"]),
            "z": float(row["statistic"]),
            "information": float(row["information"]),
            "estimate": float(row["estimate"]),
            "std_error": float(row["std_error"]),
            "variance_ratio": float(row["variance_ratio"]),
            "time_h": float(row["time"]) / 3.6e9,
        }
    return out


def simulate(scen: Dict[str, Any], seeds: List[int]) -> List[Dict[str, Dict[str, Any]]]:
    return [outcomes(adsim.run(copy.deepcopy(scen), seed=s)) for s in seeds]


def rate(runs, label: str, decisions) -> tuple:
    """Share of runs whose analysis `label` ended in one of `decisions`, and its binomial SE."""
    k = sum(1 for r in runs if label in r and r[label]["decision"] in decisions)
    n = len(runs)
    p = k / n
    return p, math.sqrt(p * (1 - p) / n) if n else float("nan")


def mean_se(xs) -> tuple:
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, float("nan")
    return m, statistics.stdev(xs) / math.sqrt(len(xs))


def lift_table(by_lift, lifts, cell) -> tuple:
    """Rows (one per method, one cell per lift) of `cell(runs, label)` -> (value, SE), and the largest SE."""
    rows, max_se = [], 0.0
    for label, _, desc in METHODS:
        cells = []
        for lift in lifts:
            value, se = cell(by_lift[lift], label)
            max_se = max(max_se, se)
            cells.append(f"{value:.3f}")
        rows.append([desc] + cells)
    return rows, max_se


def md_table(header: List[str], rows: List[List[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# Heterogeneous users, a pre-period and three analyses of the same data.
UNIT_SETTING = dict(split="user", users=10000, propensity_sigma=1.0, per_hour=40000, start="12h", duration="36h",
                    min_trials=500)
UNITS = [
    ("by request", dict(unit="request")),
    ("by user", dict(unit="user", cuped="off")),
    ("by user + CUPED", dict(unit="user", cuped="on")),
]
UNIT_METHODS = ["fixed", "obf", "ld_obf", "ld_pocock", "msprt", "naive"]


def units_scenario(lift: float = 0.0, methods=UNIT_METHODS, **setting) -> Dict[str, Any]:
    """One scenario whose experiment carries each method three times, one per
    entry of UNITS, labelled '<unit name>/<method>': the three analyses of the
    same runs (decision: observe, so they do not change the runs)."""
    scen = scenario(lift=lift, methods=methods, **setting)
    ex = scen["experiments"][0]
    analyses = []
    for name, extra in UNITS:
        for a in ex["analyses"]:
            b = copy.deepcopy(a)
            b["label"] = f"{name}/{a['label']}"
            b["params"].update(extra)
            analyses.append(b)
    ex["analyses"] = analyses
    return scen


def unit_runs(lift: float, seeds: List[int]) -> Dict[str, list]:
    """Per unit name, per run: the outcomes keyed by method."""
    runs = simulate(units_scenario(lift, **UNIT_SETTING), seeds)
    return {name: [{k.split("/", 1)[1]: v for k, v in r.items() if k.startswith(name + "/")} for r in runs]
            for name, _ in UNITS}


def unit_and_cuped(n_seeds: int, emit) -> None:
    """A/A and +10% lift under split: user with heterogeneous users, by request, by user, by user with CUPED."""
    seeds = list(range(1, n_seeds + 1))
    aa = unit_runs(0.0, seeds)
    emit(f"### Split by user, heterogeneous users: unit of analysis and CUPED ({n_seeds} runs per column)")
    emit()
    emit("10,000 users with lognormal click propensities (sigma 1), 40,000 requests per hour, a 12-hour pre-period "
         "on the control, then 24 hours of experiment. The same runs are analysed three ways.")
    emit()
    rows = []
    for label in UNIT_METHODS:
        cells = []
        for name, _ in UNITS:
            p, se = rate(aa[name], label, {"ship", "stop"})
            cells.append(f"{p:.3f} ± {se:.3f}")
        rows.append([label] + cells)
    emit(md_table(["A/A false positive rate"] + [u[0] for u in UNITS], rows))
    emit()
    lift = 0.10
    pw = unit_runs(lift, seeds)
    rows = []
    for label in UNIT_METHODS:
        if label == "naive":
            continue
        cells = []
        for name, _ in UNITS[1:]:
            p, se = rate(pw[name], label, {"ship"})
            t = [r[label]["time_h"] - 12 for r in pw[name] if label in r and r[label]["decision"] == "ship"]
            tm = f"{statistics.mean(t):.1f} h" if t else "-"
            cells.append(f"{p:.3f} ± {se:.3f}, {tm}")
        rows.append([label] + cells)
    emit(md_table([f"+{lift:.0%} lift: power, mean time to ship"] + [u[0] for u in UNITS[1:]], rows))
    emit()
    vr = [r["msprt"]["variance_ratio"] for r in aa["by user + CUPED"] if "msprt" in r]
    info = {name: statistics.mean(r["ld_obf"]["information"] for r in aa[name] if "ld_obf" in r)
            for name, _ in UNITS[1:]}
    emit(f"CUPED variance ratio at the last look (mean over A/A runs): {statistics.mean(vr):.3f}. Information "
         f"fraction at the last ld_obf look (A/A mean): by user {info['by user']:.2f}, with CUPED "
         f"{info['by user + CUPED']:.2f}.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=1000, help="A/A runs (split by opportunity)")
    ap.add_argument("--power-seeds", type=int, default=None, help="runs per non-zero lift (default 0.4 x seeds)")
    ap.add_argument("--user-seeds", type=int, default=None,
                    help="runs per user-split setting and per unit of analysis (default 0.4 x seeds)")
    ap.add_argument("--only-units", action="store_true", help="only the unit-of-analysis and CUPED tables")
    ap.add_argument("--lifts", default="0.05,0.10,0.15,0.20", help="relative click-rate lifts of the treatment")
    ap.add_argument("--out", default=None, help="also write the Markdown tables to this file")
    args = ap.parse_args()
    power_seeds = args.power_seeds if args.power_seeds is not None else max(1, int(0.4 * args.seeds))
    user_seeds = args.user_seeds if args.user_seeds is not None else max(1, int(0.4 * args.seeds))
    lifts = [float(x) for x in args.lifts.split(",") if x.strip()]
    n_fixed = fixed_sample_size(BASELINE, MDE)
    t0 = time.time()
    out: List[str] = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        out.append(text)

    emit(f"adsim {adsim.__version__}; baseline CTR {BASELINE}, design lift +{MDE:.0%}, alpha {ALPHA}, power {POWER}: "
         f"n_fixed = {n_fixed} impressions per arm")
    emit()
    if args.only_units:
        unit_and_cuped(user_seeds, emit)
        emit(f"Total wall time {time.time() - t0:.0f} s")
        if args.out:
            with open(args.out, "w") as f:
                f.write("\n".join(out) + "\n")
        return

    # ---- A/A, split by opportunity
    aa = simulate(scenario(), list(range(1, args.seeds + 1)))
    alpha_se = math.sqrt(ALPHA * (1 - ALPHA) / len(aa))
    emit(f"### A/A false positive rate, split by opportunity ({len(aa)} runs)")
    emit()
    emit(f"alpha = {ALPHA}; binomial SE at alpha = {alpha_se:.4f}, so alpha + 3 SE = {ALPHA + 3 * alpha_se:.4f}.")
    emit()
    rows = []
    for label, _, desc in METHODS:
        p, se = rate(aa, label, {"ship", "stop"})
        ship, _ = rate(aa, label, {"ship"})
        looks, _ = mean_se([r[label]["looks"] for r in aa])
        frac, fse = mean_se([r[label]["n"] / n_fixed for r in aa])
        none, _ = rate(aa, label, {"none"})
        rows.append([desc, f"{p:.4f} ± {se:.4f}", f"{ship:.4f}", f"{looks:.1f}", f"{frac:.3f} ± {fse:.3f}",
                     f"{none:.3f}"])
    emit(md_table(["method", "FPR (ship or stop) ± SE", "of which ship", "mean looks", "E[N]/n_fixed",
                   "undecided at end"], rows))
    emit()
    emit(f"A/A done after {time.time() - t0:.0f} s")
    emit()

    # ---- power and sample size against lift (same seeds for every lift)
    seeds = list(range(1, power_seeds + 1))
    by_lift = {0.0: aa[:power_seeds] if power_seeds <= len(aa) else simulate(scenario(), seeds)}
    for lift in lifts:
        by_lift[lift] = simulate(scenario(lift=lift), seeds)
    all_lifts = sorted(by_lift)
    emit(f"### Power: share of runs that ship the treatment ({power_seeds} runs per lift, same seeds)")
    emit()
    rows, max_se = lift_table(by_lift, all_lifts, lambda runs, label: rate(runs, label, {"ship"}))
    emit(md_table(["method"] + [f"+{x:.0%}" for x in all_lifts], rows))
    emit()
    emit(f"Largest binomial SE in the table: {max_se:.4f}. The +0% column is the A/A rate of shipping only.")
    emit()
    emit("### Trials per arm at the decision / n_fixed (mean; 1 - this = sample saved against the fixed horizon)")
    emit()
    rows, max_fse = lift_table(by_lift, all_lifts,
                               lambda runs, label: mean_se([r[label]["n"] / n_fixed for r in runs]))
    emit(md_table(["method"] + [f"+{x:.0%}" for x in all_lifts], rows))
    emit()
    emit(f"Largest SE of a mean in the table: {max_fse:.4f}.")
    emit()
    emit(f"Power and sample size done after {time.time() - t0:.0f} s")
    emit()

    # ---- A/A split by user, with and without per-user heterogeneity
    settings = [(2000, 0.0), (2000, 1.0), (20000, 1.0)]
    emit(f"### A/A split by user, the test counting impressions ({user_seeds} runs per setting)")
    emit()
    useeds = list(range(1, user_seeds + 1))
    results = {}
    for users, sigma in settings:
        results[(users, sigma)] = simulate(
            scenario(split="user", users=users, propensity_sigma=sigma, unit="request"), useeds)
    header = ["method"] + [f"{u} users, sigma {s:g}" for u, s in settings]
    rows = []
    for label, _, desc in METHODS:
        cells = []
        for key in settings:
            p, se = rate(results[key], label, {"ship", "stop"})
            cells.append(f"{p:.3f} ± {se:.3f}")
        rows.append([desc] + cells)
    # Variance of the fixed-horizon z over runs: 1 if impressions were independent,
    # otherwise the design effect of clustering impressions by user.
    cells = []
    for key in settings:
        zs = [r["fixed"]["z"] for r in results[key]]
        v = statistics.variance(zs)
        cells.append(f"{v:.2f} ± {v * math.sqrt(2 / (len(zs) - 1)):.2f}")
    rows.append(["variance of the fixed-horizon z (1 if valid)"] + cells)
    emit(md_table(header, rows))
    emit()
    emit(f"User split done after {time.time() - t0:.0f} s")
    emit()
    unit_and_cuped(user_seeds, emit)
    emit()
    emit(f"Total wall time {time.time() - t0:.0f} s")
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main())
