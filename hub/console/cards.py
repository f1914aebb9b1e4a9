"""Tables that become cards on a phone: each cell carries its column's header as ``data-label``,
which the stylesheet shows before the value (``td::before { content: attr(data-label) }``) once a
narrow screen lays every row out as a card. Done here, once, on every rendered page, so no template
has to repeat its headers on each cell and a new table gets its labels without anyone remembering.

A pure pass over the page's own markup. It is sound because the templates are autoescaped: data can
hold no ``<`` or ``>`` (Jinja writes ``&lt;``/``&gt;``), so every ``<td`` and ``<th`` here is a tag a
template wrote. The header is a table's first row of ``<th>`` cells (its ``<thead>``); ``colspan``
is followed, a cell that already has a ``data-label`` keeps it, and a cell spanning the whole row
(an "empty" row) gets none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

_TAG: Final = re.compile(r"<(/?)(table|tr|th|td)\b([^>]*)>")
_COLSPAN: Final = re.compile(r"""\bcolspan\s*=\s*["']?(\d+)""")
_MARKUP: Final = re.compile(r"<[^>]*>")
_SPACE: Final = re.compile(r"\s+")


@dataclass
class _Table:
    headers: list[str] = field(default_factory=list)
    row: list[str] = field(default_factory=list)
    """The header texts met in the current row (while the table has none yet)."""
    row_has_data: bool = False
    column: int = 0
    header_from: int | None = None
    """Where the open ``<th>``'s content starts, while it is read as a header."""
    header_span: int = 1


def _span(attributes: str) -> int:
    found = _COLSPAN.search(attributes)
    return max(1, int(found.group(1))) if found else 1


def _text(markup: str) -> str:
    """A header cell's words: its markup (a link, a hint) dropped; entities stay as escaped."""
    return _SPACE.sub(" ", _MARKUP.sub("", markup)).strip().replace('"', "&#34;")


def label_cells(page: str) -> str:
    """``page`` with ``data-label="<header>"`` on every body cell of every headed table."""
    out: list[str] = []
    at = 0
    tables: list[_Table] = []
    for tag in _TAG.finditer(page):
        closing, name, attributes = tag.group(1) == "/", tag.group(2), tag.group(3)
        table = tables[-1] if tables else None
        if name == "table":
            if not closing:
                tables.append(_Table())
            elif tables:
                tables.pop()
            continue
        if table is None:
            continue
        if name == "tr":
            if closing and not table.headers and table.row and not table.row_has_data:
                table.headers = table.row
            table.row, table.row_has_data, table.column = [], False, 0
            continue
        if name == "th":
            if table.headers:
                if not closing:
                    table.column += _span(attributes)
            elif not closing:
                table.header_from = tag.end()
                table.header_span = _span(attributes)
            elif table.header_from is not None:
                words = _text(page[table.header_from : tag.start()])
                table.row.extend([words] * table.header_span)
                table.header_from = None
            continue
        if closing:
            continue
        table.row_has_data = True
        span, column = _span(attributes), table.column
        table.column += span
        headers = table.headers
        if not headers or "data-label" in attributes or span >= len(headers) > 1 or column >= len(headers):
            continue
        out.append(page[at : tag.end() - 1])
        out.append(f' data-label="{headers[column]}">')
        at = tag.end()
    out.append(page[at:])
    return "".join(out)
