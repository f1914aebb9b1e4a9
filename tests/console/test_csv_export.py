"""The console's CSVs in the reader's language: headers and coded cells in words, times in Beijing."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncGenerator

import pytest

from hub.console import csv_export
from hub.console.i18n import Locale
from hub.oversight.export import HEADER
from hub.workflows.records import DistrictMonth, ProjectMonth

ACCESS = (
    "\ufefftime,project_id,device_id,gate,lane,direction,decision,reason,warnings,person_id,person_name,"
    "enterprise_name,clock_synced\r\n"
    "2025-05-05T08:00:00+08:00,proj-a,lane-a-in,东门,A1,in,denied,not_registered,,per-w1,王伟,拱墅劳务,true\r\n"
)


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith(csv_export.BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(csv_export.BOM))))


def test_every_column_the_console_exports_has_words() -> None:
    fields = {*HEADER, *(f.name for f in dataclasses.fields(ProjectMonth))}
    fields |= {f.name for f in dataclasses.fields(DistrictMonth)}
    assert fields <= set(csv_export.COLUMNS)


def test_chinese_headers_and_cells() -> None:
    (row,) = _rows(csv_export.relabel(ACCESS, Locale.ZH_CN))
    assert row["时间（北京时间）"] == "2025-05-05 08:00:00"
    assert (row["方向"], row["结果"], row["原因"], row["时钟已同步"]) == ("进", "拒绝", "未登记", "是")
    assert row["姓名"] == "王伟"


def test_english_headers_and_cells() -> None:
    (row,) = _rows(csv_export.relabel(ACCESS, Locale.EN))
    assert (row["Direction"], row["Decision"], row["Reason"], row["Clock synced"]) == (
        "In", "Refused", "Not registered", "yes",
    )  # fmt: skip


def test_a_formula_guard_survives() -> None:
    text = ACCESS.replace("王伟", "'=1+2")
    (row,) = _rows(csv_export.relabel(text, Locale.ZH_CN))
    assert row["姓名"] == "'=1+2"


@pytest.mark.asyncio
async def test_streamed_pages_get_one_header() -> None:
    header, first = ACCESS.split("\r\n", 1)

    async def pages() -> AsyncGenerator[str, None]:
        yield ACCESS
        yield first

    chunks = [chunk async for chunk in csv_export.relabel_pages(pages(), Locale.ZH_CN)]
    rows = _rows("".join(chunks))
    assert len(rows) == 2 and chunks[1].count(csv_export.BOM) == 0
    assert header  # the source's own header is replaced, not repeated
