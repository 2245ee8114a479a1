"""`adsim calibrate REPORT -o scenario.yaml`: fit a scenario's market from aggregated history (adsim.calibrate)."""

from __future__ import annotations

import argparse
import sys

HELP = "fit a scenario (traffic, click and conversion rates, competition, delays) from a history report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options (docs/calibration.md)."""
    parser.add_argument("report", help="history report (CSV: time, campaign, channel, segment, impressions, clicks, "
                                       "conversions, spend, revenue[, requests, bids, win_rate, bid]), or an adsim "
                                       "result file (.h5), aggregated first")
    parser.add_argument("-o", "--output", required=True, help="where to write the calibrated scenario (YAML)")
    parser.add_argument("--conversions", help="conversion log (CSV: click_time, conversion_time, segment): fits "
                                              "conversion delays")
    parser.add_argument("--base", help="scenario whose structure is kept (auctions, billing, floors, competitor "
                                       "counts, users, campaigns, guardrails)")
    parser.add_argument("--fit-report", help="write the fit report there instead of printing it")
    parser.add_argument("--name", default="calibrated", help="name of the calibrated scenario (default calibrated)")
    parser.add_argument("--step", choices=["1h", "1d"], default="1h",
                        help="with a result file: aggregate hourly (default) or daily")


def main(args: argparse.Namespace) -> int:
    """Fits, writes the scenario (and the fit report); exit 3 on bad input data, 2 on a bad base scenario."""
    from .._calibrate import calibrate, conversion_log, history_report
    from .._errors import ConfigError

    if not args.output:
        raise ConfigError("-o: expected a path for the calibrated scenario, found ''")
    conversions = args.conversions
    report = args.report
    if report.endswith(".h5"):
        from .._result import load

        result = load(report)
        report_frame = history_report(result, step=args.step)
        if conversions is None:
            conversions = conversion_log(result)
        calibration = calibrate(report_frame, conversions, args.base, name=args.name, source=report)
    else:
        calibration = calibrate(report, conversions, args.base, name=args.name)
    calibration.save(args.output, args.fit_report)
    if args.fit_report is None:
        sys.stdout.write(calibration.report_text())
    print(f"wrote {args.output}" + (f" and {args.fit_report}" if args.fit_report else ""), file=sys.stderr)
    return 0
