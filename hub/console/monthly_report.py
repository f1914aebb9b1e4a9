"""The monthly report (按月汇总报市建委) as a document: who issues it (a district bureau, or the city
station), for which month on the Beijing calendar, the month's figures (per district, per
project) and the issuing districts' contacts (the notice's annex), in one value that the printable
page, the PDF and the workbook are all made from, so the three say the same.

Pure: figures and contacts in, a :class:`MonthlyReport` out; :func:`workbook` writes it as xlsx
(Chinese headers unless English was asked for; a registry name a spreadsheet would run is
neutralised, as every export of the console does).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from hub.console.i18n import Locale
from hub.console.labels import label, words
from hub.console.site_exports import Row
from hub.oversight.export import neutralise
from hub.workflows.contacts import ContactRole, DistrictContact, by_role
from hub.workflows.records import DistrictMonth, ProjectMonth
from wire.labels import Text


@dataclass(frozen=True, slots=True)
class DistrictContacts:
    """One district's annex, every role in order (None where the bureau has not filled it)."""

    district: str
    name: str
    lines: dict[ContactRole, DistrictContact | None]


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    unit: str
    """The issuing unit, in the reader's language."""
    month: date
    """The month's first day."""
    last_day: date
    issued_on: date
    districts: list[DistrictMonth]
    projects: list[ProjectMonth]
    contacts: list[DistrictContacts]

    @property
    def period(self) -> str:
        return self.month.strftime("%Y-%m")


def last_day_of(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def contact_tables(names: dict[str, str], contacts: Sequence[DistrictContact]) -> list[DistrictContacts]:
    """Each district in ``names`` (code -> name, in that order) with its annex lines."""
    return [
        DistrictContacts(code, name, by_role([c for c in contacts if c.district == code]))
        for code, name in names.items()
    ]


UNIT: Final = Text("报送单位", "Issuing unit")
PERIOD: Final = Text("统计期间", "Period")
ISSUED: Final = Text("报送日期", "Date")
DISTRICT_HEADER: Final = (
    Text("区县", "District"),
    Text("有施工许可的项目", "Projects with a permit"),
    Text("已报备项目", "Projects registered (报备)"),
    Text("本月登记人员", "Persons registered"),
    Text("出勤人天", "Person-days"),
    Text("在场小时", "Hours on site"),
    Text("管理人员到岗人天", "Manager-days"),
    Text("整改通知", "Orders issued"),
    Text("逾期未整改", "Overdue"),
    Text("信用扣分次数", "Deductions"),
    Text("扣分", "Points"),
)
PROJECT_HEADER: Final = (
    Text("项目", "Project"),
    Text("区县", "District"),
    Text("已报备", "Registered (报备)"),
    Text("在册人员", "Assigned"),
    Text("本月新进场", "New"),
    Text("出勤人数", "Attended"),
    Text("出勤人天", "Person-days"),
    Text("在场小时", "Hours on site"),
    Text("管理人员", "Managers"),
    Text("管理人员到岗", "Managers present"),
    Text("管理人员到岗人天", "Manager-days"),
    Text("整改通知", "Orders issued"),
    Text("逾期未整改", "Overdue"),
    Text("信用扣分次数", "Deductions"),
    Text("扣分", "Points"),
)
CONTACT_HEADER: Final = (
    Text("区县", "District"),
    Text("职责", "Role"),
    Text("姓名", "Name"),
    Text("职务", "Title"),
    Text("联系电话", "Phone"),
)
YES: Final = Text("是", "yes")
NO: Final = Text("否", "no")


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


def district_row(d: DistrictMonth) -> Row:
    return (
        neutralise(d.name),
        d.projects_with_permit,
        d.projects_registered,
        d.persons_registered,
        d.person_days,
        _hours(d.seconds_on_site),
        d.manager_days,
        d.orders_issued,
        d.orders_open_overdue,
        d.deductions,
        d.points_deducted,
    )


def project_row(p: ProjectMonth, district_names: dict[str, str], locale: Locale) -> Row:
    return (
        neutralise(p.name),
        neutralise(district_names.get(p.district, p.district)),
        words(YES if p.registered else NO, locale),
        p.persons_assigned,
        p.new_assignments,
        p.persons_attended,
        p.person_days,
        _hours(p.seconds_on_site),
        p.managers_assigned,
        p.managers_present,
        p.manager_days,
        p.orders_issued,
        p.orders_open_overdue,
        p.deductions,
        p.points_deducted,
    )


def contact_rows(table: DistrictContacts, locale: Locale) -> list[Row]:
    return [
        (
            neutralise(table.name),
            label(locale, "contact_role", role),
            neutralise(line.name) if line else "",
            neutralise(line.title) if line else "",
            neutralise(line.phone) if line else "",
        )
        for role, line in table.lines.items()
    ]


def _header(columns: Sequence[Text], locale: Locale) -> Row:
    return tuple(words(column, locale) for column in columns)


def workbook(report: MonthlyReport, title: str, locale: Locale) -> bytes:
    """The report as one worksheet: its heading lines, then each table under its header row."""
    from openpyxl import Workbook  # here, not at the top: 0.2 s of every hub process's start
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its one sheet
    sheet.title = report.period
    bold = Font(bold=True)
    sheet.append((title,))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append((words(UNIT, locale), neutralise(report.unit)))
    sheet.append((words(PERIOD, locale), f"{report.month.isoformat()} – {report.last_day.isoformat()}"))
    sheet.append((words(ISSUED, locale), report.issued_on.isoformat()))
    names = {d.district: d.name for d in report.districts}
    tables: list[tuple[Sequence[Text], list[Row]]] = [
        (DISTRICT_HEADER, [district_row(d) for d in report.districts]),
        (PROJECT_HEADER, [project_row(p, names, locale) for p in report.projects]),
        (CONTACT_HEADER, [row for table in report.contacts for row in contact_rows(table, locale)]),
    ]
    for columns, rows in tables:
        sheet.append(())
        sheet.append(_header(columns, locale))
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
