"""Static SVG charts for the HTML report: line charts over simulated time and bar charts.

Owns drawing: coordinates, axes, ticks, shaded bands, event lanes and the
HTML legend under each chart. Charts are plain SVG (no script), scale with
the page width (a viewBox), and mark what they draw so the browser test can
count it: every data series is one ``<path class="series">``, every shaded
band one ``<rect class="band">``, every event lane one ``<path class="lane">``
and every bar one ``<rect class="bar">``; the ``<svg>`` carries the expected
counts in ``data-series``, ``data-bands``, ``data-lanes`` and ``data-bars``.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

WIDTH = 640
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 24, 30
#: Colour-blind-safe palette (Okabe-Ito plus Tol's muted), cycled with dash patterns.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999933", "#882255",
           "#44AA99", "#332288"]
DASHES = ["", "6 3", "2 2", "8 3 2 3"]


def colour(i: int) -> Tuple[str, str]:
    """Stroke colour and dash pattern of series number `i`."""
    return PALETTE[i % len(PALETTE)], DASHES[(i // len(PALETTE)) % len(DASHES)]


@dataclass
class Series:
    """One line: x in µs since the start, y in data units (NaN = gap)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    dash: Optional[str] = None
    colour: Optional[str] = None
    step: bool = False
    markers: bool = False


@dataclass
class Band:
    """A shaded time window (an injected shock)."""

    start: int
    end: int
    label: str


@dataclass
class Lane:
    """A row of tick marks at event times (alerts, actions), drawn as one path."""

    name: str
    times: np.ndarray
    colour: str
    details: List[str] = field(default_factory=list)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def nice_ticks(low: float, high: float, count: int = 5) -> List[float]:
    """Round tick values covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else [0.0]
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def format_number(value: float) -> str:
    """Short tick label: 1.2k, 3.4M, 0.015."""
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.4g}"


class TimeAxis:
    """Maps simulated time (µs) to x and labels days from the calendar start."""

    def __init__(self, duration_us: int, day_names: Sequence[str], offset_us: int) -> None:
        self.duration = max(1, int(duration_us))
        self.day_names = list(day_names)  # label of each day, from the first midnight at or before the start
        self.offset = offset_us  # µs from that midnight to t = 0

    def x(self, t: np.ndarray) -> np.ndarray:
        return LEFT + (WIDTH - LEFT - RIGHT) * (np.asarray(t, dtype=float) / self.duration)

    def ticks(self) -> List[Tuple[float, str]]:
        day = 86_400_000_000
        days = self.duration / day
        if days <= 2:  # every 12 hours (labels must fit a phone's width)
            step = day // 2
        elif days <= 8:
            step = day
        else:
            step = day * math.ceil(days / 8)
        out = []
        t = (step - self.offset % step) % step
        while t <= self.duration:
            absolute = t + self.offset
            label = self.day_names[(absolute // day) % len(self.day_names)] if self.day_names else ""
            if step < day and absolute % day:  # hours within the day; the day's name at midnight
                label = f"{(absolute % day) // 3_600_000_000:02d}h"
            out.append((float(self.x(np.array([t]))[0]), label))
            t += step
        return out


def _path(xs: np.ndarray, ys: np.ndarray, step: bool) -> str:
    """SVG path data through the finite points, breaking at NaN (a run of points: M x y L x y x y ...)."""
    runs: List[List[str]] = []
    current: List[str] = []
    for x, y in zip(xs.tolist(), ys.tolist()):
        if not math.isfinite(y):
            if current:
                runs.append(current)
            current = []
            continue
        if step and current:
            current.append(f"H{x:.1f}V{y:.1f}")
        else:
            current.append(f"{x:.1f} {y:.1f}")
    if current:
        runs.append(current)
    out = []
    for points in runs:
        if step:
            out.append("M" + "".join(points))
        elif len(points) == 1:
            out.append(f"M{points[0]}h0.1")  # a lone point: a dot-sized segment
        else:
            out.append(f"M{points[0]}L" + " ".join(points[1:]))
    return "".join(out)


def line_chart(
    axis: TimeAxis,
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    bands: Sequence[Band] = (),
    lanes: Sequence[Lane] = (),
    symmetric: bool = False,
    css_class: str = "chart",
) -> str:
    """A time chart with its legend, as an HTML fragment (<figure>)."""
    lane_height = 14
    plot_bottom = HEIGHT - BOTTOM - lane_height * len(lanes)
    values = np.concatenate([np.asarray(s.y, dtype=float) for s in series]) if series else np.array([])
    values = values[np.isfinite(values)]
    low = float(values.min()) if len(values) else 0.0
    high = float(values.max()) if len(values) else 1.0
    low = min(low, 0.0)
    if symmetric:
        bound = max(abs(low), abs(high))
        low, high = -bound, bound
    if high <= low:
        high = low + 1.0
    ticks = nice_ticks(low, high)
    low, high = min(low, ticks[0]), max(high, ticks[-1])

    def anchor(x: float) -> str:
        """Labels at the edges are aligned inwards so that they are not cut."""
        if x > WIDTH - RIGHT - 30:
            return ' style="text-anchor:end"'
        return ' style="text-anchor:start"' if x < LEFT + 30 else ""

    def y_of(v: np.ndarray) -> np.ndarray:
        return plot_bottom - (plot_bottom - TOP) * (np.asarray(v, dtype=float) - low) / (high - low)

    out = [f'<figure class="{esc(css_class)}"><figcaption>{esc(title)}</figcaption>'
           f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(title)}" '
           f'data-series="{len(series)}" data-bands="{len(bands)}" data-lanes="{len(lanes)}">']
    for band in bands:
        x0, x1 = axis.x(np.array([band.start, band.end]))
        out.append(f'<rect class="band" x="{x0:.1f}" y="{TOP}" width="{max(1.0, x1 - x0):.1f}" '
                   f'height="{HEIGHT - BOTTOM - TOP}"><title>{esc(band.label)}</title></rect>')
    for value in ticks:
        y = float(y_of(np.array([value]))[0])
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="ylabel" x="{LEFT - 4}" y="{y + 4:.1f}">{esc(format_number(value))}</text>')
    for x, label in axis.ticks():
        out.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}"/>'
                   f'<text class="xlabel" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}"{anchor(x)}>{esc(label)}</text>')
    if unit:
        out.append(f'<text class="unit" x="4" y="{TOP - 8}">{esc(unit)}</text>')
    legend = []
    for i, s in enumerate(series):
        stroke, dash = colour(i)
        stroke = s.colour or stroke
        dash = s.dash if s.dash is not None else dash
        d = _path(axis.x(s.x), y_of(s.y), s.step)
        dash_attribute = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<path class="series" d="{d}" stroke="{stroke}"{dash_attribute}><title>{esc(s.name)}</title></path>')
        if s.markers:  # discrete observations (experiment looks): a dot at each
            xs, ys = axis.x(s.x), y_of(s.y)
            out.append("".join(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{stroke}"/>'
                               for x, y in zip(xs.tolist(), ys.tolist()) if math.isfinite(y)))
        legend.append(f'<li><svg viewBox="0 0 24 8"><line x1="0" y1="4" x2="24" y2="4" stroke="{stroke}"'
                      f'{dash_attribute}/></svg>{esc(s.name)}</li>')
    for i, lane in enumerate(lanes):
        y = plot_bottom + 3 + i * lane_height
        xs = axis.x(lane.times)
        d = "".join(f"M{x:.1f} {y:.1f}v9" for x in np.unique(np.round(xs, 1)).tolist())
        tip = lane.name if not lane.details else lane.name + "\n" + "\n".join(lane.details[:20])
        out.append(f'<path class="lane" d="{d}" stroke="{lane.colour}"><title>{esc(tip)}</title></path>')
        legend.append(f'<li><svg viewBox="0 0 24 8"><rect x="8" y="0" width="3" height="8" fill="{lane.colour}"/>'
                      f'</svg>{esc(lane.name)} ({len(lane.times)})</li>')
    if bands:
        legend.append('<li><svg viewBox="0 0 24 8"><rect class="band" x="0" y="0" width="24" height="8"/></svg>'
                      'injected shock</li>')
    out.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{plot_bottom}" y2="{plot_bottom}"/>')
    out.append("</svg>")
    if legend:
        out.append('<ul class="legend">' + "".join(legend) + "</ul>")
    out.append("</figure>")
    return "".join(out)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "") -> str:
    """Horizontal bars (one per label; negative values go left of zero), as a <figure>."""
    row = 22
    height = TOP + row * len(labels) + 24
    left = 150
    right = RIGHT + 60  # room for the value labels
    finite = [v for v in values if math.isfinite(v)]
    low = min([0.0] + finite)
    high = max([0.0] + finite)
    if high <= low:
        high = low + 1.0

    def x_of(v: float) -> float:
        return left + (WIDTH - left - right) * (v - low) / (high - low)

    out = [f'<figure class="chart"><figcaption>{esc(title)}</figcaption>'
           f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{esc(title)}" data-bars="{len(labels)}">']
    zero = x_of(0.0)
    for i, (label, value) in enumerate(zip(labels, values)):
        y = TOP + i * row
        v = value if math.isfinite(value) else 0.0
        x0, x1 = sorted((zero, x_of(v)))
        fill = PALETTE[0] if v >= 0 else PALETTE[3]
        out.append(f'<rect class="bar" x="{x0:.1f}" y="{y + 3}" width="{max(0.5, x1 - x0):.1f}" height="{row - 6}" '
                   f'fill="{fill}"><title>{esc(label)}: {esc(format_number(value))} {esc(unit)}</title></rect>'
                   f'<text class="ylabel" x="{left - 6}" y="{y + row / 2 + 4:.1f}">{esc(label)}</text>'
                   f'<text class="value" x="{x1 + 4 if v >= 0 else x0 - 4:.1f}" y="{y + row / 2 + 4:.1f}" '
                   f'text-anchor="{"start" if v >= 0 else "end"}">{esc(format_number(value))}</text>')
    out.append(f'<line class="axis" x1="{zero:.1f}" x2="{zero:.1f}" y1="{TOP}" y2="{height - 24}"/>')
    if unit:
        out.append(f'<text class="unit" x="{left}" y="{height - 6}">{esc(unit)}</text>')
    out.append("</svg></figure>")
    return "".join(out)


def interval_chart(labels: Sequence[str], values: Sequence[float], lows: Sequence[float], highs: Sequence[float],
                   *, title: str, unit: str = "") -> str:
    """One estimate per label (a dot) with its interval (a horizontal line) and a line at zero, as a <figure>."""
    row = 22
    height = TOP + row * len(labels) + 24
    left = 150
    right = RIGHT + 60
    finite = [v for v in list(values) + list(lows) + list(highs) if math.isfinite(v)]
    low = min([0.0] + finite)
    high = max([0.0] + finite)
    if high <= low:
        high = low + 1.0

    def x_of(v: float) -> float:
        return left + (WIDTH - left - right) * (v - low) / (high - low)

    out = [f'<figure class="chart"><figcaption>{esc(title)}</figcaption>'
           f'<svg viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{esc(title)}" data-intervals="{len(labels)}">']
    zero = x_of(0.0)
    out.append(f'<line class="axis" x1="{zero:.1f}" x2="{zero:.1f}" y1="{TOP}" y2="{height - 24}"/>'
               f'<text class="unit" x="{zero:.1f}" y="{height - 10}" text-anchor="middle">0</text>')
    for i, (label, value, lo, hi) in enumerate(zip(labels, values, lows, highs)):
        y = TOP + i * row + row / 2
        tip = f"{label}: {format_number(value)} [{format_number(lo)}, {format_number(hi)}] {unit}".strip()
        out.append(f'<text class="ylabel" x="{left - 6}" y="{y + 4:.1f}">{esc(label)}</text>')
        if math.isfinite(lo) and math.isfinite(hi):
            out.append(f'<line class="interval" x1="{x_of(lo):.1f}" x2="{x_of(hi):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="{PALETTE[0]}" stroke-width="2"><title>{esc(tip)}</title></line>')
        if math.isfinite(value):
            out.append(f'<circle class="estimate" cx="{x_of(value):.1f}" cy="{y:.1f}" r="4" fill="{PALETTE[0]}">'
                       f'<title>{esc(tip)}</title></circle>'
                       f'<text class="value" x="{x_of(hi if math.isfinite(hi) else value) + 6:.1f}" y="{y + 4:.1f}">'
                       f'{esc(format_number(value))}</text>')
    if unit:
        out.append(f'<text class="unit" x="{left}" y="{height - 6}">{esc(unit)}</text>')
    out.append("</svg></figure>")
    return "".join(out)
