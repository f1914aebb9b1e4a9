"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched by the page.

Pure functions from numbers to markup. Every label passes through :func:`markupsafe.escape`, so
a gate or enterprise name cannot inject markup into the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 28


def _scale(top: float) -> float:
    """A round upper bound for the axis: 1, 2, 5 x 10^n at least ``top``."""
    if top <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= top:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= top:
            return step * factor
    return step * 10


def _frame(title: str, top: float) -> list[str]:
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = PAD_TOP + inner_h * i / 4
        value = top * (4 - i) / 4
        label = f"{value:g}" if value < 1000 else f"{value / 1000:g}k"
        parts.append(
            f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{label}</text>'
        )
    return parts


def bars(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """A bar per label (e.g. entries per hour); counts get whole-number gridlines (at least 0..4)."""
    top = _scale(max(values, default=0))
    if all(float(v).is_integer() for v in values):
        top = float(math.ceil(top / 4) * 4)
    parts = _frame(title, top)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / max(len(values), 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = inner_h * value / top
        x = PAD_LEFT + i * slot
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{PAD_TOP + inner_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" class="bar"><title>{escape(label)}: {value:g}</title></rect>'
        )
        if len(labels) <= 12 or i % 3 == 0:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 10}" class="axis" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped


def line(title: str, labels: Sequence[str], values: Sequence[float | None]) -> Markup:
    """A polyline over time (e.g. a lane's journal backlog per minute); gaps where a value is None."""
    present = [v for v in values if v is not None]
    top = _scale(max(present, default=0))
    parts = _frame(title, top)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(values) - 1, 1)
    run: list[str] = []
    runs: list[list[str]] = []
    for i, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{PAD_LEFT + i * step:.1f},{PAD_TOP + inner_h - inner_h * value / top:.1f}")
    if run:
        runs.append(run)
    for points in runs:
        if len(points) == 1:
            x, y = points[0].split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" class="dot"/>')
        else:
            parts.append(f'<polyline points="{" ".join(points)}" class="line"/>')
    if labels:
        for i in (0, len(labels) // 2, len(labels) - 1):
            anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
            parts.append(
                f'<text x="{PAD_LEFT + i * step:.1f}" y="{HEIGHT - 10}" class="axis" text-anchor="{anchor}">'
                f"{escape(labels[i])}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label above is escaped
