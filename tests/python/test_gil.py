"""The GIL is released while the engine runs."""

from __future__ import annotations

import threading
import time

import adsim


def test_main_thread_runs_while_engine_runs(small):
    # About five million opportunities: long enough (~0.5 s) to observe, short enough for CI.
    small["duration"] = "2d"
    small["channels"][0]["traffic"]["per_hour"] = 80000
    small["channels"][1]["traffic"]["per_hour"] = 25000
    box = {}

    def work():
        box["result"] = adsim.run(small)

    t = threading.Thread(target=work)
    t0 = time.perf_counter()
    t.start()
    iterations = 0
    while t.is_alive():
        iterations += 1  # pure-Python work: needs the GIL for every iteration
    elapsed = time.perf_counter() - t0
    t.join()
    assert "result" in box, "the run failed in its thread"
    # If the engine held the GIL, this loop would be frozen for the whole run
    # and count only a handful of iterations before and after it. A Python
    # loop does millions of iterations per second; ask for a small fraction.
    assert elapsed > 0.05, "the run was too short to tell"
    assert iterations > 10_000 * elapsed, (iterations, elapsed)


def test_two_runs_in_parallel_threads_match_serial(small):
    serial = adsim.run(small).fingerprint
    out = []
    threads = [threading.Thread(target=lambda: out.append(adsim.run(small).fingerprint)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [serial, serial]
