"""The site downloads' row builders, without a browser: codes as words in each language, Beijing
times, ID numbers masked unless the reader has the need, cells a spreadsheet would run neutralised;
the CSV starts with its byte order mark and header, the xlsx opens with openpyxl and holds the same
cells."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest

from hub.console import site_exports
from hub.console.i18n import Locale
from hub.oversight.site_records import AttendanceEntry, LogEntry, MonthEntry
from tests.console.site_entries import ENTRY as SAMPLE
from tests.console.site_entries import MASKED, NUMBER

ENTRY = dataclasses.replace(
    SAMPLE, wall_time=SAMPLE.wall_time + timedelta(minutes=30), decision="denied", reason="assignment_ended",
    person_id="per-x", name="=1+2", id_number=NUMBER, enterprise_name="@西湖建工集团", team_name="-钢筋班",
    clock_suspect=True,
)  # fmt: skip
DAY = AttendanceEntry(
    day=date(2025, 5, 5),
    person_id="per-w1",
    name="王伟",
    id_number=NUMBER,
    enterprise_name="拱墅劳务有限公司",
    team_name=None,
    first_in=datetime(2025, 5, 5, 0, 0, tzinfo=UTC),
    last_out=None,
    seconds_on_site=5400,
    passages=3,
    cursor="c",
)


def test_a_log_row_in_chinese_words_beijing_time_masked_and_neutralised() -> None:
    row = site_exports.log_row(ENTRY, Locale.ZH_CN, whole_ids=False)
    assert row == (
        "2025-05-05 08:30:00", "东门进", "A1", "进", "拒绝", row[5], "'=1+2", MASKED,
        "'@西湖建工集团", "'-钢筋班", "记录时间不可信：不计入在场人员和考勤",
    )  # fmt: skip
    assert row[4] != "denied" and row[5] != "assignment_ended" and row[5]


def test_a_log_row_in_english_and_whole_for_the_roles_with_the_need() -> None:
    row = site_exports.log_row(dataclasses.replace(ENTRY, clock_suspect=False), Locale.EN, whole_ids=True)
    assert row[3:5] == ("In", "Refused") and row[7] == NUMBER and row[10] == ""
    unregistered = dataclasses.replace(ENTRY, name=None, id_number=None, person_id=None)
    assert site_exports.log_row(unregistered, Locale.ZH_CN, whole_ids=True)[6:8] == ("（未登记的卡）", "")


def test_an_already_masked_number_stays_masked() -> None:
    assert site_exports.shown_id(MASKED, whole=False) == MASKED
    assert site_exports.shown_id(NUMBER, whole=False) == MASKED
    assert site_exports.shown_id(None, whole=True) == ""


def test_an_attendance_row() -> None:
    row = site_exports.attendance_row(DAY, Locale.ZH_CN, whole_ids=False)
    assert row == (
        "2025-05-05",
        "王伟",
        MASKED,
        "拱墅劳务有限公司",
        "",
        "2025-05-05 08:00:00",
        "",
        3,
        1.5,
    )


def test_a_month_row() -> None:
    month = MonthEntry(
        month=date(2025, 5, 1), person_id="per-w1", name="王伟", id_number=NUMBER, enterprise_name="拱墅劳务有限公司",
        team_name="钢筋班", days_present=2, seconds_on_site=7200, passages=6,
    )  # fmt: skip
    assert site_exports.month_row(month, whole_ids=False) == (
        "2025-05", "王伟", MASKED, "拱墅劳务有限公司", "钢筋班", 2, 6, 2.0,
    )  # fmt: skip
    assert site_exports.month_row(month, whole_ids=True)[2] == NUMBER
    assert len(site_exports.MONTH_HEADER) == len(site_exports.month_row(month, whole_ids=True))


@pytest.mark.parametrize(
    ("locale", "first"), [(Locale.ZH_CN, "时间（北京时间）"), (Locale.EN, "Time (Beijing)")]
)
def test_headers_in_the_readers_language(locale: Locale, first: str) -> None:
    head = site_exports.header(site_exports.LOG_HEADER, locale)
    assert head[0] == first and len(head) == len(site_exports.log_row(ENTRY, locale, whole_ids=False))
    attendance = site_exports.header(site_exports.ATTENDANCE_HEADER, locale)
    assert len(attendance) == len(site_exports.attendance_row(DAY, locale, whole_ids=False))


async def test_the_csv_is_the_header_then_every_page() -> None:
    async def pages() -> AsyncGenerator[list[LogEntry], None]:
        yield [ENTRY, ENTRY]
        yield [ENTRY]

    head = site_exports.header(site_exports.LOG_HEADER, Locale.ZH_CN)
    row = site_exports.log_row(ENTRY, Locale.ZH_CN, whole_ids=False)
    chunks = [c async for c in site_exports.csv_pages(head, pages(), lambda e: row)]
    assert chunks[0].startswith("\ufeff时间（北京时间）,闸机") and not chunks[1].startswith("\ufeff")
    parsed = list(csv.DictReader(io.StringIO("".join(chunks).removeprefix("\ufeff"))))
    assert len(parsed) == 3 and parsed[0]["姓名"] == "'=1+2"


def test_the_sheet_opens_with_openpyxl_and_holds_the_cells_as_text() -> None:
    head = site_exports.header(site_exports.LOG_HEADER, Locale.ZH_CN)
    sheet = site_exports.Sheet("进出记录", head)
    sheet.append([site_exports.log_row(ENTRY, Locale.ZH_CN, whole_ids=False)])
    book = openpyxl.load_workbook(io.BytesIO(sheet.bytes()))
    ws = book["进出记录"]
    assert [c.value for c in ws[1]] == list(head)
    name = ws.cell(row=2, column=7)
    assert (name.value, name.data_type) == ("'=1+2", "s")  # text, not a formula
