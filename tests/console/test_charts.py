"""The console's SVG charts: labels escaped, bars and lines where the numbers say, and drawn twice,
wide and for a phone, with axis labels that stay legible and never overlap at either size."""

import itertools
import re

import pytest

from hub.console.charts import FRAMES, NARROW, WIDE, bars, label_step, line, text_width

PHONE_CHART_PX = 350
"""How wide a chart is drawn on a 390 px phone (the page's and the figure's padding taken off)."""


def drawings(svg: str) -> dict[str, str]:
    """Each drawing of a chart by its frame's name (wide, narrow)."""
    found = {}
    for match in re.finditer(r'<svg class="chart (\w+)"(.*?)</svg>', svg, flags=re.S):
        found[match.group(1)] = match.group(0)
    return found


def test_bars_escape_labels_and_keep_whole_number_gridlines() -> None:
    svg = str(bars("<b>entries</b>", ["<script>", "09"], [3, 5]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    for drawing in drawings(svg).values():
        assert drawing.count("<rect") == 2
        assert re.findall(r'text-anchor="end">([^<]*)<', drawing) == ["8", "6", "4", "2", "0"]


def test_a_line_breaks_where_values_are_missing() -> None:
    svg = drawings(str(line("backlog", ["08:00", "08:01", "08:02", "08:03", "08:04"], [1, 2, None, 4, 0])))
    assert set(svg) == {"wide", "narrow"}
    assert all(d.count("<polyline") == 2 and "<circle" not in d for d in svg.values())
    single = drawings(str(line("backlog", ["08:00", "08:01"], [None, 3])))
    assert all(d.count("<circle") == 1 and "<polyline" not in d for d in single.values())


def _x_labels(drawing: str) -> list[tuple[float, str, str, float]]:
    """Each axis label under the plot: (x, anchor, text, font)."""
    found = re.findall(
        r'<text x="([\d.]+)" y="\d+" class="axis" font-size="(\d+)" text-anchor="(start|middle|end)">([^<]*)<',
        drawing,
    )
    return [(float(x), anchor, text, float(font)) for x, font, anchor, text in found]


def _extent(x: float, anchor: str, text: str, font: float) -> tuple[float, float]:
    width = text_width(text, font)
    start = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return start, start + width


@pytest.mark.parametrize(
    "svg",
    [
        bars("每小时进场人次", [f"{h:02d}" for h in range(24)], [h % 7 for h in range(24)]),
        line("backlog", [f"08:{m:02d}" for m in range(60)], list(range(60))),
        line("backlog", ["08:00", "08:01", "08:02"], [1, 2, 3]),
    ],
)
def test_axis_labels_never_overlap_and_stay_inside_either_drawing(svg: object) -> None:
    for name, drawing in drawings(str(svg)).items():
        frame = WIDE if name == "wide" else NARROW
        extents = sorted(_extent(*label) for label in _x_labels(drawing))
        assert extents, name
        for (_, end), (start, _) in itertools.pairwise(extents):
            assert start >= end, (name, extents)
        assert extents[0][0] >= 0 and extents[-1][1] <= frame.width, (name, extents)


def test_the_phone_drawing_is_legible_at_390_px() -> None:
    """Its text at least 12 px tall where the phone draws it (the wide one's would be 6 px)."""
    assert NARROW.font * PHONE_CHART_PX / NARROW.width >= 12
    assert WIDE.font * PHONE_CHART_PX / WIDE.width < 7
    hours = drawings(str(bars("t", [f"{h:02d}" for h in range(24)], [1] * 24)))["narrow"]
    assert [text for _, _, text, _ in _x_labels(hours)] == [f"{h:02d}" for h in range(0, 24, 2)]


def test_label_step_thins_labels_until_they_fit() -> None:
    assert label_step(["00", "01"], slot=100, font=13) == 1
    assert label_step(["00"] * 24, slot=12.9, font=13) == 2
    assert label_step(["00"] * 24, slot=8, font=13) == 3
    assert label_step(["一二三四"] * 2, slot=10, font=13) == 8  # a CJK character counts double
    assert {frame.name for frame in FRAMES} == {"wide", "narrow"}
