"""Off-policy evaluation against a real answer, on the Open Bandit Dataset sample (tests/data/obd).

Owns: the study of docs/ope.md, "Checked against real data". The Bernoulli
Thompson sampling policy (bts) is rebuilt per position from its own log and
evaluated by every estimator of adsim.ope on the uniform random policy's log
of the same campaign; the on-policy truth is the bts log's mean click (both
policies ran on the same traffic in an A/B test). Prints, per campaign and
estimator, the estimate, its relative error, the bootstrap interval, whether
it covers the truth, and the effective sample size, as the Markdown table
docs/ope.md shows (the docs test compares them).

    .venv/bin/python bench/ope_obd.py [--bootstrap 200] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Callable, Dict

import numpy as np
import pandas as pd

import adsim
from adsim._ope import ESTIMATORS, read_bandit_log

OBD = Path(__file__).resolve().parents[1] / "tests" / "data" / "obd"


def rebuild_policy(log_path: Path, weighting: str) -> Callable[[pd.DataFrame, int], np.ndarray]:
    """The logging policy's time-averaged action distribution per position, as a policy function.

    bts is context-free but changes over time; each row's ``propensity_score`` is pi_t(item | position) at
    that round. Its average over the rounds, E_t[pi_t(a | p)], is the distribution of the policy the log
    shows. ``frequency``: the share of rows at position p showing a (an unbiased estimate of that average:
    E[1{a_t = a}] = E_t[pi_t(a | p)]). ``propensity``: the mean logged propensity of a at p, normalised
    per position (uses the propensities, but over-weights the rounds in which a was likely, so it is
    sharper than the average).
    """
    log = read_bandit_log(log_path)
    slots = int(log.position.max())
    table = np.zeros((slots, log.n_actions))
    for position in range(1, slots + 1):
        mask = log.position == position
        if weighting == "frequency":
            table[position - 1] = np.bincount(log.action[mask], minlength=log.n_actions)
        else:
            sums = np.bincount(log.action[mask], weights=log.propensity[mask], minlength=log.n_actions)
            counts = np.bincount(log.action[mask], minlength=log.n_actions)
            table[position - 1] = np.divide(sums, counts, out=np.zeros(log.n_actions), where=counts > 0)
        table[position - 1] /= table[position - 1].sum()

    def policy(frame: pd.DataFrame, n_actions: int) -> np.ndarray:
        return table[pd.to_numeric(frame["position"]).to_numpy(dtype=int) - 1]

    return policy


def study(bootstrap: int, seed: int) -> pd.DataFrame:
    """One row per (campaign, rebuilt policy, estimator)."""
    rows = []
    for campaign in ("men", "women"):
        bts = OBD / "bts" / campaign / f"{campaign}.csv.gz"
        truth_log = read_bandit_log(bts)
        truth = float(truth_log.reward.mean())
        truth_se = math.sqrt(truth * (1 - truth) / len(truth_log))
        for weighting in ("frequency", "propensity"):
            table = adsim.ope(OBD / "random" / campaign / f"{campaign}.csv.gz", rebuild_policy(bts, weighting),
                              ESTIMATORS, bootstrap=bootstrap, seed=seed)
            for row in table.itertuples():
                rows.append({"campaign": campaign, "policy": f"bts ({weighting})", "truth": truth,
                             "truth_se": truth_se, "estimator": row.estimator, "value": row.value,
                             "relative_error": (row.value - truth) / truth, "ci_low": row.ci_low,
                             "ci_high": row.ci_high, "covers": row.ci_low <= truth <= row.ci_high, "ess": row.ess})
    return pd.DataFrame(rows)


def markdown(results: pd.DataFrame) -> str:
    """The tables of docs/ope.md: estimates, then the coverage count per estimator."""
    lines = ["| campaign | policy | truth (SE) | estimator | estimate | relative error | 95% CI | covers | ESS |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results.itertuples():
        lines.append(f"| {r.campaign} | {r.policy} | {r.truth:.4f} ({r.truth_se:.4f}) | {r.estimator} | "
                     f"{r.value:.5f} | {r.relative_error:+.1%} | [{r.ci_low:.5f}, {r.ci_high:.5f}] | "
                     f"{'yes' if r.covers else 'no'} | {r.ess:.0f} |")
    lines += ["", "| estimator | intervals covering the truth | mean absolute relative error |", "|---|---|---|"]
    summary: Dict[str, pd.DataFrame] = dict(tuple(results.groupby("estimator", sort=False)))
    for name, part in summary.items():
        lines.append(f"| {name} | {int(part.covers.sum())} of {len(part)} | "
                     f"{part.relative_error.abs().mean():.1%} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    args = parser.parse_args()
    print(markdown(study(args.bootstrap, args.seed)))


if __name__ == "__main__":
    main()
