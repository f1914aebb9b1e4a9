"""Summaries as CSV: a header of field names, one row per record, a UTF-8 byte order mark (so
spreadsheets read Chinese names), and no text cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from typing import Any

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(records: Sequence[Any], record_type: type) -> str:
    """``records`` (dataclasses of ``record_type``) as CSV text; the header even when empty."""
    names = [f.name for f in dataclasses.fields(record_type)]
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([_cell(getattr(record, name)) for name in names])
    return buffer.getvalue()
