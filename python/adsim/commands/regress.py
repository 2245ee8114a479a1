"""`adsim regress BASELINE`: reruns a strategy regression baseline and fails when a KPI got worse.

Owns the command line of docs/regression.md; the work is adsim._regress's.
Exit codes: 0 nothing worse (or the baseline was updated), 1 a KPI worse
beyond its paired tolerance or (with --exact) a fingerprint changed, 2 bad
usage or an invalid scenario or case name, 3 the baseline cannot be read or
written or is not a valid baseline file.
"""

from __future__ import annotations

import argparse

HELP = "rerun a strategy regression baseline; exit 1 if a KPI is worse beyond its paired standard error"

EXIT_WORSE = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", help="baseline file (YAML, docs/regression.md)")
    parser.add_argument("--update", action="store_true",
                        help="rerun the cases and rewrite the baseline with the new values (on purpose)")
    parser.add_argument("--exact", action="store_true",
                        help="also fail when any run's fingerprint changed (for changes that must not move a number)")
    parser.add_argument("--alpha", type=float, default=None,
                        help="level of the one-sided paired test (default: the baseline's alpha, 0.05)")
    parser.add_argument("--only", action="append", metavar="NAME", help="only this case (repeatable)")
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel threads (default 1)")
    parser.add_argument("--note", default=None, help="with --update: the note stored in the baseline")


def main(args: argparse.Namespace) -> int:
    from .. import _regress
    from .._errors import ConfigError

    if args.alpha is not None and not 0 < args.alpha < 0.5:
        raise ConfigError(f"--alpha: expected a number in (0, 0.5), found {args.alpha}")
    if args.workers < 1:
        raise ConfigError(f"--workers: expected at least 1, found {args.workers}")
    baseline = _regress.read_baseline(args.baseline)
    if args.update:
        if args.note is not None:
            baseline.note = args.note
        updated = _regress.update(baseline, args.only, workers=args.workers)
        names = [c.name for c in _regress.select(updated, args.only)]
        print(f"baseline {args.baseline}: updated {len(names)} case(s) ({', '.join(names)}) on "
              f"{len(updated.seeds)} seeds, adsim {updated.adsim_version}")
        return 0
    reports = _regress.check(baseline, args.only, args.alpha, args.exact, workers=args.workers)
    print(_regress.format_report(baseline, reports, args.exact))
    failed = [r.name for r in reports if r.worse or r.missing or (args.exact and r.fingerprint_changes)]
    if failed:
        print(f"regress: FAILED: {', '.join(failed)} (a KPI worse than the baseline beyond its paired tolerance"
              f"{', or a fingerprint changed' if args.exact else ''}); if the change is intended, rerun with --update")
        return EXIT_WORSE
    print(f"regress: ok ({len(reports)} case(s) not worse than the baseline)")
    return 0
