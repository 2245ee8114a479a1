"""Sweep throughput: runs per second of a one-day scenario on 1 and 2 C++
threads and through a 2-worker Dask LocalCluster, memory per run, and the
overhead per run (setup + summary + write) against the run itself. Prints
Markdown (docs/sweeps.md, "Benchmarks", shows a measurement).

    .venv/bin/python bench/sweep_benchmark.py [--runs 8] [--repeat 3] [--scenario bench/scenarios/reference.yaml]
                                              [--duration 1d] [--no-dask]

The 1-thread and 2-thread sweeps are measured --repeat times, alternately
(1, 2, 1, 2, ...), so that a drift in the machine's speed falls on both; each
pair gives a speed-up, and the table shows every pair and their median. Each
pair also splits its speed-up into its two causes: the runs' own engine time
on 2 threads against 1 (each result's wall_time_s: slower when the threads
compete for the memory system or the clock drops with both cores busy), and
the share of the 2-thread wall time the two workers spent running (idle at
the end when the runs do not divide evenly, or waiting on serial work).

Each pair is also set against the machine's own ceiling, measured in the
same sitting, right after the pair: the bare loop (bench/bare_loop, one
auction's speed of light, no shared state, a working set that fits in L1/L2)
run alone, then two copies at once. Its speed-up, t_alone × (1/t_a + 1/t_b),
is what two independent jobs gain on this machine; the sweep's efficiency is
its own speed-up over that ceiling. On a virtual machine whose two cores are
not equally fast the ceiling is below 2, and a 1-thread measurement that
lands on the slower core makes a pair's speed-up look better than 2.

The scenario's duration is replaced by --duration (one day by default).
Speed-up needs two idle cores: on a shared, loaded machine it measures the
load as much as adsim; rerun it on a quiet machine before quoting it.
Needs the adsim package (scripts/setup.sh installs it into .venv).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import subprocess
import tempfile
import time
from typing import Any, Dict, List

import numpy as np
import yaml

import adsim

ROOT = pathlib.Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    """The process's peak resident memory (VmHWM), MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def result_mib(result: adsim.Result) -> float:
    """Memory the numpy arrays of one result hold, MiB."""
    total = 0
    for name in result.tables:
        for column in result.raw(name).values():
            total += column.nbytes if column.dtype != object else sum(len(str(v)) + 49 for v in column)
    return total / 2**20


def timed_sweep(scenario: Dict[str, Any], runs: int, **options: Any) -> Dict[str, Any]:
    start = time.perf_counter()
    swept = adsim.sweep(scenario, seeds=runs, progress=False, **options)
    elapsed = time.perf_counter() - start
    return {"sweep": swept, "elapsed": elapsed, "runs_per_second": runs / elapsed}


def engine_seconds_per_run(swept: Any, runs: int) -> float:
    """The mean engine time (each result's wall_time_s) of a keep="results" sweep's runs."""
    return float(np.mean([float(swept.result(r).attrs["wall_time_s"]) for r in range(runs)]))


def compile_bare_loop(folder: str) -> str:
    """Compiles bench/bare_loop/bare_loop.cpp as bench/run_throughput.sh does; returns the program."""
    program = os.path.join(folder, "bare_loop")
    subprocess.run(["g++", "-O3", "-march=native", "-std=c++17", "-o", program,
                    str(ROOT / "bench" / "bare_loop" / "bare_loop.cpp")], check=True)
    return program


def bare_loop_seconds(outputs: List[str]) -> List[float]:
    """The `secs=` field of each bare-loop output."""
    return [float(re.search(r"secs=([0-9.]+)", output).group(1)) for output in outputs]


def ceiling_speedup(program: str, auctions: int) -> Dict[str, float]:
    """The bare loop alone, then two copies at once: the speed-up two independent jobs get here."""
    command = [program, "--n", str(auctions), "--k", "5", "--dist", "zig"]
    alone = bare_loop_seconds([subprocess.run(command, check=True, capture_output=True, text=True).stdout])[0]
    both = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate()[0] for process in both]
    first, second = bare_loop_seconds(outputs)
    return {"alone": alone, "first": first, "second": second,
            "speedup": alone * (1.0 / first + 1.0 / second)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="alternating 1- and 2-thread measurements")
    parser.add_argument("--scenario", default=str(ROOT / "bench" / "scenarios" / "reference.yaml"))
    parser.add_argument("--duration", default="1d")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--bare-auctions", type=int, default=60_000_000,
                        help="auctions per bare-loop run of the machine's ceiling (about 2.5 s)")
    args = parser.parse_args()
    with open(args.scenario) as handle:
        scenario = yaml.safe_load(handle)
    scenario["duration"] = args.duration

    # One run alone: its engine time (wall_time_s) and result size.
    single = adsim.run(scenario, seed=1)
    engine_seconds = float(single.attrs["wall_time_s"])
    opportunities = int(single.attrs.get("opportunities", 0))

    rows: List[List[str]] = []
    pairs: List[List[str]] = []
    speedups: List[float] = []
    ceilings: List[float] = []
    efficiencies: List[float] = []
    bare_folder = tempfile.TemporaryDirectory()
    bare_program = compile_bare_loop(bare_folder.name)
    for repeat in range(args.repeat):
        one = timed_sweep(scenario, args.runs, workers=1, keep="results")
        two = timed_sweep(scenario, args.runs, workers=2, keep="results")
        assert one["sweep"].runs["fingerprint"].tolist() == two["sweep"].runs["fingerprint"].tolist()
        engine_one = engine_seconds_per_run(one["sweep"], args.runs)
        engine_two = engine_seconds_per_run(two["sweep"], args.runs)
        speedup = two["runs_per_second"] / one["runs_per_second"]
        speedups.append(speedup)
        busy = args.runs * engine_two / (2 * two["elapsed"])
        ceiling = ceiling_speedup(bare_program, args.bare_auctions)
        ceilings.append(ceiling["speedup"])
        efficiencies.append(speedup / ceiling["speedup"])
        pairs.append([str(repeat + 1), f"{one['runs_per_second']:.3f}", f"{two['runs_per_second']:.3f}",
                      f"{speedup:.2f}", f"{engine_one:.3f} s / {engine_two:.3f} s ({engine_one / engine_two:.2f})",
                      f"{100 * busy:.0f}%",
                      f"{ceiling['alone']:.2f} s / {ceiling['first']:.2f} s, {ceiling['second']:.2f} s "
                      f"({ceiling['speedup']:.2f})", f"{100 * speedup / ceiling['speedup']:.0f}%"])
        if repeat == 0:
            first_one = one
    one = first_one
    median = float(np.median(speedups))
    rows.append(["1 thread", f"{one['runs_per_second']:.3f}", "1.00"])
    rows.append([f"2 threads (median of {args.repeat} alternating pairs)",
                 f"{median * one['runs_per_second']:.3f}", f"{median:.2f}"])
    rows.append([f"machine ceiling: two bare loops at once (median of {args.repeat})", "",
                 f"{float(np.median(ceilings)):.2f}"])
    bare_folder.cleanup()
    if not args.no_dask:
        import distributed

        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            client.run(lambda: __import__("adsim"))  # import on the workers before timing
            dask = timed_sweep(scenario, args.runs, client=client)
        assert dask["sweep"].runs["fingerprint"].tolist() == one["sweep"].runs["fingerprint"].tolist()
        rows.append(["Dask LocalCluster, 2 worker processes", f"{dask['runs_per_second']:.3f}",
                     f"{dask['runs_per_second'] / one['runs_per_second']:.2f}"])

    # Overhead per run, on one thread: the sweep's time per run against the
    # engine's own time for the same runs (each result's wall_time_s), keeping
    # the results in memory, then writing the sweep file.
    before = peak_rss_mib()
    kept = timed_sweep(scenario, args.runs, workers=1, keep="results")
    after = peak_rss_mib()
    engine = float(np.mean([float(kept["sweep"].result(r).attrs["wall_time_s"]) for r in range(args.runs)]))
    per_run = kept["elapsed"] / args.runs
    with tempfile.TemporaryDirectory() as folder:
        written = timed_sweep(scenario, args.runs, workers=1, output=os.path.join(folder, "sweep.h5"))
        file_mib = os.path.getsize(os.path.join(folder, "sweep.h5")) / 2**20
        loaded = adsim.load(os.path.join(folder, "sweep.h5"))
        engine_written = float(np.mean([float(loaded.result(r).attrs["wall_time_s"]) for r in range(args.runs)]))
    per_run_written = written["elapsed"] / args.runs

    print(f"Scenario {pathlib.Path(args.scenario).name}, duration {args.duration} "
          f"({opportunities:,} opportunities per run), {args.runs} runs per measurement, "
          f"{os.cpu_count()} cores.\n")
    print("| sweep | runs per second | speed-up over 1 thread |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print("| pair | 1 thread, runs/s | 2 threads, runs/s | speed-up | engine time per run, 1 thread / 2 threads "
          "(ratio) | workers busy, 2 threads | bare loop alone / two at once (ceiling) | sweep / ceiling |")
    print("|---|---|---|---|---|---|---|---|")
    for pair in pairs:
        print("| " + " | ".join(pair) + " |")
    print()
    print("The speed-up is 2 × (engine-time ratio) × (workers busy), up to the calling thread's own share.")
    print(f"Median sweep speed-up over the machine's ceiling: {100 * float(np.median(efficiencies)):.0f}%.\n")
    print("| per run | value |")
    print("|---|---|")
    print(f"| keep=\"results\": sweep time per run / engine time of the run | {per_run:.3f} s / {engine:.3f} s "
          f"(overhead {per_run - engine:+.3f} s, {100 * (per_run - engine) / engine:+.1f}%) |")
    print(f"| output=FILE: sweep time per run / engine time of the run | {per_run_written:.3f} s / "
          f"{engine_written:.3f} s (overhead {per_run_written - engine_written:+.3f} s, "
          f"{100 * (per_run_written - engine_written) / engine_written:+.1f}%) |")
    print(f"| size in the sweep file | {file_mib / args.runs:.2f} MiB |")
    print(f"| result in memory (keep=\"results\": numpy arrays) | {result_mib(single):.2f} MiB |")
    print(f"| peak RSS growth of a keep=\"results\" sweep, per run | {(after - before) / args.runs:.2f} MiB |")
    print(f"\n(single run alone: engine {engine_seconds:.3f} s)")


if __name__ == "__main__":
    main()
