"""The access log's and attendance's downloads, CSV and Excel (xlsx), as a person reads them:
headers in the request's language (Chinese unless English was asked for), times in Beijing time,
codes as words, names instead of ids, ID numbers masked unless the account has the need.

The row builders are pure (an entry and a language in, a tuple of cells out) and shared by both
formats, so the CSV and the sheet hold the same cells. A cell a spreadsheet would take for a
formula (``=``, ``+``, ``-``, ``@``...) gets a leading apostrophe, as the API's export does
(:func:`hub.oversight.export.neutralise`): a name in the registry cannot run in anyone's
spreadsheet, and openpyxl would otherwise store such a string as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Final, TypeVar

from hub.console.i18n import Locale
from hub.console.labels import label, words
from hub.oversight.export import BOM, neutralise
from hub.oversight.site_records import AttendanceEntry, LogEntry, MonthEntry
from hub.registry.vault import mask
from wire.clock import SITE_ZONE
from wire.labels import Text

Row = tuple[str | int | float, ...]
Entry = TypeVar("Entry", LogEntry, AttendanceEntry, MonthEntry)

UNREGISTERED: Final = Text("（未登记的卡）", "(unregistered card)")
LOG_HEADER: Final = (
    Text("时间（北京时间）", "Time (Beijing)"),
    Text("闸机", "Gate"),
    Text("通道", "Lane"),
    Text("方向", "Direction"),
    Text("结果", "Decision"),
    Text("原因", "Reason"),
    Text("姓名", "Name"),
    Text("身份证号", "ID number"),
    Text("所属企业", "Enterprise"),
    Text("班组", "Team"),
    Text("备注", "Note"),
)
ATTENDANCE_HEADER: Final = (
    Text("日期", "Day"),
    Text("姓名", "Name"),
    Text("身份证号", "ID number"),
    Text("所属企业", "Enterprise"),
    Text("班组", "Team"),
    Text("首次进场（北京时间）", "First in (Beijing)"),
    Text("最后离场（北京时间）", "Last out (Beijing)"),
    Text("通行次数", "Passages"),
    Text("在场小时", "Hours on site"),
)


MONTH_HEADER: Final = (
    Text("月份", "Month"),
    Text("姓名", "Name"),
    Text("身份证号", "ID number"),
    Text("所属企业", "Enterprise"),
    Text("班组", "Team"),
    Text("出勤天数", "Days present"),
    Text("通行次数", "Passages"),
    Text("在场小时", "Hours on site"),
)


def _time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(SITE_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def shown_id(number: str | None, *, whole: bool) -> str:
    """An ID number as the reader may see it: whole only for an account with the need."""
    if not number:
        return ""
    return number if whole else mask(number)


def header(columns: Sequence[Text], locale: Locale) -> Row:
    return tuple(words(column, locale) for column in columns)


def log_row(entry: LogEntry, locale: Locale, *, whole_ids: bool) -> Row:
    return (
        _time(entry.wall_time),
        neutralise(entry.gate),
        entry.lane,
        label(locale, "direction", entry.direction),
        label(locale, "decision", entry.decision),
        label(locale, "reason", entry.reason),
        neutralise(entry.name) if entry.name is not None else words(UNREGISTERED, locale),
        shown_id(entry.id_number, whole=whole_ids),
        neutralise(entry.enterprise_name),
        neutralise(entry.team_name),
        label(locale, "record_note", entry.note),
    )


def attendance_row(entry: AttendanceEntry, locale: Locale, *, whole_ids: bool) -> Row:
    return (
        entry.day.isoformat(),
        neutralise(entry.name),
        shown_id(entry.id_number, whole=whole_ids),
        neutralise(entry.enterprise_name),
        neutralise(entry.team_name),
        _time(entry.first_in),
        _time(entry.last_out),
        entry.passages,
        round(entry.seconds_on_site / 3600, 2),
    )


def month_row(entry: MonthEntry, *, whole_ids: bool) -> Row:
    return (
        entry.month.strftime("%Y-%m"),
        neutralise(entry.name),
        shown_id(entry.id_number, whole=whole_ids),
        neutralise(entry.enterprise_name),
        neutralise(entry.team_name),
        entry.days_present,
        entry.passages,
        round(entry.seconds_on_site / 3600, 2),
    )


def csv_chunk(rows: Iterable[Row], head: Row | None = None) -> str:
    """Whole CSV rows; with ``head``, the file's start (byte order mark and header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if head is not None:
        out.write(BOM)
        writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue()


async def csv_pages(
    head: Row, pages: AsyncGenerator[list[Entry], None], row: Callable[[Entry], Row]
) -> AsyncGenerator[str, None]:
    """A streamed CSV: the header, then each page of entries as it is read."""
    first = True
    try:
        async for entries in pages:
            yield csv_chunk((row(entry) for entry in entries), head if first else None)
            first = False
    finally:
        await pages.aclose()


class Sheet:
    """One xlsx worksheet written row by row (openpyxl's write-only mode keeps no row in memory
    once appended); :meth:`bytes` closes it into the file's bytes."""

    def __init__(self, title: str, head: Row) -> None:
        from openpyxl import Workbook  # here, not at the top: 0.2 s of every hub process's start

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)
        self._sheet.append(head)

    def append(self, rows: Iterable[Row]) -> None:
        for values in rows:
            self._sheet.append(values)

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()


XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
