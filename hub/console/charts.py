"""Charts as inline SVG, drawn on the server: no script, no library, nothing fetched by the page.

Pure functions from numbers to markup. Every label passes through :func:`markupsafe.escape`, so
a gate or enterprise name cannot inject markup into the page.

Each chart is drawn twice, once for a wide screen and once for a phone (``class="chart wide"`` and
``"chart narrow"``; the stylesheet shows one). An SVG scales as a whole with its width, so one
drawing cannot be legible at both sizes: 11-unit text in a 640-unit-wide chart is 6 px on a phone
390 px wide. The narrow drawing is about as many units wide as a phone has pixels, its text 13
units, and its axis labels thinned until none overlaps (:func:`label_step`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Frame:
    """One drawing's size in SVG units, its padding around the plot, and its text size."""

    name: str
    width: int
    height: int
    font: int
    pad_left: int
    pad_right: int = 12
    pad_top: int = 12
    pad_bottom: int = 28

    @property
    def inner_width(self) -> float:
        return self.width - self.pad_left - self.pad_right

    @property
    def inner_height(self) -> float:
        return self.height - self.pad_top - self.pad_bottom


WIDE: Final = Frame("wide", 640, 220, font=11, pad_left=44)
NARROW: Final = Frame("narrow", 360, 220, font=13, pad_left=40, pad_right=10, pad_bottom=30)
FRAMES: Final = (WIDE, NARROW)
CHAR_WIDTH: Final = 0.62
"""A digit's advance as a share of the font size (generous for the console's sans fonts)."""
GAP: Final = 4.0
"""Units kept clear between two axis labels."""


def text_width(label: str, font: float) -> float:
    """An upper estimate of a label's width in units (a CJK character counts double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in label) * font * CHAR_WIDTH


def label_step(labels: Sequence[str], slot: float, font: float) -> int:
    """Every how many slots a label fits without touching its neighbour (1: every slot)."""
    widest = max((text_width(label, font) for label in labels), default=0.0)
    for step in (1, 2, 3, 4, 6, 8, 12, 24):
        if slot * step >= widest + GAP:
            return step
    return max(len(labels), 1)


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


def _open(frame: Frame, title: str, top: float) -> list[str]:
    parts = [
        f'<svg class="chart {frame.name}" viewBox="0 0 {frame.width} {frame.height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = frame.pad_top + frame.inner_height * i / 4
        value = top * (4 - i) / 4
        label = f"{value:g}" if value < 1000 else f"{value / 1000:g}k"
        parts.append(
            f'<line x1="{frame.pad_left}" y1="{y:.1f}" x2="{frame.width - frame.pad_right}" y2="{y:.1f}" '
            f'class="grid"/><text x="{frame.pad_left - 6}" y="{y + frame.font / 3:.1f}" class="axis" '
            f'font-size="{frame.font}" text-anchor="end">{label}</text>'
        )
    return parts


def _x_label(frame: Frame, x: float, label: str, anchor: str = "middle") -> str:
    return (
        f'<text x="{x:.1f}" y="{frame.height - 10}" class="axis" font-size="{frame.font}" '
        f'text-anchor="{anchor}">{escape(label)}</text>'
    )


def _both(draw: type[_Drawing], title: str, labels: Sequence[str], values: Sequence[float | None]) -> Markup:
    return Markup("".join(draw(frame, title, labels, values).svg() for frame in FRAMES))  # noqa: S704 - escaped


class _Drawing:
    def __init__(
        self, frame: Frame, title: str, labels: Sequence[str], values: Sequence[float | None]
    ) -> None:
        self.frame, self.title, self.labels, self.values = frame, title, labels, values

    def svg(self) -> str:
        raise NotImplementedError


class _Bars(_Drawing):
    def svg(self) -> str:
        frame, values = self.frame, [v or 0.0 for v in self.values]
        top = _scale(max(values, default=0))
        if all(float(v).is_integer() for v in values):
            top = float(math.ceil(top / 4) * 4)
        parts = _open(frame, self.title, top)
        slot = frame.inner_width / max(len(values), 1)
        step = label_step(self.labels, slot, frame.font)
        for i, (label, value) in enumerate(zip(self.labels, values, strict=True)):
            h = frame.inner_height * value / top
            x = frame.pad_left + i * slot
            parts.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{frame.pad_top + frame.inner_height - h:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}" class="bar">'
                f"<title>{escape(label)}: {value:g}</title></rect>"
            )
            if i % step == 0:
                parts.append(_x_label(frame, x + slot / 2, label))
        parts.append("</svg>")
        return "".join(parts)


class _Line(_Drawing):
    def svg(self) -> str:
        frame, values = self.frame, self.values
        top = _scale(max((v for v in values if v is not None), default=0))
        parts = _open(frame, self.title, top)
        step = frame.inner_width / max(len(values) - 1, 1)
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            y = frame.pad_top + frame.inner_height - frame.inner_height * value / top
            runs[-1].append(f"{frame.pad_left + i * step:.1f},{y:.1f}")
        for points in (run for run in runs if run):
            if len(points) == 1:
                x, y_ = points[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{y_}" r="2.5" class="dot"/>')
            else:
                parts.append(f'<polyline points="{" ".join(points)}" class="line"/>')
        if self.labels:
            last = len(self.labels) - 1
            for i in sorted({0, last // 2, last}):
                anchor = "start" if i == 0 else "end" if i == last else "middle"
                parts.append(_x_label(frame, frame.pad_left + i * step, self.labels[i], anchor))
        parts.append("</svg>")
        return "".join(parts)


def bars(title: str, labels: Sequence[str], values: Sequence[float]) -> Markup:
    """A bar per label (e.g. entries per hour); counts get whole-number gridlines (at least 0..4)."""
    return _both(_Bars, title, labels, values)


def line(title: str, labels: Sequence[str], values: Sequence[float | None]) -> Markup:
    """A polyline over time (e.g. a lane's journal backlog per minute); gaps where a value is None."""
    return _both(_Line, title, labels, values)
