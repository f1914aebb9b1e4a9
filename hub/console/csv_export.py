"""The console's CSV downloads in the reader's language: the same files the API writes
(:mod:`hub.oversight.export`, :mod:`hub.workflows.csvfile`), their header row in words, coded
columns (direction, decision, reason, yes/no) through :mod:`hub.console.labels`, and times in
Beijing time as a spreadsheet reads them (``2026-05-05 08:00:00``). Chinese unless the request is
in English (the account's language, or ``?lang=en`` on the link).

The API's own CSVs keep their field names and codes: scripts read those.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, Callable
from datetime import datetime
from typing import Final

from hub.console.i18n import Locale
from hub.console.labels import label, words
from wire.clock import SITE_ZONE
from wire.labels import Text

BOM: Final = "\ufeff"

COLUMNS: Final[dict[str, Text]] = {
    # the access record (hub.oversight.export.HEADER)
    "time": Text("时间（北京时间）", "Time (Beijing)"),
    "project_id": Text("项目编号", "Project"),
    "device_id": Text("通道设备", "Lane device"),
    "gate": Text("闸机", "Gate"),
    "lane": Text("通道", "Lane"),
    "direction": Text("方向", "Direction"),
    "decision": Text("结果", "Decision"),
    "reason": Text("原因", "Reason"),
    "warnings": Text("提示", "Warnings"),
    "person_id": Text("人员编号", "Person"),
    "person_name": Text("姓名", "Name"),
    "enterprise_name": Text("所属企业", "Enterprise"),
    "clock_synced": Text("时钟已同步", "Clock synced"),
    # monthly summaries (hub.workflows.records.ProjectMonth, DistrictMonth)
    "name": Text("名称", "Name"),
    "district": Text("区划代码", "District code"),
    "registered": Text("已报备", "Registered"),
    "persons_assigned": Text("在册人数", "Persons assigned"),
    "new_assignments": Text("新进场人数", "New assignments"),
    "persons_attended": Text("出勤人数", "Persons attended"),
    "person_days": Text("出勤人天", "Person-days"),
    "seconds_on_site": Text("在场秒数", "Seconds on site"),
    "managers_assigned": Text("管理人员数", "Managers assigned"),
    "managers_present": Text("到岗管理人员数", "Managers present"),
    "manager_days": Text("管理人员到岗人天", "Manager-days"),
    "orders_issued": Text("下发整改单", "Orders issued"),
    "orders_open_overdue": Text("逾期未整改", "Orders overdue"),
    "deductions": Text("信用扣分次数", "Deductions"),
    "points_deducted": Text("扣分合计", "Points deducted"),
    "projects_with_permit": Text("取得施工许可的项目", "Projects with a permit"),
    "projects_registered": Text("已报备项目", "Projects registered"),
    "persons_registered": Text("本月备案人员", "Persons registered"),
}
"""Every column the console's CSVs carry, by the field name the API writes."""

YES_NO: Final = {"true": Text("是", "yes"), "false": Text("否", "no")}
CODED: Final = {"direction": "direction", "decision": "decision", "reason": "reason"}
"""Columns whose cells are codes, and the label table that names them."""


def _time(value: str) -> str:
    try:
        return datetime.fromisoformat(value).astimezone(SITE_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return value


def _cell_words(column: str, locale: Locale) -> Callable[[str], str]:
    if column in CODED:
        return lambda value: label(locale, CODED[column], value)
    if column in ("clock_synced", "registered"):
        return lambda value: words(YES_NO[value], locale) if value in YES_NO else value
    if column == "time":
        return _time
    return lambda value: value


class Relabeller:
    """Rewrites one CSV file chunk by chunk (each chunk whole rows, the first with the header)."""

    def __init__(self, locale: Locale) -> None:
        self._locale = locale
        self._cells: list[Callable[[str], str]] | None = None

    def chunk(self, text: str) -> str:
        rows = list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        if self._cells is None and rows:
            header, *rows = rows
            self._cells = [_cell_words(column, self._locale) for column in header]
            out.write(BOM)
            writer.writerow(words(COLUMNS[c], self._locale) if c in COLUMNS else c for c in header)
        cells = self._cells or []
        for row in rows:
            writer.writerow(cells[i](value) if i < len(cells) else value for i, value in enumerate(row))
        return out.getvalue()


def relabel(text: str, locale: Locale) -> str:
    """A whole CSV file (a summary) in ``locale``'s words."""
    return Relabeller(locale).chunk(text)


async def relabel_pages(pages: AsyncGenerator[str, None], locale: Locale) -> AsyncGenerator[str, None]:
    """A streamed CSV (the access record, page by page) in ``locale``'s words."""
    relabeller = Relabeller(locale)
    try:
        async for page in pages:
            yield relabeller.chunk(page)
    finally:
        await pages.aclose()
