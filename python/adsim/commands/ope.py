"""`adsim ope LOG.csv --policy NAME`: off-policy evaluation of a policy on a bandit log (adsim.ope)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Dict, Optional

HELP = "off-policy evaluation of a creative or bandit policy on a log with propensities (IPW, SNIPW, DM, DR, ...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options (docs/ope.md)."""
    from .._ope import ESTIMATORS

    parser.add_argument("log", help="the log: CSV or CSV.gz, Open Bandit Dataset layout unless --columns says otherwise")
    parser.add_argument("--policy", required=True,
                        help="uniform, a registered creative strategy (creative_thompson, ...), or module.py:function "
                             "returning action probabilities per row")
    parser.add_argument("--policy-params", default="",
                        help="a creative strategy's parameters, name=value pairs separated by commas")
    parser.add_argument("--cycle-rows", type=int, default=1000,
                        help="a creative strategy's control cycle, in log rows (default 1000)")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS),
                        help=f"comma-separated, among {','.join(ESTIMATORS)} (default: all)")
    parser.add_argument("--columns", default="",
                        help="role=column pairs for other layouts, e.g. action=creative,reward=clicked,"
                             "propensity=p,position= (empty: unslotted); roles action, reward, propensity, position")
    parser.add_argument("--n-actions", type=int, default=None,
                        help="number of actions (default: rows of item_context.csv beside the log, "
                             "else the largest action code + 1)")
    parser.add_argument("--by-position", action="store_true",
                        help="evaluate each position as its own bandit (independent-item assumption)")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples (default 200; 0: no interval)")
    parser.add_argument("--level", type=float, default=0.95, help="confidence level of the interval (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the replay's draws (default 0)")
    parser.add_argument("--shrinkage", type=float, default=100.0, help="lambda of dr-os (default 100)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {estimator, value, ci_low, ci_high, ess} instead of a table")


def _parse_columns(text: str) -> Optional[Dict[str, Optional[str]]]:
    """``role=column,...`` → mapping; an empty column means the role is absent."""
    from .._errors import ConfigError

    if not text:
        return None
    mapping: Dict[str, Optional[str]] = {}
    for pair in text.split(","):
        role, equals, column = pair.partition("=")
        if not equals:
            raise ConfigError(f"--columns: expected role=column pairs separated by commas, found {pair!r}")
        mapping[role.strip()] = column.strip() or None
    return mapping


def _parse_params(text: str) -> Dict[str, float]:
    """``name=value,...`` → {name: number}."""
    from .._errors import ConfigError

    params: Dict[str, float] = {}
    for pair in filter(None, text.split(",")):
        name, equals, value = pair.partition("=")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            equals = ""
        if not equals:
            raise ConfigError(f"--policy-params: expected name=number pairs separated by commas, found {pair!r}")
    return params


def _number(value: float) -> Optional[float]:
    """JSON has no NaN: an undefined value (no interval, no accepted row) is null."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def main(args: argparse.Namespace) -> int:
    """Evaluates the policy and prints one row (or JSON object) per estimator."""
    from .._ope import ope

    table = ope(args.log, args.policy, args.estimators, columns=_parse_columns(args.columns),
                n_actions=args.n_actions, by_position=args.by_position, bootstrap=args.bootstrap,
                level=args.level, seed=args.seed, shrinkage=args.shrinkage,
                policy_params=_parse_params(args.policy_params), cycle_rows=args.cycle_rows)
    if args.json:
        rows = []
        for record in table.to_dict(orient="records"):
            estimator = record["estimator"]
            if args.by_position:
                estimator = f"{estimator}@position={record['position']}"
            rows.append({"estimator": estimator, "value": _number(record["value"]),
                         "ci_low": _number(record["ci_low"]), "ci_high": _number(record["ci_high"]),
                         "ess": _number(record["ess"])})
        json.dump(rows, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        formats = {column: (lambda v: f"{v:.8f}") for column in ("value", "ci_low", "ci_high")}
        formats["ess"] = lambda v: f"{v:.1f}"
        print(table.to_string(index=False, formatters=formats))
    return 0
