"""Hostile moments for a run from Python: Ctrl-C in the middle of one long
control cycle, a scenario that needs more memory than the process may have,
a valid but tiny traffic rate. Real processes, real signals, real limits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

import adsim

# About 9 billion opportunities inside a single control cycle: hours of work,
# so only an interrupt checked within the cycle (not once per cycle) ends it.
LONG = {
    "name": "long",
    "seed": 1,
    "duration": "366d",
    "bucket": "1d",
    "control_cycle": "366d",
    "channels": [{"name": "c", "traffic": {"per_hour": 1_000_000}, "competition": {"median": 0.002}}],
    "segments": [{"name": "s", "ctr": 0.02, "cvr": 0.1}],
    "campaigns": [{"name": "k", "bid": 0.003}],
}


def _child(code: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_ctrl_c_raises_keyboard_interrupt_inside_a_long_cycle_and_the_process_goes_on():
    child = _child(
        f"""
        import sys, adsim
        long = {LONG!r}
        def started(fraction):  # the cycle at t = 0: the run is under way
            print("running", flush=True)
        try:
            adsim.run(long, progress=started)
            print("finished?!", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        # The module still works after the interrupt.
        small = dict(long, duration="6h", bucket="1h", control_cycle="1h")
        small["channels"] = [dict(long["channels"][0], traffic={{"per_hour": 1000}})]
        r = adsim.run(small)
        print("after", r.fingerprint, flush=True)
        """,
        # As in a terminal: Ctrl-C at its default, so that Python installs its
        # KeyboardInterrupt handler even when this test runs in a background
        # job, which starts with SIGINT ignored (and passes that on).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert child.stdout.readline().strip() == "running", child.stderr.read()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err
    lines = out.split()
    assert lines[0] == "interrupted", out + err
    assert lines[1] == "after" and len(lines[2]) == 16, out


def test_out_of_memory_is_a_memory_error_naming_what_the_scenario_needs():
    # One segment of 1e8 users with a propensity spread: 400 MB in one
    # allocation, more than the 300 MB of address space left to the child.
    child = _child(
        """
        import resource, adsim
        with open("/proc/self/status") as f:
            size_kb = next(int(l.split()[1]) for l in f if l.startswith("VmSize:"))
        limit = (size_kb + 300_000) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        big = {
            "name": "big", "seed": 1, "duration": "1h",
            "channels": [{"name": "c", "traffic": {"per_hour": 10}, "competition": {"median": 0.002}}],
            "segments": [{"name": "s", "users": 100_000_000, "propensity_sigma": 0.5, "ctr": 0.02, "cvr": 0.1}],
            "campaigns": [{"name": "k", "bid": 0.003}],
        }
        try:
            adsim.run(big)
            print("ran?!")
        except MemoryError as e:
            print("MemoryError:", e)
        # Memory is back once the run is gone: a small run works.
        big["segments"][0]["users"] = 1000
        print("after", adsim.run(big).fingerprint)
        """
    )
    out, err = child.communicate(timeout=120)
    if "AddressSanitizer" in err:
        pytest.skip("a sanitizer build reserves more address space than the limit")
    assert child.returncode == 0, err
    assert (
        "MemoryError: out of memory while running the scenario (the scenario needs about 400 MB for user "
        "propensities (100000000 users with propensity_sigma > 0, 4 bytes each))" in out
    ), out + err
    assert "after " in out, out


def test_tiny_traffic_rate_finishes_with_no_opportunity():
    scenario = dict(LONG, duration="30d", control_cycle="1d")
    scenario["channels"] = [dict(LONG["channels"][0], traffic={"per_hour": 1e-10})]
    r = adsim.run(scenario)
    assert int(r.raw("market")["opportunities"].sum()) == 0
