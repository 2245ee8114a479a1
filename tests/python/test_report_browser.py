"""The HTML report in a real browser: Debian's chromium, headless, driven over the DevTools protocol.

Loads the report of a run that fills every section (report_scenarios.py) via
file:// at a desktop width (1280) and a phone width (390), fails on any
console error or uncaught exception, checks that every chart drew what its
data says (series, shaded shocks, event lanes, bars) with a visible size,
that the page does not overflow the phone's width, and saves full-page
screenshots as test artefacts: into $ADSIM_TEST_ARTIFACTS when set (CI can
keep them), else into pytest's tmp_path (the test prints where).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import adsim
from adsim.report import browser
from report_scenarios import rich_scenario

WIDTHS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}

# For each chart: what it declares and what was drawn, and its drawn size.
COUNT_CHARTS = """
JSON.stringify([...document.querySelectorAll('section')].map(section => ({
  id: section.id,
  declared_charts: Number(section.dataset.charts),
  charts: [...section.querySelectorAll('figure > svg')].map(svg => ({
    series: [Number(svg.dataset.series || 0), svg.querySelectorAll('path.series').length],
    bands: [Number(svg.dataset.bands || 0), svg.querySelectorAll('rect.band').length],
    lanes: [Number(svg.dataset.lanes || 0), svg.querySelectorAll('path.lane').length],
    bars: [Number(svg.dataset.bars || 0), svg.querySelectorAll('rect.bar').length],
    intervals: [Number(svg.dataset.intervals || 0), svg.querySelectorAll('circle.estimate').length],
    width: svg.getBoundingClientRect().width,
    height: svg.getBoundingClientRect().height,
    drawn: [...svg.querySelectorAll('path.series')].filter(p => p.getTotalLength() > 0).length,
  })),
  absent: [...section.querySelectorAll('p.absent')].map(p => p.textContent),
})))
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    why = browser.available()
    if why:
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("browser")
    result = adsim.run(rich_scenario(), out=str(folder / "rich.h5"))
    return Path(result.report(folder / "report.html"))


@pytest.fixture(scope="module")
def page():
    why = browser.available()
    if why:
        pytest.skip(why)
    with browser.Browser() as chromium:
        yield chromium


def artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("ADSIM_TEST_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_the_report_renders_every_section_without_errors(report, page, screen, tmp_path):
    width, height, mobile = WIDTHS[screen]
    page.events.clear()
    page.viewport(width, height, mobile)
    page.open(report)
    assert page.errors() == []
    sections = {s["id"]: s for s in json.loads(page.evaluate(COUNT_CHARTS))}
    assert list(sections) == ["run", "kpis", "pacing", "auction_insights", "timeline", "experiments", "monitors",
                              "oracle", "sweep"]
    result = adsim.load(str(report.with_name("rich.h5")))
    campaigns, channels = len(result.campaigns), len(result.channels)
    expected_charts = {"run": 0, "kpis": 8, "pacing": campaigns, "auction_insights": 1, "timeline": 1,
                       "experiments": result.experiment_looks.groupby(["experiment", "analysis", "arm"]).ngroups,
                       "monitors": 0, "oracle": 1, "sweep": 0}
    for key, section in sections.items():
        assert len(section["charts"]) == section["declared_charts"] == expected_charts[key], key
        for chart in section["charts"]:
            for what in ("series", "bands", "lanes", "bars", "intervals"):
                declared, drawn = chart[what]
                assert declared == drawn, (key, what)
            assert chart["drawn"] == chart["series"][1], key  # every line has a visible length
            assert chart["width"] > 0.8 * min(width, 460) - 40 and chart["height"] > 50, (key, chart)
    assert [c["series"][0] for c in sections["kpis"]["charts"]] == [campaigns] * 4 + [channels] * 4
    assert sections["sweep"]["absent"] == ["This file holds a single run, not a sweep: no strategy comparison. A "
                                           "sweep file (adsim sweep -o, adsim.sweep(output=...)) gets a report of its "
                                           "own."]
    # Nothing wider than the screen: wide tables scroll inside their own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot = artefacts(tmp_path) / f"report-{screen}-{width}.png"
    page.screenshot(shot)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def sweep_report(tmp_path_factory):
    """A real sweep file (2 variations x 4 seeds, report_scenarios.small_sweep) and its report."""
    why = browser.available()
    if why:
        pytest.skip(why)
    from report_scenarios import small_sweep

    folder = tmp_path_factory.mktemp("browser-sweep")
    sweep = small_sweep(str(folder / "sweep.h5"))
    return sweep, Path(sweep.report(folder / "sweep.html"))


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_a_sweep_report_renders_its_comparison_and_risk_without_errors(sweep_report, page, screen, tmp_path):
    sweep, path = sweep_report
    width, height, mobile = WIDTHS[screen]
    page.events.clear()
    page.viewport(width, height, mobile)
    page.open(path)
    assert page.errors() == []
    sections = {s["id"]: s for s in json.loads(page.evaluate(COUNT_CHARTS))}
    assert list(sections) == ["sweep", "comparison", "risk"]
    campaigns = sweep.kpis["campaign"].nunique()
    # Per campaign a CPA and a conversions chart, each with the one non-baseline variation's interval drawn.
    charts = sections["comparison"]["charts"]
    assert len(charts) == sections["comparison"]["declared_charts"] == 2 * campaigns
    for chart in charts:
        assert chart["intervals"] == [1, 1] and chart["width"] > 0.8 * min(width, 460) - 40
    rows = page.evaluate("document.querySelectorAll('#risk tbody tr').length")
    assert int(rows) == 2 * campaigns  # variations x campaigns
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot = artefacts(tmp_path) / f"report-sweep-{screen}-{width}.png"
    page.screenshot(shot)
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 10_000


def test_an_empty_section_reads_as_absent_in_the_browser(page, tmp_path):
    # The suite's small scenario has no monitors, shocks, experiments or oracle.
    from conftest import small_scenario

    result = adsim.run(small_scenario())
    path = result.report(tmp_path / "small.html")
    page.events.clear()
    page.viewport(1280, 900)
    page.open(path)
    assert page.errors() == []
    sections = {s["id"]: s for s in json.loads(page.evaluate(COUNT_CHARTS))}
    assert sections["monitors"]["absent"] == ["No monitors in this run."]
    assert sections["experiments"]["absent"] == ["No experiment looks in this run."]
    assert "No alerts in this run." in sections["timeline"]["absent"]
    assert sections["oracle"]["charts"] == [] and sections["oracle"]["absent"]


def test_the_error_check_sees_console_errors_and_uncaught_exceptions(page, tmp_path):
    # The check above cannot pass vacuously: a page that logs an error and
    # throws is caught by the same collection.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>console.error('logged'); throw new Error('thrown');</script>")
    page.events.clear()
    page.open(bad)
    errors = page.errors()
    assert any("logged" in e for e in errors) and any("thrown" in e for e in errors), errors
