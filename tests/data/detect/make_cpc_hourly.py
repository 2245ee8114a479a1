"""Makes tests/data/detect/cpc_hourly.csv, the small fixture of `adsim detect`
and adsim.detect (tests, docs/monitoring.md): 16 days of an hourly cost per
click, log-normal around a daily rhythm, with a spike (day 9, 14:00), a
persisting level shift up by 60% (from day 11, 08:00), a 30-hour gap (day 13)
and five bad rows (an unparsable value, a missing one, a non-positive one, a
duplicated timestamp, a time out of order). Run from the repository root:

    python3 tests/data/detect/make_cpc_hourly.py
"""

from __future__ import annotations

import datetime as dt
import math
import random

OUT = "tests/data/detect/cpc_hourly.csv"


def main() -> None:
    rng = random.Random(20261207)
    start = dt.datetime(2026, 3, 2)  # a Monday
    rows = []
    for hour in range(16 * 24):
        t = start + dt.timedelta(hours=hour)
        day, hod = divmod(hour, 24)
        if day == 13 and 6 <= hod or day == 14 and hod < 12:
            continue  # the gap: 30 hours without data
        level = math.log(0.80) + 0.35 * math.sin(2 * math.pi * (hod - 9) / 24)
        if hour >= 11 * 24 + 8:
            level += math.log(1.6)  # the persisting level shift
        value = math.exp(level + rng.gauss(0.0, 0.12))
        if hour == 9 * 24 + 14:
            value *= 4.0  # the spike
        rows.append([t.strftime("%Y-%m-%dT%H:%M:%S"), f"{value:.4f}"])
    rows[40][1] = "n/a?"  # unparsable
    rows[41][1] = ""  # missing
    rows[70][1] = "0"  # non-positive under the log transform
    rows.insert(100, list(rows[99]))  # duplicated timestamp
    rows.insert(150, [rows[120][0], "0.9"])  # out of order
    with open(OUT, "w", encoding="utf-8") as handle:
        handle.write("timestamp,value\n")
        for r in rows:
            handle.write(",".join(r) + "\n")


if __name__ == "__main__":
    main()
