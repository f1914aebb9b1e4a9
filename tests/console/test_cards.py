"""Cells labelled with their column's header for the phone's cards (hub/console/cards.py): every
headed table, colspan followed, a whole-row cell and a table without headers left alone, a label
already written kept, markup in a header dropped, escaped text kept escaped."""

from __future__ import annotations

import re

from hub.console.cards import label_cells
from hub.console.i18n import Locale
from hub.console.render import environment


def labels(page: str) -> list[str | None]:
    cells = re.findall(r"<td\b([^>]*)>", page)
    return [(m.group(1) if (m := re.search(r'data-label="([^"]*)"', attrs)) else None) for attrs in cells]


def test_each_body_cell_gets_its_columns_header() -> None:
    page = label_cells(
        '<table><thead><tr><th>姓名</th><th colspan="2">企业 <small>(班组)</small></th><th>A &amp; B</th></tr>'
        '</thead><tbody><tr><td>张三</td><td>甲</td><td class="num">乙</td><td>1</td></tr>'
        '<tr><td colspan="4">无人在场</td></tr></tbody></table>'
    )
    assert labels(page) == ["姓名", "企业 (班组)", "企业 (班组)", "A &amp; B", None]
    assert '<td class="num" data-label="企业 (班组)">乙</td>' in page


def test_tables_without_headers_and_cells_outside_tables_are_left_alone() -> None:
    page = '<td>stray</td><table><tr><td>a</td><td data-label="kept">b</td></tr></table>'
    assert label_cells(page) == page


def test_a_header_row_without_a_thead_and_nested_tables() -> None:
    page = label_cells(
        "<table><tr><th>外</th></tr><tr><td><table><tr><th>内</th></tr><tr><td>x</td></tr></table></td></tr>"
        "<tr><td>y</td></tr></table>"
    )
    assert labels(page) == ["外", "内", "外"]


def test_a_header_cannot_break_out_of_its_attribute() -> None:
    """Template text is autoescaped ("&#34;"), and a quote written in a template is escaped here."""
    page = label_cells('<table><tr><th>say "hi" &#34;x&#34;</th></tr><tr><td>1</td></tr></table>')
    assert 'data-label="say &#34;hi&#34; &#34;x&#34;"' in page


def test_a_rendered_page_is_labelled() -> None:
    html = environment(Locale.ZH_CN).get_template("inspections.html").render(
        me=None, display_name="", nav=[], path="/console/inspections", csrf="", may_inspect=False,
        inspections=[], own_name={}, form=None, kinds=[], kind_names={}, items=[],
    )  # fmt: skip
    assert 'data-label="' not in html  # the one row spans the table
    assert labels(label_cells(html)) == [None]
