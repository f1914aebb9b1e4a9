"""The console's SVG charts: labels escaped, bars and lines where the numbers say."""

import re

from hub.console.charts import bars, line


def test_bars_escape_labels_and_keep_whole_number_gridlines() -> None:
    svg = str(bars("<b>entries</b>", ["<script>", "09"], [3, 5]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<rect") == 2
    assert re.findall(r'text-anchor="end">([^<]*)<', svg) == ["8", "6", "4", "2", "0"]


def test_a_line_breaks_where_values_are_missing() -> None:
    svg = str(line("backlog", ["08:00", "08:01", "08:02", "08:03", "08:04"], [1, 2, None, 4, 0]))
    assert svg.count("<polyline") == 2
    assert "<circle" not in svg
    single = str(line("backlog", ["08:00", "08:01"], [None, 3]))
    assert single.count("<circle") == 1 and "<polyline" not in single
