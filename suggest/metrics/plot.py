"""A small server-side SVG chart: one rate over weeks, its 95% interval as a shaded band.

Written by hand so the stats page needs no script and no third-party asset. Only presentation
attributes are used (no ``style``), which the page's Content-Security-Policy allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 360, 170
LEFT, RIGHT, TOP, BOTTOM = 36, 10, 10, 24
LINE = "#36c"  # Codex progressive blue
BAND = "#36c"
GRID = "#c8ccd1"
TEXT = "#54595d"


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def rate_chart(title: str, points: Sequence[dict[str, Any]]) -> str:
    """``points``: ``[{"week": "2026-11-16", "value": 0.7, "low": 0.6, "high": 0.8, "total": 40}]``
    in week order; weeks without data (value None) leave a gap in the band and the line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = len(points)

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="rate-chart">',
             f"<title>{escape(title)}</title>"]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y(tick))}" '
                     f'y2="{_fmt(y(tick))}" stroke="{GRID}" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{_fmt(y(tick) + 4)}" font-size="10" '
                     f'text-anchor="end" fill="{TEXT}">{int(tick * 100)}%</text>')
    # Runs of consecutive weeks with data: each gets its own band and line.
    runs: list[list[int]] = []
    for i, point in enumerate(points):
        if point.get("value") is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        upper = [f"{_fmt(x(i))},{_fmt(y(points[i]['high']))}" for i in run]
        lower = [f"{_fmt(x(i))},{_fmt(y(points[i]['low']))}" for i in reversed(run)]
        if len(run) == 1:  # a single week: a vertical interval bar
            i = run[0]
            parts.append(f'<line class="band" x1="{_fmt(x(i))}" x2="{_fmt(x(i))}" '
                         f'y1="{_fmt(y(points[i]["high"]))}" y2="{_fmt(y(points[i]["low"]))}" '
                         f'stroke="{BAND}" stroke-opacity="0.35" stroke-width="10"/>')
        else:
            parts.append(f'<polygon class="band" points="{" ".join(upper + lower)}" '
                         f'fill="{BAND}" fill-opacity="0.18"/>')
            line = " ".join(f"{_fmt(x(i))},{_fmt(y(points[i]['value']))}" for i in run)
            parts.append(f'<polyline class="line" points="{line}" fill="none" stroke="{LINE}" '
                         f'stroke-width="2"/>')
    for i, point in enumerate(points):
        if point.get("value") is None:
            continue
        label = (f"week of {point['week']}: {point['value']:.0%} "
                 f"({point['low']:.0%}-{point['high']:.0%}, n={point.get('total', 0)})")
        parts.append(f'<circle cx="{_fmt(x(i))}" cy="{_fmt(y(point["value"]))}" r="3" '
                     f'fill="{LINE}"><title>{escape(label)}</title></circle>')
    if n:
        parts.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="10" fill="{TEXT}">'
                     f"{escape(str(points[0]['week']))}</text>")
        if n > 1:
            parts.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" font-size="10" '
                         f'text-anchor="end" fill="{TEXT}">{escape(str(points[-1]["week"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)
