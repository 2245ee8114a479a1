#!/usr/bin/env python3
"""Benchmark of Python bidders: what a bid costs when the bidder is Python.

Owns the figures quoted in docs/python.md ("Python bidders"). It runs one
scenario (one channel, one segment, one campaign, no budget limit, so every
opportunity is a bid request) with three bidders that all bid the base bid:

* ``fixed``: the built-in C++ bidder (the baseline);
* ``py_table``: a Python bidder in bid-table mode (``on_cycle`` returns the
  table once per control cycle; the engine reads it with no Python per request);
* ``py_request``: a Python bidder in per-request mode (``bid`` is called, with
  the GIL, for every request).

For each it runs ``--repeat`` times and keeps the fastest wall time (the
result file's ``wall_time_s``, the engine alone), then reports the requests,
the wall time, and the cost per bid request above the C++ bidder:
(wall - wall_fixed) / requests. It also checks that the three runs produced
the same aggregates (they bid the same amounts, so the runs are identical;
the fingerprints differ only because the `campaigns` table names the bidder).

Usage: .venv/bin/python bench/python_bidder.py [--per-hour 200000] [--hours 6] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys

import adsim


@adsim.register_bidder("bench_py_table")
class TableBidder(adsim.Bidder):
    """Base bid everywhere, as a table once per cycle."""

    def on_cycle(self, snapshot):
        return snapshot.campaigns[self.campaign].bid


@adsim.register_bidder("bench_py_request")
class RequestBidder(adsim.Bidder):
    """Base bid, from a Python call per bid request."""

    def bid(self, request, state):
        return state.bid


def scenario(bidder: str, per_hour: float, hours: int) -> dict:
    return {
        "name": "python_bidder_bench",
        "seed": 1,
        "duration": f"{hours}h",
        "control_cycle": "15m",
        "channels": [{"name": "display", "traffic": {"per_hour": per_hour},
                      "competition": {"competitors": 5, "median": 0.002, "sigma": 0.5}}],
        "segments": [{"name": "everyone", "users": 100000, "ctr": 0.003, "cvr": 0.05}],
        "campaigns": [{"name": "c", "bid": 0.002, "bidder": {"type": bidder}}],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-hour", type=float, default=200000, help="opportunities per hour (default 200000)")
    parser.add_argument("--hours", type=int, default=6, help="simulated hours (default 6)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per bidder, fastest kept (default 3)")
    args = parser.parse_args()

    rows = []
    for bidder in ("fixed", "bench_py_table", "bench_py_request"):
        best = None
        for _ in range(args.repeat):
            result = adsim.run(scenario(bidder, args.per_hour, args.hours))
            wall = float(result.attrs["wall_time_s"])
            if best is None or wall < best[0]:
                best = (wall, result)
        wall, result = best
        requests = int(result.aggregates["opportunities"].sum())
        rows.append((bidder, requests, wall, result))

    baseline = rows[0][2]
    print(f"{'bidder':18s} {'requests':>10s} {'wall s':>8s} {'ns/request':>11s} {'extra ns/bid':>13s}")
    for bidder, requests, wall, _ in rows:
        print(f"{bidder:18s} {requests:10d} {wall:8.3f} {1e9 * wall / requests:11.0f} "
              f"{1e9 * (wall - baseline) / requests:13.0f}")
    reference = rows[0][3].aggregates.drop(columns=["campaign_name"])
    for bidder, _, _, result in rows[1:]:
        if not result.aggregates.drop(columns=["campaign_name"]).equals(reference):
            print(f"{bidder} bid the same amounts as fixed but its aggregates differ", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
