#!/usr/bin/env python3
"""Benchmark of the HTML report on a large run: file size, time to write, time to render in chromium.

Owns the measurement quoted in docs/report.md. It runs
bench/scenarios/report_large.yaml (a week at 15-minute buckets, 20
campaigns), writes its report, then loads the report via file:// in a fresh
headless chromium `--loads` times at 1280 px wide and reports, per load:

* render_ms: performance.now() when the second animation frame after the
  load event fires, i.e. from the start of navigation until the page with
  every chart has been drawn (the report has no script: the charts are
  drawn when the page is);
* task_ms, layout_ms, style_ms: the renderer's main-thread time for all tasks,
  layout and style (DevTools Performance.getMetrics), which are less
  sensitive than wall time to other processes sharing the CPU.

Usage: .venv/bin/python bench/report_benchmark.py [--loads 7] [--scenario PATH] [--keep DIR]
Targets (issue 12): render under 2 s, file under 5 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import adsim
from adsim.report import browser, write_report

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7, help="page loads to time (default 7)")
    parser.add_argument("--scenario", default=str(REPO / "bench" / "scenarios" / "report_large.yaml"))
    parser.add_argument("--keep", help="folder to keep the result file and the report in")
    args = parser.parse_args()
    why = browser.available()
    if why:
        print(f"report_benchmark: {why}", file=sys.stderr)
        return 3
    folder = Path(args.keep or tempfile.mkdtemp(prefix="adsim-report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    result = adsim.run(args.scenario, out=str(folder / "large.h5"))
    began = time.perf_counter()
    path = Path(write_report(result, folder / "large.html"))
    write_s = time.perf_counter() - began
    size = path.stat().st_size
    loads = []
    with browser.Browser(timeout=120) as page:
        page.call("Performance.enable")
        page.viewport(1280, 900)
        for _ in range(args.loads):
            render_ms = page.open(path)
            metrics = {m["name"]: m["value"] for m in page.call("Performance.getMetrics")["metrics"]}
            loads.append({"render_ms": render_ms, "task_ms": 1000 * metrics.get("TaskDuration", float("nan")),
                          "layout_ms": 1000 * metrics.get("LayoutDuration", float("nan")),
                          "style_ms": 1000 * metrics.get("RecalcStyleDuration", float("nan"))})
            page.call("Page.navigate", url="about:blank")  # the next load starts from an empty page
            page.wait_for("Page.loadEventFired")
            page.call("Performance.disable")
            page.call("Performance.enable")  # metrics restart from zero
        errors = page.errors()
    summary = {
        "scenario": Path(args.scenario).name,
        "campaigns": len(result.campaigns),
        "buckets": -(-int(result.attrs["duration_us"]) // int(result.attrs["bucket_us"])),
        "file_bytes": size,
        "write_s": round(write_s, 3),
        "loads": len(loads),
        "console_errors": errors,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    for key in ("render_ms", "task_ms", "layout_ms", "style_ms"):
        values = [load[key] for load in loads]
        summary[key] = {"median": round(statistics.median(values), 1), "min": round(min(values), 1),
                        "max": round(max(values), 1)}
    print(json.dumps(summary, indent=2))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
